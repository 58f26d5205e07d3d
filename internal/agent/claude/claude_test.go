package claude

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

const (
	fakeSession = "6f1c1b52-0d5e-4a3e-9a57-3f1c2d4e5a60"
	fakeModel   = "claude-sonnet-4-5-20250929"
)

var fakeUsage = domain.Usage{InputTokens: 12, OutputTokens: 7, CacheReadTokens: 100, CacheWriteTokens: 50, CostUSD: 0.0123}

func TestTextStreamedFromPartials(t *testing.T) {
	t.Parallel()
	prompt := "say \"hi\" <b>&</b>\nthen stop"
	f := startTurn(t, "text", agent.TurnRequest{Prompt: prompt, Model: "claude-opus-4-1"}, Config{},
		"FAKECLAUDE_EXPECT_PROMPT="+prompt, "FAKECLAUDE_EXPECT_MODEL=claude-opus-4-1")
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: "claude-opus-4-1"},
		domain.TextDelta{MessageID: "msg_text1", Delta: "Hel"},
		domain.TextDelta{MessageID: "msg_text1", Delta: "lo, "},
		domain.TextDelta{MessageID: "msg_text1", Delta: "world."},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
	wantArgv := []string{"-p", "--output-format", "stream-json", "--input-format", "stream-json", "--verbose",
		"--include-partial-messages", "--permission-prompt-tool", "stdio", "--permission-mode", "default", "--model=claude-opus-4-1"}
	if got := f.argv(); !reflect.DeepEqual(got, wantArgv) {
		t.Errorf("argv = %q, want %q", got, wantArgv)
	}
	if got := f.exit(); got != "eof" {
		t.Errorf("fake ended %v, want at the end of its input", got)
	}
}

func TestCompleteMessagesWithoutPartials(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "complete", agent.TurnRequest{}, Config{})
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ThinkingDelta{MessageID: "msg_c1", Delta: "I think."},
		domain.TextDelta{MessageID: "msg_c1", Delta: "First."},
		domain.ToolCall{ToolCallID: "toolu_c1", Name: "Read", Kind: domain.ToolKindFileRead, Input: map[string]any{"file_path": "a.txt"}},
		domain.ToolResult{ToolCallID: "toolu_c1", Output: "line1\nline2"},
		domain.TextDelta{MessageID: "msg_c2", Delta: "Second."},
		// A second text block of one API message reads as its own message.
		domain.TextDelta{MessageID: "msg_c2-1", Delta: "Third."},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
}

func TestThinkingAndAMissedDelta(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "thinking", agent.TurnRequest{}, Config{})
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ThinkingDelta{MessageID: "msg_th", Delta: "Let me "},
		domain.ThinkingDelta{MessageID: "msg_th", Delta: "think."},
		domain.TextDelta{MessageID: "msg_th", Delta: "Answer: "},
		// The stream stopped short of the complete block: the rest is added.
		domain.TextDelta{MessageID: "msg_th", Delta: "4"},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
}

func TestToolUseAndResult(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "tool", agent.TurnRequest{}, Config{})
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.TextDelta{MessageID: "msg_t1", Delta: "Let me look."},
		domain.ToolCall{ToolCallID: "toolu_t1", Name: "Bash", Kind: domain.ToolKindCommand, Input: map[string]any{"command": "ls"}},
		domain.ToolResult{ToolCallID: "toolu_t1", Output: "a.txt\nb.txt"},
		domain.ToolCall{ToolCallID: "toolu_t2", Name: "mcp__github__get_issue", Kind: domain.ToolKindMCP, Input: map[string]any{"number": 7.0}},
		domain.ToolResult{ToolCallID: "toolu_t2", Output: "issue not found", IsError: true},
		domain.TextDelta{MessageID: "msg_t3", Delta: "Done."},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
}

var rmInput = map[string]any{"command": "rm -f build.log", "description": "Remove the log"}

// awaitApproval plays events until the AwaitingApproval and returns it.
func awaitApproval(t *testing.T, f *fixture) domain.AwaitingApproval {
	t.Helper()
	for {
		if a, ok := f.next().(domain.AwaitingApproval); ok {
			return a
		}
	}
}

func TestApprovalAllowed(t *testing.T) {
	t.Parallel()
	idle := 300 * time.Millisecond
	f := startTurn(t, "approve", agent.TurnRequest{}, Config{IdleTimeout: idle})
	a := awaitApproval(t, f)
	// The watchdog is off while a person decides: wait well past it.
	time.Sleep(3 * idle)
	if err := f.turn.Respond("no-such-request", agent.Decision{Allow: true}); err == nil {
		t.Error("Respond to an unknown request: no error")
	}
	if err := f.turn.Respond(a.RequestID, agent.Decision{Allow: true}); err != nil {
		t.Fatal(err)
	}
	if err := f.turn.Respond(a.RequestID, agent.Decision{Allow: true}); err == nil {
		t.Error("second Respond to the same request: no error")
	}
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ToolCall{ToolCallID: "toolu_a1", Name: "Bash", Kind: domain.ToolKindCommand, Input: rmInput},
		domain.AwaitingApproval{RequestID: "perm-1", ToolCallID: "toolu_a1", Kind: domain.ToolKindCommand,
			Description: "Bash: rm -f build.log (Command requires permissions)"},
		domain.ToolResult{ToolCallID: "toolu_a1"},
		domain.TextDelta{MessageID: "msg_a2", Delta: "Removed."},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
	if got := f.exit(); got != "eof" {
		t.Errorf("fake ended %v, want at the end of its input", got)
	}
}

func TestApprovalDenied(t *testing.T) {
	t.Parallel()
	reason := "not on my machine"
	f := startTurn(t, "deny", agent.TurnRequest{}, Config{}, "FAKECLAUDE_EXPECT_REASON="+reason)
	a := awaitApproval(t, f)
	// Claude Code's request id "perm:2" is not a valid Peon id.
	if !domain.ValidID(a.RequestID) || a.RequestID == "perm:2" {
		t.Errorf("request id %q: want a valid id derived from perm:2", a.RequestID)
	}
	if err := f.turn.Respond(a.RequestID, agent.Decision{Reason: reason}); err != nil {
		t.Fatal(err)
	}
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ToolCall{ToolCallID: "toolu_d1", Name: "Bash", Kind: domain.ToolKindCommand, Input: rmInput},
		domain.AwaitingApproval{RequestID: a.RequestID, ToolCallID: "toolu_d1", Kind: domain.ToolKindCommand,
			Description: "Bash: rm -f build.log (Command requires permissions)"},
		domain.ToolResult{ToolCallID: "toolu_d1", Output: reason, IsError: true},
		domain.TextDelta{MessageID: "msg_d2", Delta: "OK, I won't."},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
	if got := f.exit(); got != "eof" {
		t.Errorf("fake ended %v, want at the end of its input", got)
	}
}

func TestFullAccessAsksNobody(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "full-access", agent.TurnRequest{Mode: agent.FullAccess}, Config{}, "FAKECLAUDE_FULL_ACCESS=1")
	input := map[string]any{"file_path": "x.go", "content": "package x\n"}
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ToolCall{ToolCallID: "toolu_f1", Name: "Write", Kind: domain.ToolKindFileChange, Input: input},
		domain.ToolResult{ToolCallID: "toolu_f1", Output: "File created"},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
	if got := f.exit(); got != "eof" {
		t.Errorf("fake ended %v, want at the end of its input", got)
	}
}

func TestResumeTheReportedSession(t *testing.T) {
	t.Parallel()
	first := startTurn(t, "resume", agent.TurnRequest{}, Config{})
	evs := first.wait()
	started, ok := evs[0].(domain.SessionStarted)
	if !ok {
		t.Fatalf("first event %+v, want SessionStarted", evs[0])
	}
	second := startTurn(t, "resume", agent.TurnRequest{SessionID: started.SessionID}, Config{},
		"FAKECLAUDE_EXPECT_RESUME="+started.SessionID)
	checkEvents(t, second.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: started.SessionID, Model: fakeModel},
		domain.TextDelta{MessageID: "msg_second", Delta: "Resumed " + started.SessionID + "."},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
	argv := second.argv()
	if got, want := argv[len(argv)-1], "--resume="+started.SessionID; got != want {
		t.Errorf("last argument %q, want %q", got, want)
	}
}

func TestInterruptMidStream(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "interrupt", agent.TurnRequest{}, Config{Grace: 2 * time.Second})
	for {
		if _, ok := f.next().(domain.TextDelta); ok {
			break
		}
	}
	began := time.Now()
	f.turn.Interrupt()
	evs := f.wait()
	// Claude Code stopped on its interrupt request, long before the grace
	// period would have sent SIGINT.
	if took := time.Since(began); took > time.Second {
		t.Errorf("turn ended %v after Interrupt", took)
	}
	checkEvents(t, evs, []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.TextDelta{MessageID: "msg_i1", Delta: "Counting: 1"},
	})
	if !f.received("interrupt") {
		t.Error("fake received no interrupt control request")
	}
	if got := f.exit(); got != "eof" {
		t.Errorf("fake ended %v, want at the end of its input", got)
	}
}

func TestInterruptFallsBackToSignals(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "interrupt-ignored", agent.TurnRequest{}, Config{Grace: 200 * time.Millisecond})
	for {
		if _, ok := f.next().(domain.TextDelta); ok {
			break
		}
	}
	f.turn.Interrupt()
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.TextDelta{MessageID: "msg_i2", Delta: "Counting: 1"},
	})
	logged := f.logged()
	var sigint bool
	for _, m := range logged {
		sigint = sigint || m["signal"] == "SIGINT"
	}
	if !f.received("interrupt") || !sigint {
		t.Errorf("fake got interrupt request %v, SIGINT %v; want both", f.received("interrupt"), sigint)
	}
	if got := f.exit(); got != nil {
		t.Errorf("fake ended %v, want killed", got)
	}
}

func TestCrashMidTurn(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "crash", agent.TurnRequest{}, Config{})
	why := "agent exited with status 2: fatal: out of memory"
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.TextDelta{MessageID: "msg_x1", Delta: "Working"},
		domain.SessionExited{ExitCode: 2, Error: why},
		domain.ProviderError{Message: "Claude Code ended without a result: " + why, Retryable: true},
	})
}

func TestHangPastIdleTimeout(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "hang", agent.TurnRequest{}, Config{IdleTimeout: 300 * time.Millisecond})
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ProviderError{Message: "Claude Code wrote nothing for 300ms (idle timeout) and was killed", Retryable: true},
	})
}

func TestCancelledContext(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ctx, cancel := context.WithCancel(context.Background())
	rec := newRecorder()
	turn, err := New(Config{Argv: []string{fakeClaude(t)}, Env: []string{"FAKECLAUDE_SCENARIO=hang"}}).
		Start(ctx, agent.TurnRequest{Dir: dir, Prompt: "hi"}, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := (<-rec.ch).(domain.SessionStarted); !ok {
		t.Fatal("first event is not SessionStarted")
	}
	cancel()
	select {
	case <-turn.Done():
	case <-time.After(10 * time.Second):
		t.Fatal("turn not done 10 s after its context")
	}
	checkEvents(t, rec.all(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ProviderError{Message: "Claude Code stopped: the turn was cancelled (context canceled)", Retryable: true},
	})
}

func TestMalformedOutput(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, line, want string }{
		{"not JSON", "Segmentation fault (core dumped)", `output line is not a JSON object: "Segmentation fault (core dumped)"`},
		{"array", `[1,2,3]`, `output line is not a JSON object: "[1,2,3]"`},
		{"no type", `{"session_id":"x"}`, `output line has no type: "{\"session_id\":\"x\"}"`},
		{"cut", `{"type":"result","subtype":`, `output line is not JSON (unexpected end of JSON input): "{\"type\":\"result\",\"subtype\":"`},
		{"wrong shape", `{"type":"assistant","message":"oops"}`, `assistant message not in the protocol's shape`},
		{"no request id", `{"type":"control_request","request":{"subtype":"can_use_tool"}}`, `control_request without a request_id and a subtype`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startTurn(t, "malformed", agent.TurnRequest{}, Config{}, "FAKECLAUDE_LINE="+tc.line)
			evs := f.wait()
			if len(evs) != 2 {
				t.Fatalf("events:\n%swant SessionStarted and one error", show(evs))
			}
			perr, ok := evs[1].(domain.ProviderError)
			prefix := "Claude Code wrote output that is not its protocol: "
			if !ok || perr.Retryable || !strings.HasPrefix(perr.Message, prefix) || !strings.Contains(perr.Message, tc.want) {
				t.Errorf("last event %+v, want a ProviderError %q containing %q", evs[1], prefix, tc.want)
			}
			// The fake would hang forever: it was killed.
			if got := f.exit(); got != nil {
				t.Errorf("fake ended %v, want killed", got)
			}
		})
	}
}

func TestEOFWithoutResult(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "eof", agent.TurnRequest{}, Config{})
	why := "agent exited with status 0"
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.SessionExited{ExitCode: 0, Error: why},
		domain.ProviderError{Message: "Claude Code ended without a result: " + why, Retryable: true},
	})
}

func TestErrorResults(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, result string
		want         domain.ProviderError
	}{
		{"max turns", `{"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":3,"session_id":"s","errors":["Reached maximum number of turns (3)"]}`,
			domain.ProviderError{Message: "Claude Code: Reached maximum number of turns (3)"}},
		{"api error", `{"type":"result","subtype":"success","is_error":true,"result":"API Error: 529 Overloaded","api_error_status":529,"session_id":"s","errors":[]}`,
			domain.ProviderError{Message: "Claude Code: API Error: 529 Overloaded", Retryable: true}},
		{"execution error without is_error", `{"type":"result","subtype":"error_during_execution","is_error":false,"session_id":"s","errors":["API error: Overloaded"]}`,
			domain.ProviderError{Message: "Claude Code: API error: Overloaded", Retryable: true}},
		{"auth", `{"type":"result","subtype":"success","is_error":true,"result":"Invalid API key · Please run /login","api_error_status":401,"session_id":"s"}`,
			domain.ProviderError{Message: "Claude Code: Invalid API key · Please run /login"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := startTurn(t, "error-result", agent.TurnRequest{}, Config{}, "FAKECLAUDE_RESULT="+tc.result)
			checkEvents(t, f.wait(), []domain.ProviderEvent{
				domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
				tc.want,
			})
			if got := f.exit(); got != "eof" {
				t.Errorf("fake ended %v, want at the end of its input", got)
			}
		})
	}
}

func TestLimits(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "big", agent.TurnRequest{}, Config{})
	evs := f.wait()
	var text strings.Builder
	var call *domain.ToolCall
	var result *domain.ToolResult
	for _, ev := range evs {
		switch e := ev.(type) {
		case domain.TextDelta:
			if len(e.Delta) > agent.MaxTextChunk {
				t.Errorf("text delta of %d bytes", len(e.Delta))
			}
			text.WriteString(e.Delta)
		case domain.ToolCall:
			call = &e
		case domain.ToolResult:
			result = &e
		}
	}
	if want := strings.Repeat("abcdefgh", 5<<10); text.String() != want {
		t.Errorf("text of %d bytes, want the %d streamed", text.Len(), len(want))
	}
	if call == nil || result == nil {
		t.Fatalf("events:\n%swant a tool call and its result", show(evs))
	}
	in, _ := json.Marshal(call.Input)
	if len(in) > agent.MaxFieldBytes || !strings.Contains(string(in), "bytes left out") {
		t.Errorf("tool input of %d bytes: want at most %d, cut with a note", len(in), agent.MaxFieldBytes)
	}
	if len(result.Output) > agent.MaxFieldBytes || !strings.Contains(result.Output, "bytes left out") {
		t.Errorf("tool output of %d bytes: want at most %d, cut with a note", len(result.Output), agent.MaxFieldBytes)
	}
	if _, ok := evs[len(evs)-1].(domain.TurnComplete); !ok {
		t.Errorf("last event %+v, want TurnComplete", evs[len(evs)-1])
	}
}

func TestUnmappedMessagesAreSkipped(t *testing.T) {
	t.Parallel()
	f := startTurn(t, "other", agent.TurnRequest{}, Config{})
	checkEvents(t, f.wait(), []domain.ProviderEvent{
		domain.SessionStarted{SessionID: fakeSession, Model: fakeModel},
		domain.ToolCall{ToolCallID: "toolu_task", Name: "Task", Kind: domain.ToolKindOther, Input: map[string]any{"prompt": "look around"}},
		domain.ToolResult{ToolCallID: "toolu_task", Output: "found a.go"},
		domain.TurnComplete{StopReason: "end_turn", Usage: fakeUsage},
	})
	if got := f.exit(); got != "eof" {
		t.Errorf("fake ended %v, want at the end of its input", got)
	}
}

func TestStartWithoutDir(t *testing.T) {
	_, err := New(Config{Argv: []string{"true"}}).Start(context.Background(), agent.TurnRequest{Prompt: "hi"}, func(domain.ProviderEvent) {})
	if err == nil {
		t.Fatal("Start without a directory: no error")
	}
}

func TestStartMissingProgram(t *testing.T) {
	_, err := New(Config{Argv: []string{"/nonexistent/claude"}}).Start(context.Background(),
		agent.TurnRequest{Prompt: "hi", Dir: t.TempDir()}, func(domain.ProviderEvent) {})
	if err == nil {
		t.Fatal("Start of a missing program: no error")
	}
}

func TestArgv(t *testing.T) {
	base := []string{"claude", "--setting-sources=project"}
	common := []string{"claude", "--setting-sources=project", "-p", "--output-format", "stream-json", "--input-format", "stream-json",
		"--verbose", "--include-partial-messages"}
	for _, tc := range []struct {
		name string
		req  agent.TurnRequest
		tail []string
	}{
		{"approvals", agent.TurnRequest{Mode: agent.ApprovalRequired},
			[]string{"--permission-prompt-tool", "stdio", "--permission-mode", "default"}},
		{"full access, model and resume", agent.TurnRequest{Mode: agent.FullAccess, Model: "opus", SessionID: "-rf"},
			[]string{"--permission-mode", "bypassPermissions", "--model=opus", "--resume=-rf"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			want := append(append([]string(nil), common...), tc.tail...)
			if got := Argv(base, tc.req); !reflect.DeepEqual(got, want) {
				t.Errorf("Argv =\n %q\nwant\n %q", got, want)
			}
		})
	}
	if got := Argv(base, agent.TurnRequest{}); &got[0] == &base[0] {
		t.Error("Argv shares the configured slice")
	}
}
