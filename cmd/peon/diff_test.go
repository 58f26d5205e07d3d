package main

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/gitwork"
)

// TestThreadDiff checkpoints a real turn in a real repository, as a host
// does, and reads its diff back with `peon thread diff`.
func TestThreadDiff(t *testing.T) {
	home := t.TempDir()
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "t@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "t@example.com"} {
		t.Setenv(k, v)
	}
	dir := t.TempDir()
	git := func(args ...string) {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	writeFile := func(name, content string) {
		t.Helper()
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	git("init", "--quiet")
	writeFile("README", "hello\n")
	git("add", "-A")
	git("commit", "--quiet", "-m", "initial")

	s, url := startStack(t)
	ctx := context.Background()
	p := s.Send(t, domain.CreateProject{Name: "diffs", Path: dir})
	th := s.Send(t, domain.CreateThread{ProjectID: p.ProjectID})
	turn := s.Send(t, domain.StartTurn{ThreadID: th.ThreadID, Text: "add main"}).TurnID
	cp, err := gitwork.NewCheckpointer(ctx, s.NC)
	if err != nil {
		t.Fatal(err)
	}
	info := gitwork.TurnInfo{ProjectID: p.ProjectID, ThreadID: th.ThreadID, TurnID: turn, Dir: dir, First: true}
	if err := cp.BeforeTurn(ctx, info); err != nil {
		t.Fatal(err)
	}
	writeFile("main.go", "package main\n\nfunc main() {}\n")
	writeFile("README", "hello\nworld\n")
	s.Publish(t, th.ThreadID, turn, "1", domain.TurnComplete{StopReason: "end_turn"})
	waitOutput(t, func() string {
		return inProcess(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: at(url)}).out
	}, "status Idle")
	if err := cp.AfterTurn(ctx, info); err != nil {
		t.Fatal(err)
	}
	env := at(url)
	inv := func(args ...string) invocation { return invocation{args: args, env: env} }
	// Without a turn: the last checkpointed one, once the record shows it.
	waitOutput(t, func() string { return inProcess(t, inv("thread", "diff", th.ThreadID)).out }, "turn "+turn)
	verify(t, []check{
		{invocation: inv("thread", "diff", th.ThreadID, turn), code: 0,
			wantOut: []string{"turn " + turn + ": 2 file(s) changed, +4 -0", "added     +3 -0         main.go", "+func main() {}"}},
		{invocation: inv("thread", "diff", th.ThreadID), code: 0, wantOut: []string{"modified  +1 -0         README", "+world"}},
		{invocation: inv("thread", "diff", th.ThreadID, turn, "--json"), code: 0, wantOut: []string{`"truncated": false`, `"kind": "added"`}},
		{invocation: inv("thread", "diff", th.ThreadID, "nope"), code: exitFailed, want: []string{"turn_not_found"}},
		{invocation: inv("thread", "diff", "bad.id"), code: exitUsage, want: []string{"not a valid id"}},
		{invocation: inv("thread", "show", th.ThreadID), code: 0, wantOut: []string{"checkpoint ", "· 2 file(s), +4 -0 · peon thread diff " + th.ThreadID + " " + turn}},
	})
}
