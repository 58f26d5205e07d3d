package workspace

import (
	"bytes"
	"context"
	"fmt"
	"strconv"

	"github.com/peonhq/peon/pkg/domain"
)

// diffFlags make diffs independent of the user's diff configuration:
// renames detected (git's default 50 % similarity), no external diff
// drivers or text conversion, no colour.
var diffFlags = []string{"--no-color", "--no-ext-diff", "--no-textconv", "-M"}

// Changes lists what changed between two commits, file by file: the kind
// (added, modified, deleted, renamed; a type change counts as modified),
// and the lines added and deleted as `git diff --numstat` counts them. A
// binary file has Binary set and both counts 0: git counts no lines in
// it. Paths are relative to the work tree's root, in git's order.
func (r *Repo) Changes(ctx context.Context, from, to string) ([]domain.FileChange, error) {
	status, err := r.git(ctx, append(append([]string{"diff", "-z", "--name-status"}, diffFlags...), from, to, "--")...)
	if err != nil {
		return nil, err
	}
	numstat, err := r.git(ctx, append(append([]string{"diff", "-z", "--numstat"}, diffFlags...), from, to, "--")...)
	if err != nil {
		return nil, err
	}
	return ParseChanges(status, numstat)
}

// ParseChanges joins the outputs of `git diff -z --name-status` and `git
// diff -z --numstat` (same commits, same flags) into file changes. Output
// that is not in git's format is an error, never a partial list.
func ParseChanges(nameStatus, numstat []byte) ([]domain.FileChange, error) {
	var files []domain.FileChange
	index := map[string]int{}
	fields := splitNUL(nameStatus)
	for i := 0; i < len(fields); {
		code := fields[i]
		if code == "" {
			return nil, fmt.Errorf("name-status: empty status at field %d", i)
		}
		var f domain.FileChange
		switch code[0] {
		case 'A', 'C':
			f.Kind = domain.FileAdded
		case 'M', 'T':
			f.Kind = domain.FileModified
		case 'D':
			f.Kind = domain.FileDeleted
		case 'R':
			f.Kind = domain.FileRenamed
		default:
			return nil, fmt.Errorf("name-status: unknown status %q", code)
		}
		paths := 1
		if code[0] == 'R' || code[0] == 'C' {
			paths = 2
		}
		if i+paths >= len(fields) {
			return nil, fmt.Errorf("name-status: status %q without its path", code)
		}
		if paths == 2 {
			f.Path = fields[i+2]
			if code[0] == 'R' {
				f.OldPath = fields[i+1]
			}
		} else {
			f.Path = fields[i+1]
		}
		if f.Path == "" {
			return nil, fmt.Errorf("name-status: empty path for status %q", code)
		}
		if _, dup := index[f.Path]; dup {
			return nil, fmt.Errorf("name-status: %s listed twice", f.Path)
		}
		index[f.Path] = len(files)
		files = append(files, f)
		i += 1 + paths
	}
	fields = splitNUL(numstat)
	for i := 0; i < len(fields); {
		counts, path, ok := cut2(fields[i])
		if !ok {
			return nil, fmt.Errorf("numstat: %q is not <added>\\t<deleted>\\t<path>", fields[i])
		}
		i++
		if path == "" { // a rename: the old and new paths follow
			if i+1 >= len(fields) {
				return nil, fmt.Errorf("numstat: rename without its paths")
			}
			path = fields[i+1]
			i += 2
		}
		at, known := index[path]
		if !known {
			return nil, fmt.Errorf("numstat: %s is not in the name-status list", path)
		}
		if counts[0] == "-" && counts[1] == "-" {
			files[at].Binary = true
			continue
		}
		add, err1 := strconv.ParseInt(counts[0], 10, 64)
		del, err2 := strconv.ParseInt(counts[1], 10, 64)
		if err1 != nil || err2 != nil || add < 0 || del < 0 {
			return nil, fmt.Errorf("numstat: bad counts %q %q for %s", counts[0], counts[1], path)
		}
		files[at].Additions, files[at].Deletions = add, del
	}
	return files, nil
}

// cut2 splits "<a>\t<b>\t<rest>".
func cut2(s string) ([2]string, string, bool) {
	a, rest, ok1 := cutTab(s)
	b, rest, ok2 := cutTab(rest)
	return [2]string{a, b}, rest, ok1 && ok2 && a != "" && b != ""
}

func cutTab(s string) (string, string, bool) {
	i := bytes.IndexByte([]byte(s), '\t')
	if i < 0 {
		return s, "", false
	}
	return s[:i], s[i+1:], true
}

// splitNUL splits NUL-terminated fields (a trailing NUL ends the last).
func splitNUL(b []byte) []string {
	b = bytes.TrimSuffix(b, []byte{0})
	if len(b) == 0 {
		return nil
	}
	parts := bytes.Split(b, []byte{0})
	out := make([]string, len(parts))
	for i, p := range parts {
		out[i] = string(p)
	}
	return out
}

// DefaultDiffLimit is where a turn's unified diff is cut: 512 KiB, so the
// diff, its file list and the envelope of a reply fit NATS's default 1 MiB
// message size.
const DefaultDiffLimit = 512 << 10

// Diff returns the unified diff between two commits (binary files as git's
// "Binary files ... differ" line), cut at limit bytes (DefaultDiffLimit
// when limit <= 0) at the end of the last whole line that fits, with
// truncated set when anything was cut.
func (r *Repo) Diff(ctx context.Context, from, to string, limit int) (diff string, truncated bool, err error) {
	if limit <= 0 {
		limit = DefaultDiffLimit
	}
	out := &capped{limit: limit}
	var stderr bytes.Buffer
	args := append(append([]string{"diff"}, diffFlags...), from, to, "--")
	if err := runTo(ctx, r.root, nil, out, &stderr, args...); err != nil {
		return "", false, err
	}
	text := out.buf.Bytes()
	if out.over {
		if i := bytes.LastIndexByte(text, '\n'); i >= 0 {
			text = text[:i+1]
		} else {
			text = nil
		}
	}
	return string(text), out.over, nil
}

// capped keeps the first limit bytes written and notes that more came,
// draining the rest so git never blocks on a full pipe.
type capped struct {
	buf   bytes.Buffer
	limit int
	over  bool
}

func (c *capped) Write(p []byte) (int, error) {
	room := c.limit - c.buf.Len()
	if len(p) > room {
		c.over = true
		if room > 0 {
			c.buf.Write(p[:room])
		}
		return len(p), nil
	}
	c.buf.Write(p)
	return len(p), nil
}
