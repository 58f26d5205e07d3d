// Package gittest is what tests that run the git CLI share: git cut off
// from the machine's configuration, git run in a directory, files
// written and read, and a repository with a bare origin.
package gittest

import (
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Isolate makes git in this test ignore the machine's configuration and
// gives it an identity, so the tests run the same everywhere.
func Isolate(t testing.TB) {
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

// Run runs git in dir and returns its trimmed stdout, failing the test
// (with git's stderr) on error.
func Run(t testing.TB, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			msg = string(ee.Stderr)
		}
		t.Fatalf("git %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out))
}

// Write writes a file below dir (name in slash form), making its
// directories.
func Write(t testing.TB, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// Read reads a file below dir; false when it does not exist.
func Read(t testing.TB, dir, name string) (string, bool) {
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

// NewRepo makes a work tree <name> on branch main with files committed
// as "initial", and a bare repository <name>.git beside it as its origin;
// it returns both directories.
func NewRepo(t testing.TB, name string, files map[string]string) (dir, origin string) {
	t.Helper()
	base := t.TempDir()
	dir, origin = filepath.Join(base, name), filepath.Join(base, name+".git")
	Run(t, base, "init", "--quiet", "--bare", "--initial-branch=main", origin)
	Run(t, base, "init", "--quiet", "--initial-branch=main", dir)
	for path, content := range files {
		Write(t, dir, path, content)
	}
	Run(t, dir, "add", "-A")
	Run(t, dir, "commit", "--quiet", "-m", "initial")
	Run(t, dir, "remote", "add", "origin", origin)
	return dir, origin
}
