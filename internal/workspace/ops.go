package workspace

import (
	"bytes"
	"context"
	"fmt"
	"strings"
)

// Outcome is what a git operation left: the commit it made or HEAD/the
// branch points at, git's output, and whether an earlier attempt of the
// same operation had already done it (this attempt changed nothing).
type Outcome struct {
	SHA     string
	Output  string
	Already bool
}

// OperationTrailer is the commit trailer that names the operation a
// commit was made for, so a redelivered operation finds its commit.
const OperationTrailer = "Peon-Operation"

// operationSearchDepth is how far back in HEAD's history Commit looks for
// an earlier commit of the same operation: a redelivery comes within
// seconds, long before 100 more commits.
const operationSearchDepth = 100

// operationRef is where CreateBranch records, before creating the branch,
// the commit an operation creates it at.
func operationRef(key string) string { return "refs/peon/operations/" + key }

// Commit stages everything (`git add -A`) and commits it with message and
// a trailer "Peon-Operation: <key>", with the user's identity and hooks.
// If one of HEAD's last 100 commits already carries that trailer, the
// operation was done before (a redelivery, or a host that died before
// recording it): that commit is returned with Already set and nothing is
// committed. Nothing to commit is a *GitError with git's message.
func (r *Repo) Commit(ctx context.Context, message, key string) (Outcome, error) {
	if key != "" {
		if sha, err := r.findOperationCommit(ctx, key); err != nil || sha != "" {
			return Outcome{SHA: sha, Output: "already committed as " + sha, Already: true}, err
		}
	}
	if _, err := r.git(ctx, "add", "--all", "--", ":/"); err != nil {
		return Outcome{}, err
	}
	args := []string{"commit", "-m", message}
	if key != "" {
		args = append(args, "-m", OperationTrailer+": "+key)
	}
	out, err := r.git(ctx, args...)
	if err != nil {
		return Outcome{}, err
	}
	sha, err := r.Resolve(ctx, "HEAD")
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{SHA: sha, Output: strings.TrimSpace(string(out))}, nil
}

// findOperationCommit returns the commit among HEAD's last
// operationSearchDepth whose trailer names key, or "".
func (r *Repo) findOperationCommit(ctx context.Context, key string) (string, error) {
	head, err := r.ResolveOptional(ctx, "HEAD")
	if err != nil || head == "" {
		return "", err
	}
	out, err := r.git(ctx, "log", "-z", fmt.Sprintf("--max-count=%d", operationSearchDepth),
		"--format=%H %(trailers:key="+OperationTrailer+",valueonly,separator=%x01)", head, "--")
	if err != nil {
		return "", err
	}
	for _, entry := range splitNUL(out) {
		sha, values, _ := strings.Cut(entry, " ")
		for _, v := range strings.Split(strings.TrimSpace(values), "\x01") {
			if strings.TrimSpace(v) == key {
				return sha, nil
			}
		}
	}
	return "", nil
}

// CreateBranch creates branch name at base (HEAD when empty) and switches
// to it (`git switch -c`), keeping the working tree's changes. Before
// creating it, it records the commit under refs/peon/operations/<key>:
// a redelivered operation that finds both that ref and the branch was done
// before and returns the branch's commit with Already set. A branch that
// already existed before the operation is a *GitError with git's message
// ("a branch named ... already exists").
func (r *Repo) CreateBranch(ctx context.Context, name, base, key string) (Outcome, error) {
	branchRef := "refs/heads/" + name
	existing, err := r.ResolveOptional(ctx, branchRef)
	if err != nil {
		return Outcome{}, err
	}
	intent := ""
	if key != "" {
		if intent, err = r.ResolveOptional(ctx, operationRef(key)); err != nil {
			return Outcome{}, err
		}
	}
	if intent != "" && existing != "" {
		return Outcome{SHA: existing, Output: "branch " + name + " already created at " + existing, Already: true}, nil
	}
	at := intent // a previous attempt recorded where, and died before creating it
	if at == "" {
		if base == "" {
			base = "HEAD"
		}
		if at, err = r.Resolve(ctx, base); err != nil {
			return Outcome{}, err
		}
		if existing == "" && key != "" {
			if err := r.SetRef(ctx, operationRef(key), at); err != nil {
				return Outcome{}, err
			}
		}
	}
	out, err := r.combined(ctx, "switch", "-c", name, at)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{SHA: at, Output: out}, nil
}

// Push pushes branch to remote ("origin" when empty). Git itself makes a
// repeated push harmless: when the remote already has the branch at that
// commit it reports "Everything up-to-date" and succeeds. A refused push
// (not a fast-forward, a hook, no credentials) is a *GitError with git's
// message.
func (r *Repo) Push(ctx context.Context, remote, branch string) (Outcome, error) {
	if remote == "" {
		remote = "origin"
	}
	sha, err := r.Resolve(ctx, "refs/heads/"+branch)
	if err != nil {
		return Outcome{}, err
	}
	out, err := r.combined(ctx, "push", "--", remote, "refs/heads/"+branch+":refs/heads/"+branch)
	if err != nil {
		return Outcome{}, err
	}
	return Outcome{SHA: sha, Output: out, Already: strings.Contains(out, "Everything up-to-date")}, nil
}

// combined runs git and returns what it printed on both outputs, for
// commands (switch, push) that report progress on stderr.
func (r *Repo) combined(ctx context.Context, args ...string) (string, error) {
	var stdout, stderr bytes.Buffer
	if err := runTo(ctx, r.root, nil, &stdout, &stderr, args...); err != nil {
		return "", err
	}
	return strings.TrimSpace(stdout.String() + stderr.String()), nil
}
