package claude

import (
	"bytes"
	"errors"
	"reflect"
	"runtime"
	"strings"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecodeLine(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		want       Message
	}{
		{"blank", "  \r", Message{}},
		{"init", `{"type":"system","subtype":"init","session_id":"s1","model":"m","tools":["Bash"],"uuid":"u"}`,
			Message{Type: "system", Subtype: "init", SessionID: "s1", Model: "m", UUID: "u"}},
		{"user prompt as a string", `{"type":"user","message":{"role":"user","content":"hi"},"parent_tool_use_id":null}`,
			Message{Type: "user", Message: &APIMessage{Role: "user", Content: Content{{Type: "text", Text: "hi"}}}}},
		{"tool result blocks", `{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"},{"type":"image","source":{}}],"is_error":true}]}}`,
			Message{Type: "user", Message: &APIMessage{Role: "user", Content: Content{{Type: "tool_result", ToolUseID: "t", Content: "a\n[image]", IsError: true}}}}},
		{"stream event", `{"type":"stream_event","event":{"type":"content_block_delta","index":2,"delta":{"type":"text_delta","text":"x"}},"session_id":"s"}`,
			Message{Type: "stream_event", SessionID: "s", Event: &StreamEvent{Type: "content_block_delta", Index: 2, Delta: &Delta{Type: "text_delta", Text: "x"}}}},
		{"result", `{"type":"result","subtype":"success","is_error":false,"result":"ok","total_cost_usd":0.5,"usage":{"input_tokens":1,"output_tokens":2,"cache_read_input_tokens":3,"cache_creation_input_tokens":4},"errors":["a",{"code":1}]}`,
			Message{Type: "result", Subtype: "success", Result: "ok", TotalCostUSD: 0.5, Usage: &Usage{1, 2, 3, 4}, Errors: []Text{"a", `{"code":1}`}}},
		{"can_use_tool", `{"type":"control_request","request_id":"r1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{"command":"ls"},"tool_use_id":"t1","decision_reason":{"type":"rule"}}}`,
			Message{Type: "control_request", RequestID: "r1", Request: &ControlRequest{Subtype: "can_use_tool", ToolName: "Bash",
				Input: map[string]any{"command": "ls"}, ToolUseID: "t1", DecisionReason: `{"type":"rule"}`}}},
		{"control response", `{"type":"control_response","response":{"subtype":"error","request_id":"peon_initialize","error":"nope"}}`,
			Message{Type: "control_response", Response: &ControlResponse{Subtype: "error", RequestID: "peon_initialize", Error: "nope"}}},
		// An unknown type decodes to its name, whatever its fields hold.
		{"unknown type", `{"type":"rate_limit_event","message":42,"event":"x"}`, Message{Type: "rate_limit_event"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := DecodeLine([]byte(tc.line))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tc.want) {
				t.Errorf("got  %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

func TestDecodeLineRefuses(t *testing.T) {
	long := append([]byte(`{"type":"system","subtype":"x","pad":"`), bytes.Repeat([]byte("é"), MaxLineBytes)...)
	for _, tc := range []struct{ name, line, reason string }{
		{"text", "[SandboxDebug] hello", "output line is not a JSON object"},
		{"number", "42", "output line is not a JSON object"},
		{"cut", `{"type":"user"`, "output line is not JSON"},
		{"no type", `{"x":1}`, "output line has no type"},
		{"type not a string", `{"type":1}`, "output line has no type"},
		{"empty type", `{"type":""}`, "output line has no type"},
		{"assistant without message", `{"type":"assistant"}`, "assistant message without a message"},
		{"stream_event without event", `{"type":"stream_event","event":{}}`, "stream_event without an event type"},
		{"result without subtype", `{"type":"result"}`, "result message without a subtype"},
		{"tool input not an object", `{"type":"assistant","message":{"content":[{"type":"tool_use","id":"t","name":"Bash","input":"ls"}]}}`, "assistant message not in the protocol's shape"},
		{"control response without id", `{"type":"control_response","response":{"subtype":"success"}}`, "control_response without a request_id"},
		{"too long", string(long), "output line of"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := DecodeLine([]byte(tc.line))
			var le *LineError
			if !errors.As(err, &le) || !strings.HasPrefix(le.Reason, tc.reason) {
				t.Fatalf("err = %v, want a LineError %q", err, tc.reason)
			}
			if len(le.Prefix) > linePrefix || !strings.HasPrefix(tc.line, le.Prefix) {
				t.Errorf("prefix %q: want at most %d bytes from the line's start", le.Prefix, linePrefix)
			}
		})
	}
}

// FuzzDecodeLine feeds the decoder arbitrary lines: it must never panic,
// a line it accepts has a type (or is blank), and a refused one says why
// with a bounded quote.
func FuzzDecodeLine(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, `{"type":"x"}`, `[SandboxDebug] x`,
		`{"type":"system","subtype":"init","session_id":"s","model":"m"}`,
		`{"type":"assistant","message":{"id":"msg_1","content":[{"type":"text","text":"hi"},{"type":"tool_use","id":"t","name":"Bash","input":{"command":"ls"}}]}}`,
		`{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":[{"type":"text","text":"a"}]}]}}`,
		`{"type":"stream_event","event":{"type":"message_start","message":{"id":"m","content":[]}}}`,
		`{"type":"stream_event","event":{"type":"content_block_delta","index":0,"delta":{"type":"thinking_delta","thinking":"t"}}}`,
		`{"type":"result","subtype":"success","usage":{"input_tokens":1},"errors":[1,"a",null]}`,
		`{"type":"control_request","request_id":"r","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{}}}`,
		`{"type":"control_response","response":{"subtype":"success","request_id":"r","response":{"a":[1,{"b":null}]}}}`,
		`{"type":"control_cancel_request","request_id":"r"}`,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := DecodeLine(line)
		if err != nil {
			var le *LineError
			if !errors.As(err, &le) {
				t.Fatalf("error %v is not a LineError", err)
			}
			if len(le.Prefix) > linePrefix {
				t.Fatalf("error quotes %d bytes", len(le.Prefix))
			}
			return
		}
		if m.Type == "" && len(bytes.TrimSpace(line)) != 0 {
			t.Fatalf("accepted %q without a type", line)
		}
		// What the decoder accepts, the adapter maps without panicking, and
		// every id it reports is a valid Peon id.
		tr := newTranslator(func(ev domain.ProviderEvent) {
			for _, id := range eventIDs(ev) {
				if !domain.ValidID(id) {
					t.Fatalf("%s with invalid id %q from %q", ev.ProviderEventType(), id, line)
				}
			}
		})
		switch m.Type {
		case TypeResult:
			_ = resultEvent(&m)
		case TypeControlRequest:
			_ = describe(m.Request)
		case TypeControlResponse, TypeControlCancel:
		default:
			tr.handle(&m)
		}
	})
}

// eventIDs lists the ids an event carries.
func eventIDs(ev domain.ProviderEvent) []string {
	switch e := ev.(type) {
	case domain.TextDelta:
		return []string{e.MessageID}
	case domain.ThinkingDelta:
		return []string{e.MessageID}
	case domain.ToolCall:
		return []string{e.ToolCallID}
	case domain.ToolResult:
		return []string{e.ToolCallID}
	}
	return nil
}

// TestDecodeLineAllocationBounded checks that decoding a line costs a small
// multiple of its size, whatever it holds.
func TestDecodeLineAllocationBounded(t *testing.T) {
	big := strings.Repeat("x", 256<<10)
	for name, line := range map[string]string{
		"text":    `{"type":"assistant","message":{"id":"m","content":[{"type":"text","text":"` + big + `"}]}}`,
		"unknown": `{"type":"future","data":"` + big + `"}`,
		"refused": `{"type":"assistant","message":"` + big + `"}`,
		"escapes": `{"type":"user","message":{"content":"` + strings.Repeat(`\u00e9`, 64<<10) + `"}}`,
	} {
		b := []byte(line)
		const runs = 2
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		for range runs {
			_, _ = DecodeLine(b)
		}
		runtime.ReadMemStats(&after)
		allocs := int64(after.TotalAlloc-before.TotalAlloc) / runs
		t.Logf("%s: %d bytes allocated for a line of %d", name, allocs, len(b))
		if allocs > int64(4*len(b)) {
			t.Errorf("%s: %d bytes allocated for a line of %d", name, allocs, len(b))
		}
	}
}
