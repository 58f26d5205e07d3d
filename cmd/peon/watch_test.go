package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// background runs the CLI in-process until it returns or cancel is called;
// output reads what it printed so far.
type background struct {
	out, errOut *lockedWriter
	outBuf      *bytes.Buffer
	errBuf      *bytes.Buffer
	cancel      context.CancelFunc
	done        chan int
}

func runBackground(url string, args ...string) *background {
	b := &background{outBuf: &bytes.Buffer{}, errBuf: &bytes.Buffer{}, done: make(chan int, 1)}
	b.out, b.errOut = &lockedWriter{w: b.outBuf}, &lockedWriter{w: b.errBuf}
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	env := &environment{getenv: func(k string) string { return at(url)[k] }, stdin: strings.NewReader(""), stdout: b.out, stderr: b.errOut}
	go func() { b.done <- exitCode(runEnv(ctx, args, env), env.stderr) }()
	return b
}

func (b *background) output() string {
	b.out.mu.Lock()
	defer b.out.mu.Unlock()
	return b.outBuf.String()
}

func (b *background) stderr() string {
	b.errOut.mu.Lock()
	defer b.errOut.mu.Unlock()
	return b.errBuf.String()
}

// exited waits for the command to end by itself.
func (b *background) exited(t *testing.T, within time.Duration) int {
	t.Helper()
	select {
	case code := <-b.done:
		return code
	case <-time.After(within):
		b.cancel()
		t.Fatalf("still running after %s:\n%s", within, b.output())
		return -1
	}
}

// TestThreadWatch follows a turn as an agent streams it: the transcript so
// far, new text, a tool call, an approval with its request_id and the
// command that answers it; it ends by itself when the turn ends.
func TestThreadWatch(t *testing.T) {
	s, url := startStack(t)
	r := runners[0]
	env := at(url)
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=watched", "path=/watched"}, env: env})
	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID, "title=watched"}, env: env})
	tu := send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=hello"}, env: env})
	s.Publish(t, th.ThreadID, tu.TurnID, "1", domain.TextDelta{MessageID: "a", Delta: "before the watch. "})
	waitOutput(t, func() string {
		return inProcess(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	}, "before the watch.")

	w := runBackground(url, "thread", "watch", th.ThreadID)
	waitOutput(t, w.output, "--- watching turn "+tu.TurnID)
	s.Publish(t, th.ThreadID, tu.TurnID, "2", domain.TextDelta{MessageID: "a", Delta: "Streamed while watched."})
	s.Publish(t, th.ThreadID, tu.TurnID, "3", domain.ToolCall{ToolCallID: "tc1", Name: "bash", Input: map[string]any{"command": "go test ./..."}})
	s.Publish(t, th.ThreadID, tu.TurnID, "4", domain.AwaitingApproval{RequestID: "req-1", ToolCallID: "tc1", Kind: "command", Description: "run go test ./..."})
	waitOutput(t, w.output, "request_id req-1")
	send(t, r, invocation{args: []string{"cmd", "action.approve", "thread_id=" + th.ThreadID, "request_id=req-1"}, env: env})
	s.Publish(t, th.ThreadID, tu.TurnID, "5", domain.ToolResult{ToolCallID: "tc1", Output: "ok  \tpeon\t0.42s"})
	s.Publish(t, th.ThreadID, tu.TurnID, "6", domain.TextDelta{MessageID: "b", Delta: "A second message."})
	s.Publish(t, th.ThreadID, tu.TurnID, "7", domain.TurnComplete{StopReason: "end_turn"})
	if code := w.exited(t, 10*time.Second); code != 0 {
		t.Fatalf("watch: exit %d\n%s%s", code, w.output(), w.stderr())
	}
	got := w.output()
	for _, want := range []string{"before the watch.", "Streamed while watched.", "▸ tool bash command=\"go test ./...\"",
		"! approval needed: run go test ./... (command)  request_id req-1",
		"approve: peon cmd action.approve thread_id=" + th.ThreadID + " request_id=req-1",
		"approval approved: request_id req-1", "→ completed", "ok  \tpeon", "[assistant]\nA second message.",
		"── turn " + tu.TurnID + " completed (end_turn)"} {
		if !strings.Contains(got, want) {
			t.Errorf("watch output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "before the watch.") != 1 {
		t.Errorf("text printed twice:\n%s", got)
	}
	if strings.Contains(got, "\033[") {
		t.Errorf("colour codes written to a non-terminal:\n%q", got)
	}

	// A pending approval shows in thread show, with the command to answer it.
	tu2 := send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=again"}, env: env})
	s.Publish(t, th.ThreadID, tu2.TurnID, "t2-1", domain.ToolCall{ToolCallID: "tc2", Name: "edit", Input: map[string]any{"file": "a.go"}})
	s.Publish(t, th.ThreadID, tu2.TurnID, "t2-2", domain.AwaitingApproval{RequestID: "req-2", ToolCallID: "tc2", Description: "edit a.go"})
	waitOutput(t, func() string {
		return inProcess(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	},
		"approve: peon cmd action.approve thread_id="+th.ThreadID+" request_id=req-2")
	show := inProcess(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	for _, want := range []string{"status AwaitingApproval", "▸ tool edit file=\"a.go\"", "! approval needed: edit a.go  request_id req-2", "approval approved: run go test"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
}

// TestThreadWatchFollow: with --follow the watch stays after the turn ends
// and shows the next one; it stops when interrupted.
func TestThreadWatchFollow(t *testing.T) {
	s, url := startStack(t)
	r := runners[0]
	env := at(url)
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=f", "path=/f"}, env: env})
	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID}, env: env})
	waitOutput(t, func() string {
		return inProcess(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	}, "status Idle")
	w := runBackground(url, "thread", "watch", th.ThreadID, "--follow")
	waitOutput(t, w.output, "--- watching every turn")
	for i, text := range []string{"first turn's text", "second turn's text"} {
		tu := send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=go"}, env: env})
		s.Publish(t, th.ThreadID, tu.TurnID, tu.TurnID+"-1", domain.TextDelta{MessageID: "m" + tu.TurnID, Delta: text})
		s.Publish(t, th.ThreadID, tu.TurnID, tu.TurnID+"-2", domain.TurnComplete{StopReason: "end_turn"})
		waitOutput(t, w.output, text)
		if i == 0 {
			select {
			case code := <-w.done:
				t.Fatalf("--follow ended with the turn: exit %d", code)
			case <-time.After(300 * time.Millisecond):
			}
		}
	}
	w.cancel()
	if code := w.exited(t, 5*time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if strings.Count(w.output(), "[user]\ngo") != 2 {
		t.Errorf("both prompts not shown:\n%s", w.output())
	}
}
