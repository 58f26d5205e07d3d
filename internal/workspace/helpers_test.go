package workspace_test

import (
	"context"
	"testing"

	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/internal/workspace"
)

// newRepo makes a repository with one commit (README, keep.txt,
// .gitignore ignoring *.log), a bare repository as its origin, and
// returns the work tree's directory and the origin's.
func newRepo(t *testing.T) (dir, origin string) {
	t.Helper()
	gittest.Isolate(t)
	return gittest.NewRepo(t, "work", map[string]string{"README": "hello\nworld\n", "keep.txt": "one\ntwo\nthree\n", ".gitignore": "*.log\n"})
}

func open(t *testing.T, dir string) *workspace.Repo {
	t.Helper()
	r, err := workspace.Open(context.Background(), dir)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// gitState is what a snapshot or restore must leave alone.
type gitState struct{ head, branch, staged, branches string }

func stateOf(t *testing.T, dir string) gitState {
	t.Helper()
	return gitState{
		head:     gittest.Run(t, dir, "rev-parse", "HEAD"),
		branch:   gittest.Run(t, dir, "symbolic-ref", "HEAD"),
		staged:   gittest.Run(t, dir, "diff", "--cached", "--name-status"),
		branches: gittest.Run(t, dir, "for-each-ref", "refs/heads"),
	}
}
