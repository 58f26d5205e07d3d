package codex

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// fakeCodex is the fake app-server, built once for the package's tests.
var fakeCodex string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "fakecodex")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fakeCodex = filepath.Join(dir, "codex")
	build := exec.Command("go", "build", "-o", fakeCodex, "./testdata/fakecodex")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build fake codex:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

const threadID = "019a2f3c-7d1e-7b42-9c1a-5e8f00c0ffee"

// env is one test's fake Codex: its home (threads survive across turns),
// its project directory and the log of what the adapter sent.
type env struct {
	t    *testing.T
	home string
	dir  string
	log  string
}

func newEnv(t *testing.T) *env {
	root := t.TempDir()
	e := &env{t: t, home: filepath.Join(root, "home"), dir: filepath.Join(root, "project"), log: filepath.Join(root, "wire.log")}
	if err := os.MkdirAll(e.dir, 0o700); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) config(scenario string, extra ...string) Config {
	return Config{
		Argv: []string{fakeCodex, "app-server"},
		Env: append([]string{"FAKECODEX_SCENARIO=" + scenario, "FAKECODEX_LOG=" + e.log, "CODEX_HOME=" + e.home},
			extra...),
		IdleTimeout:    5 * time.Second,
		Grace:          2 * time.Second,
		InterruptGrace: 2 * time.Second,
	}
}

func (e *env) request() agent.TurnRequest {
	return agent.TurnRequest{ThreadID: "th1", TurnID: "tu1", Prompt: "fix the tests", Dir: e.dir, Mode: agent.ApprovalRequired}
}

// play runs one turn to its end; act sees every event as it arrives (in
// the test's goroutine) and may answer or interrupt the turn.
func play(t *testing.T, cfg Config, req agent.TurnRequest, act func(domain.ProviderEvent, agent.Turn)) []string {
	t.Helper()
	events := make(chan domain.ProviderEvent, 1024)
	turn, err := New(cfg).Start(context.Background(), req, func(ev domain.ProviderEvent) { events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	deadline := time.After(10 * time.Second)
	for {
		select {
		case ev := <-events:
			got = append(got, render(ev))
			if act != nil {
				act(ev, turn)
			}
		case <-turn.Done():
			// Done is closed after the last emit: what is buffered is all.
			for {
				select {
				case ev := <-events:
					got = append(got, render(ev))
				default:
					return got
				}
			}
		case <-deadline:
			t.Fatalf("turn still running after 10 s; events so far:\n%s", strings.Join(got, "\n"))
		}
	}
}

func render(ev domain.ProviderEvent) string {
	raw, err := json.Marshal(ev)
	if err != nil {
		panic(err)
	}
	return ev.ProviderEventType() + " " + string(raw)
}

func check(t *testing.T, got, want []string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("events:\n got  %s\n want %s", strings.Join(got, "\n      "), strings.Join(want, "\n      "))
	}
}

// sent is what the adapter wrote for method (params of requests,
// results of responses when method is "").
func (e *env) sent(method string) []string {
	e.t.Helper()
	raw, err := os.ReadFile(e.log)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(strings.TrimSpace(string(raw)), "\n") {
		var m struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params"`
			Result json.RawMessage `json:"result"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			e.t.Fatalf("adapter wrote %q: %v", line, err)
		}
		switch {
		case method == "" && m.Method == "" && m.Result != nil:
			out = append(out, string(m.Result))
		case method != "" && m.Method == method:
			out = append(out, string(m.Params))
		}
	}
	return out
}

func session(model string) string {
	return fmt.Sprintf(`SessionStarted {"session_id":%q,"model":%q}`, threadID, model)
}

func TestStreamingText(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("stream"), e.request(), nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`TextDelta {"message_id":"msg_01","delta":"Hel"}`,
		`TextDelta {"message_id":"msg_01","delta":"lo, "}`,
		`TextDelta {"message_id":"msg_01","delta":"world"}`,
		`TurnComplete {"stop_reason":"end_turn","usage":{"input_tokens":200,"output_tokens":40,"cache_read_tokens":1000,"reasoning_tokens":10}}`,
	})
	// The handshake as the app-server README orders it, with the policy of
	// an approval-required turn and no model (the user's default).
	if got, want := e.sent("thread/start"), []string{
		fmt.Sprintf(`{"cwd":%q,"approvalPolicy":"on-request","sandbox":"workspace-write"}`, e.dir),
	}; !slices.Equal(got, want) {
		t.Errorf("thread/start params = %v, want %v", got, want)
	}
	if got, want := e.sent("turn/start"), []string{
		fmt.Sprintf(`{"threadId":%q,"input":[{"type":"text","text":"fix the tests","text_elements":[]}]}`, threadID),
	}; !slices.Equal(got, want) {
		t.Errorf("turn/start params = %v, want %v", got, want)
	}
	if got := e.sent("initialized"); len(got) != 1 {
		t.Errorf("initialized sent %d times", len(got))
	}
}

func TestFullAccessAndModel(t *testing.T) {
	e := newEnv(t)
	req := e.request()
	req.Mode, req.Model = agent.FullAccess, "gpt-5.2-codex"
	got := play(t, e.config("stream"), req, nil)
	if len(got) == 0 || got[0] != session("gpt-5.2-codex") {
		t.Errorf("first event %v, want %s", got, session("gpt-5.2-codex"))
	}
	if got, want := e.sent("thread/start"), []string{
		fmt.Sprintf(`{"model":"gpt-5.2-codex","cwd":%q,"approvalPolicy":"never","sandbox":"danger-full-access"}`, e.dir),
	}; !slices.Equal(got, want) {
		t.Errorf("thread/start params = %v, want %v", got, want)
	}
}

func TestResumeOnNextTurn(t *testing.T) {
	e := newEnv(t)
	first := play(t, e.config("stream"), e.request(), nil)
	if len(first) == 0 || first[0] != session("gpt-5.1-codex") {
		t.Fatalf("first turn: %v", first)
	}
	req := e.request()
	req.SessionID = threadID // what SessionStarted reported
	got := play(t, e.config("resume"), req, nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`TextDelta {"message_id":"msg_02","delta":"Resumed."}`,
		// The thread's total less what it had before this turn.
		`TurnComplete {"stop_reason":"end_turn","usage":{"input_tokens":400,"output_tokens":35,"cache_read_tokens":2200,"reasoning_tokens":2}}`,
	})
	if got, want := e.sent("thread/resume"), []string{
		fmt.Sprintf(`{"threadId":%q,"cwd":%q,"approvalPolicy":"on-request","sandbox":"workspace-write"}`, threadID, e.dir),
	}; !slices.Equal(got, want) {
		t.Errorf("thread/resume params = %v, want %v", got, want)
	}
}

func TestResumeUnknownSession(t *testing.T) {
	e := newEnv(t)
	req := e.request()
	req.SessionID = "no-such-thread"
	got := play(t, e.config("stream"), req, nil)
	check(t, got, []string{
		`Error {"message":"codex thread/resume failed: no rollout found for thread id no-such-thread (code -32600)"}`,
	})
}

func TestReasoning(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("reasoning"), e.request(), nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`ThinkingDelta {"message_id":"rs_01","delta":"**Planning** the change"}`,
		`ThinkingDelta {"message_id":"rs_01","delta":"\n\n**Checking** tests"}`,
		`ThinkingDelta {"message_id":"rs_02","delta":"One\n\nTwo"}`,
		`TextDelta {"message_id":"msg_03","delta":"Done."}`,
		`TurnComplete {"stop_reason":"end_turn","usage":{"input_tokens":0,"output_tokens":0}}`,
	})
}

func TestCommandExecution(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("command"), e.request(), nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		fmt.Sprintf(`ToolCall {"tool_call_id":"call_ls","name":"shell","kind":"command","input":{"actions":[{"command":"ls","path":null,"type":"listFiles"}],"command":"/bin/bash -lc 'ls'","cwd":%q}}`, e.dir),
		`ToolResult {"tool_call_id":"call_ls","output":"go.mod\nmain.go\n"}`,
		fmt.Sprintf(`ToolCall {"tool_call_id":"call_cat","name":"shell","kind":"file_read","input":{"actions":[{"command":"cat go.mod","name":"go.mod","path":"%s/go.mod","type":"read"}],"command":"/bin/bash -lc 'cat go.mod'","cwd":%q}}`, e.dir, e.dir),
		`ToolResult {"tool_call_id":"call_cat","output":"module x\n"}`,
		fmt.Sprintf(`ToolCall {"tool_call_id":"call_test","name":"shell","kind":"command","input":{"actions":[{"command":"go test ./...","type":"unknown"}],"command":"/bin/bash -lc 'go test ./...'","cwd":%q}}`, e.dir),
		`ToolResult {"tool_call_id":"call_test","output":"FAIL\n(exit code 1)\n(failed)","is_error":true}`,
		`TurnComplete {"stop_reason":"end_turn","usage":{"input_tokens":0,"output_tokens":0}}`,
	})
}

func TestFileChangeMCPAndWebSearch(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("tools"), e.request(), nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`ToolCall {"tool_call_id":"call_patch","name":"apply_patch","kind":"file_change","input":{"changes":[{"diff":"@@ -1 +1 @@\n-old\n+new\n","kind":"update","path":"README.md"},{"diff":"hello\n","kind":"add","path":"NOTES.md"}]}}`,
		`ToolResult {"tool_call_id":"call_patch","output":"update README.md\nadd NOTES.md"}`,
		`ToolCall {"tool_call_id":"call_mcp","name":"docs/search","kind":"mcp","input":{"arguments":{"q":"jetstream"},"server":"docs","tool":"search"}}`,
		`ToolResult {"tool_call_id":"call_mcp","output":"3 hits"}`,
		`ToolCall {"tool_call_id":"ws_01","name":"web_search","kind":"web","input":{"query":""}}`,
		`ToolResult {"tool_call_id":"ws_01","output":"{\"queries\":null,\"query\":\"nats kv\",\"type\":\"search\"}"}`,
		`TurnComplete {"stop_reason":"end_turn","usage":{"input_tokens":0,"output_tokens":0}}`,
	})
}

// approvalTurn plays the approval scenario, answering every request with d
// after waiting three idle timeouts: the watchdog must be off meanwhile.
func approvalTurn(t *testing.T, d agent.Decision, wire string) ([]string, *env) {
	e := newEnv(t)
	cfg := e.config("approval", "FAKECODEX_DECISION="+wire)
	cfg.IdleTimeout = 200 * time.Millisecond
	got := play(t, cfg, e.request(), func(ev domain.ProviderEvent, turn agent.Turn) {
		if a, ok := ev.(domain.AwaitingApproval); ok {
			time.Sleep(3 * cfg.IdleTimeout)
			if err := turn.Respond(a.RequestID, d); err != nil {
				t.Error(err)
			}
			if err := turn.Respond(a.RequestID, d); err == nil {
				t.Error("a second answer to the same request was accepted")
			}
		}
	})
	return got, e
}

func approvalEvents(dir, cmdResult, patchResult string) []string {
	return []string{
		session("gpt-5.1-codex"),
		fmt.Sprintf(`ToolCall {"tool_call_id":"call_rm","name":"shell","kind":"command","input":{"actions":[{"command":"rm -rf build","type":"unknown"}],"command":"/bin/bash -lc 'rm -rf build'","cwd":%q}}`, dir),
		fmt.Sprintf(`AwaitingApproval {"request_id":"call_rm-0","tool_call_id":"call_rm","kind":"command","description":"Run rm -rf build in %s: remove the build directory"}`, dir),
		cmdResult,
		`ToolCall {"tool_call_id":"call_edit","name":"apply_patch","kind":"file_change","input":{"changes":[{"diff":"+127.0.0.1 x\n","kind":"update","path":"/etc/hosts"}]}}`,
		`AwaitingApproval {"request_id":"call_edit-1","tool_call_id":"call_edit","kind":"file_change","description":"Apply file changes to /etc/hosts: write outside the workspace"}`,
		patchResult,
		`TurnComplete {"stop_reason":"end_turn","usage":{"input_tokens":0,"output_tokens":0}}`,
	}
}

func TestApprovalAccepted(t *testing.T) {
	got, e := approvalTurn(t, agent.Decision{Allow: true}, "accept")
	check(t, got, approvalEvents(e.dir,
		`ToolResult {"tool_call_id":"call_rm"}`,
		`ToolResult {"tool_call_id":"call_edit","output":"update /etc/hosts"}`))
	if got, want := e.sent(""), []string{`{"decision":"accept"}`, `{"decision":"accept"}`}; !slices.Equal(got[len(got)-2:], want) {
		t.Errorf("responses %v, want %v last", got, want)
	}
}

func TestApprovalDeclined(t *testing.T) {
	got, e := approvalTurn(t, agent.Decision{Reason: "not on this machine"}, "decline")
	check(t, got, approvalEvents(e.dir,
		`ToolResult {"tool_call_id":"call_rm","output":"declined","is_error":true}`,
		`ToolResult {"tool_call_id":"call_edit","output":"update /etc/hosts\n(declined)","is_error":true}`))
}

func TestInterruptMidStream(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("interrupt"), e.request(), func(ev domain.ProviderEvent, turn agent.Turn) {
		if _, ok := ev.(domain.TextDelta); ok {
			turn.Interrupt()
			turn.Interrupt() // a second call changes nothing
		}
	})
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`TextDelta {"message_id":"msg_04","delta":"Working"}`,
		`TurnComplete {"stop_reason":"cancelled","usage":{"input_tokens":0,"output_tokens":0}}`,
	})
	if got := e.sent("turn/interrupt"); len(got) != 1 {
		t.Errorf("turn/interrupt sent %d times: %v", len(got), got)
	}
}

// An interrupt asked for before the turn has an id is sent once it has one.
func TestInterruptBeforeTurnStarts(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("interrupt"), e.request(), func(ev domain.ProviderEvent, turn agent.Turn) {
		if _, ok := ev.(domain.SessionStarted); ok {
			turn.Interrupt()
		}
	})
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`TextDelta {"message_id":"msg_04","delta":"Working"}`,
		`TurnComplete {"stop_reason":"cancelled","usage":{"input_tokens":0,"output_tokens":0}}`,
	})
	if got := e.sent("turn/interrupt"); len(got) != 1 {
		t.Errorf("turn/interrupt sent %d times: %v", len(got), got)
	}
}

// When the app-server does not act on turn/interrupt, the process is
// signalled after InterruptGrace; the turn then ends without a further event.
func TestInterruptFallsBackToSignal(t *testing.T) {
	e := newEnv(t)
	cfg := e.config("interrupt-ignore")
	cfg.InterruptGrace = 200 * time.Millisecond
	start := time.Now()
	got := play(t, cfg, e.request(), func(ev domain.ProviderEvent, turn agent.Turn) {
		if _, ok := ev.(domain.TextDelta); ok {
			turn.Interrupt()
		}
	})
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`TextDelta {"message_id":"msg_05","delta":"Working"}`,
	})
	if d := time.Since(start); d > 3*time.Second {
		t.Errorf("interrupt took %v", d)
	}
}

func TestCrashMidTurn(t *testing.T) {
	e := newEnv(t)
	got := play(t, e.config("crash"), e.request(), nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`TextDelta {"message_id":"msg_06","delta":"Half"}`,
		`SessionExited {"exit_code":2,"error":"agent exited with status 2: thread 'main' panicked: boom"}`,
		`Error {"message":"agent exited with status 2: thread 'main' panicked: boom","retryable":true}`,
	})
}

func TestHangPastIdleTimeout(t *testing.T) {
	e := newEnv(t)
	cfg := e.config("hang")
	cfg.IdleTimeout = 300 * time.Millisecond
	got := play(t, cfg, e.request(), nil)
	check(t, got, []string{
		session("gpt-5.1-codex"),
		`SessionExited {"exit_code":-1,"error":"agent idle past its timeout"}`,
		`Error {"message":"agent idle past its timeout","retryable":true}`,
	})
}

func TestMalformedOutput(t *testing.T) {
	for scenario, want := range map[string]string{
		"garbage": `Error {"message":"codex app-server wrote output that is not JSON: invalid character 'h' in literal true (expecting 'r'): \"this is not json at all\""}`,
		"not-rpc": `Error {"message":"codex app-server wrote output that is not a JSON-RPC message: no method and no usable id: \"{\\\"hello\\\":\\\"world\\\"}\""}`,
	} {
		t.Run(scenario, func(t *testing.T) {
			e := newEnv(t)
			check(t, play(t, e.config(scenario), e.request(), nil), []string{session("gpt-5.1-codex"), want})
		})
	}
}

func TestEOFWithoutTurnCompleted(t *testing.T) {
	e := newEnv(t)
	check(t, play(t, e.config("eof"), e.request(), nil), []string{
		session("gpt-5.1-codex"),
		`SessionExited {"exit_code":0,"error":"codex app-server exited before the turn completed"}`,
		`Error {"message":"codex app-server exited before the turn completed","retryable":true}`,
	})
}

func TestErrorNotification(t *testing.T) {
	e := newEnv(t)
	// The retried error is not terminal; the final one is, once.
	check(t, play(t, e.config("error"), e.request(), nil), []string{
		session("gpt-5.1-codex"),
		`Error {"message":"You've hit your usage limit. (\"usageLimitExceeded\")"}`,
	})
}

func TestFailedTurnIsRetryable(t *testing.T) {
	e := newEnv(t)
	check(t, play(t, e.config("failed"), e.request(), nil), []string{
		session("gpt-5.1-codex"),
		`Error {"message":"stream disconnected before completion ({\"responseStreamDisconnected\":{\"httpStatusCode\":502}})","retryable":true}`,
	})
}

func TestLimits(t *testing.T) {
	e := newEnv(t)
	var deltas, output int
	got := play(t, e.config("big"), e.request(), func(ev domain.ProviderEvent, _ agent.Turn) {
		switch ev := ev.(type) {
		case domain.TextDelta:
			if len(ev.Delta) > agent.MaxTextChunk {
				t.Errorf("delta of %d bytes", len(ev.Delta))
			}
			deltas += len(ev.Delta)
		case domain.ToolResult:
			output = len(ev.Output)
			if !strings.HasSuffix(ev.Output, "bytes left out)") {
				t.Errorf("cut output ends %q", ev.Output[len(ev.Output)-40:])
			}
		}
	})
	if deltas != 40000 || output == 0 || output > agent.MaxFieldBytes {
		t.Errorf("text %d bytes (want 40000), output %d bytes (max %d)", deltas, output, agent.MaxFieldBytes)
	}
	if n := len(got); n != 7 { // session, 3 deltas, call, result, complete
		t.Errorf("%d events:\n%s", n, strings.Join(got, "\n"))
	}
}

func TestStartFailsWithoutProgram(t *testing.T) {
	e := newEnv(t)
	cfg := e.config("stream")
	cfg.Argv = []string{filepath.Join(e.dir, "no-codex-here"), "app-server"}
	if _, err := New(cfg).Start(context.Background(), e.request(), func(domain.ProviderEvent) {}); err == nil {
		t.Fatal("Start succeeded without a program")
	}
}

func TestContextEndsTurn(t *testing.T) {
	e := newEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	events := make(chan domain.ProviderEvent, 16)
	turn, err := New(e.config("hang")).Start(ctx, e.request(), func(ev domain.ProviderEvent) { events <- ev })
	if err != nil {
		t.Fatal(err)
	}
	if ev := <-events; ev.ProviderEventType() != domain.TypeSessionStarted {
		t.Fatalf("first event %v", ev)
	}
	cancel()
	select {
	case <-turn.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("turn still running 5 s after its context ended")
	}
	if ev := <-events; render(ev) != `Error {"message":"codex turn ended: context canceled","retryable":true}` {
		t.Errorf("last event %s", render(ev))
	}
}
