package main

import (
	"context"
	"testing"

	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/gitwork"
)

// TestThreadDiff checkpoints a real turn in a real repository, as a host
// does, and reads its diff back with `peon thread diff`.
func TestThreadDiff(t *testing.T) {
	gittest.Isolate(t)
	dir, _ := gittest.NewRepo(t, "work", map[string]string{"README": "hello\n"})

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
	gittest.Write(t, dir, "main.go", "package main\n\nfunc main() {}\n")
	gittest.Write(t, dir, "README", "hello\nworld\n")
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
