package workspace

import (
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Repo is a git working tree: the repository whose work tree contains the
// directory it was opened on. Its methods are safe to call one at a time;
// callers serialise work on one repository (as the host does per project).
type Repo struct {
	root string // the work tree's top-level directory
}

// Open opens the repository whose work tree holds dir. A directory that is
// not in a git work tree is a *GitError with git's message ("not a git
// repository ...").
func Open(ctx context.Context, dir string) (*Repo, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, &GitError{Args: []string{"rev-parse"}, Message: err.Error(), ExitCode: -1}
	}
	out, err := run(ctx, dir, nil, "rev-parse", "--show-toplevel")
	if err != nil {
		return nil, err
	}
	root := strings.TrimSpace(string(out))
	if root == "" {
		return nil, &GitError{Args: []string{"rev-parse"}, Message: dir + " is not inside a work tree (a bare repository?)"}
	}
	return &Repo{root: root}, nil
}

// Root is the work tree's top-level directory.
func (r *Repo) Root() string { return r.root }

func (r *Repo) git(ctx context.Context, args ...string) ([]byte, error) {
	return run(ctx, r.root, nil, args...)
}

func (r *Repo) gitEnv(ctx context.Context, env []string, args ...string) ([]byte, error) {
	return run(ctx, r.root, env, args...)
}

// Resolve returns the commit a ref or object name names, or a *GitError
// ("fatal: Needed a single revision") when it names none: a checkpoint
// whose ref was deleted, say.
func (r *Repo) Resolve(ctx context.Context, name string) (string, error) {
	out, err := r.git(ctx, "rev-parse", "--verify", "--end-of-options", name+"^{commit}")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// ResolveOptional is Resolve that reports a name naming no commit as ""
// and no error.
func (r *Repo) ResolveOptional(ctx context.Context, name string) (string, error) {
	out, err := r.git(ctx, "rev-parse", "--verify", "--quiet", "--end-of-options", name+"^{commit}")
	if err != nil {
		var ge *GitError
		if errors.As(err, &ge) && ge.ExitCode == 1 {
			return "", nil
		}
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// EmptyTree is the id of the empty tree in this repository's object
// format (SHA-1 or SHA-256): what a diff compares against when there is no
// earlier snapshot.
func (r *Repo) EmptyTree(ctx context.Context) (string, error) {
	out, err := r.git(ctx, "hash-object", "-t", "tree", "--stdin")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// SetRef points ref at commit.
func (r *Repo) SetRef(ctx context.Context, ref, commit string) error {
	_, err := r.git(ctx, "update-ref", ref, commit)
	return err
}

// snapshotIdentity authors and commits snapshot commits, so a host whose git has no
// user.name or user.email configured can still take checkpoints. Commits
// the user asks for (Commit) use the user's own identity.
var snapshotIdentity = []string{
	"GIT_AUTHOR_NAME=Peon", "GIT_AUTHOR_EMAIL=peon@localhost",
	"GIT_COMMITTER_NAME=Peon", "GIT_COMMITTER_EMAIL=peon@localhost",
}

// tempIndex is a private index file for building a tree of the working
// tree without touching the user's index. It starts as a copy of the
// user's index, so git reuses its cached file stats and only re-reads
// files that changed (the speed of `git status`).
type tempIndex struct {
	dir  string
	path string
}

func (r *Repo) newTempIndex(ctx context.Context) (*tempIndex, error) {
	dir, err := os.MkdirTemp("", "peon-index-")
	if err != nil {
		return nil, err
	}
	ti := &tempIndex{dir: dir, path: filepath.Join(dir, "index")}
	out, err := r.git(ctx, "rev-parse", "--path-format=absolute", "--git-path", "index")
	if err != nil {
		ti.close()
		return nil, err
	}
	if err := copyFile(strings.TrimSpace(string(out)), ti.path); err != nil && !errors.Is(err, os.ErrNotExist) {
		ti.close()
		return nil, err
	}
	return ti, nil
}

func (ti *tempIndex) env(extra ...string) []string {
	return append([]string{"GIT_INDEX_FILE=" + ti.path}, extra...)
}

func (ti *tempIndex) close() { _ = os.RemoveAll(ti.dir) }

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}

// workingTree writes the tree of the whole working tree, as `git add -A`
// sees it (tracked and untracked files; ignored ones left out), into the
// temporary index and returns the tree's id.
func (r *Repo) workingTree(ctx context.Context, ti *tempIndex) (string, error) {
	if _, err := r.gitEnv(ctx, ti.env(), "add", "--all", "--", ":/"); err != nil {
		return "", err
	}
	out, err := r.gitEnv(ctx, ti.env(), "write-tree")
	if err != nil {
		return "", err
	}
	return strings.TrimSpace(string(out)), nil
}

// Snapshot records the whole working tree (tracked and untracked files,
// ignored ones left out) as a commit and points ref at it. The commit's
// parent is parent when given (the previous snapshot, so a thread's
// snapshots form a history), else HEAD (none in a repository without
// commits). The user's index, HEAD and branches are not changed: the tree
// is built in a temporary index (GIT_INDEX_FILE).
func (r *Repo) Snapshot(ctx context.Context, ref, parent string) (string, error) {
	ti, err := r.newTempIndex(ctx)
	if err != nil {
		return "", err
	}
	defer ti.close()
	tree, err := r.workingTree(ctx, ti)
	if err != nil {
		return "", err
	}
	if parent == "" {
		if parent, err = r.ResolveOptional(ctx, "HEAD"); err != nil {
			return "", err
		}
	}
	args := []string{"commit-tree", tree, "-m", "peon checkpoint " + ref}
	if parent != "" {
		args = append(args, "-p", parent)
	}
	out, err := r.gitEnv(ctx, snapshotIdentity, args...)
	if err != nil {
		return "", err
	}
	commit := strings.TrimSpace(string(out))
	if err := r.SetRef(ctx, ref, commit); err != nil {
		return "", err
	}
	return commit, nil
}
