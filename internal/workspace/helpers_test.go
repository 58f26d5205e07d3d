package workspace_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/workspace"
)

// isolateGit makes git in this test ignore the machine's configuration
// and gives it an identity, so the tests run the same everywhere.
func isolateGit(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, "gitconfig"))
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"} {
		t.Setenv(k, v)
	}
}

// gitIn runs git in dir and returns its trimmed stdout, failing the test
// on error.
func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("git %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out))
}

// newRepo makes a repository with one commit (README, keep.txt,
// .gitignore ignoring *.log), a bare repository as its origin, and
// returns the work tree's directory and the origin's.
func newRepo(t *testing.T) (dir, origin string) {
	t.Helper()
	isolateGit(t)
	base := t.TempDir()
	dir, origin = filepath.Join(base, "work"), filepath.Join(base, "origin.git")
	gitIn(t, base, "init", "--quiet", "--bare", "--initial-branch=main", origin)
	gitIn(t, base, "init", "--quiet", "--initial-branch=main", dir)
	write(t, dir, "README", "hello\nworld\n")
	write(t, dir, "keep.txt", "one\ntwo\nthree\n")
	write(t, dir, ".gitignore", "*.log\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "--quiet", "-m", "initial")
	gitIn(t, dir, "remote", "add", "origin", origin)
	return dir, origin
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
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
		head:     gitIn(t, dir, "rev-parse", "HEAD"),
		branch:   gitIn(t, dir, "symbolic-ref", "HEAD"),
		staged:   gitIn(t, dir, "diff", "--cached", "--name-status"),
		branches: gitIn(t, dir, "for-each-ref", "refs/heads"),
	}
}
