package main

import (
	"os"
	"strings"
	"time"
)

// Transcripts shaped after Claude Code's stream-json output: system/init
// first, then, with --include-partial-messages, Anthropic streaming
// events wrapped in stream_event; each complete content block as its own
// assistant message, emitted after the block's deltas and before its
// content_block_stop; tool results as user messages; the result last.

var scenarios = map[string]func(){
	"text":              textScenario,
	"complete":          completeScenario,
	"thinking":          thinkingScenario,
	"tool":              toolScenario,
	"approve":           approveScenario,
	"deny":              denyScenario,
	"full-access":       fullAccessScenario,
	"resume":            resumeScenario,
	"interrupt":         interruptScenario,
	"interrupt-ignored": interruptIgnoredScenario,
	"crash":             crashScenario,
	"hang":              hangScenario,
	"malformed":         malformedScenario,
	"eof":               eofScenario,
	"error-result":      errorResultScenario,
	"big":               bigScenario,
	"other":             otherScenario,
}

func initMessage() {
	out(map[string]any{
		"type": "system", "subtype": "init", "cwd": mustWD(), "session_id": session(),
		"tools": []any{"Bash", "Read", "Write", "Edit", "Glob", "Grep"}, "mcp_servers": []any{},
		"model": model(), "permissionMode": o.permissionMode, "apiKeySource": "none",
		"claude_code_version": "2.1.0", "output_style": "default", "uuid": "uuid-init",
	})
}

func mustWD() string {
	wd, _ := os.Getwd()
	return wd
}

func event(ev map[string]any) {
	out(map[string]any{"type": "stream_event", "event": ev, "session_id": session(), "parent_tool_use_id": nil, "uuid": "uuid-ev"})
}

func messageStart(id string) {
	event(map[string]any{"type": "message_start", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model(), "content": []any{},
		"stop_reason": nil, "usage": map[string]any{"input_tokens": 10, "output_tokens": 1},
	}})
}

func messageStop(stopReason string) {
	event(map[string]any{"type": "message_delta", "delta": map[string]any{"stop_reason": stopReason, "stop_sequence": nil},
		"usage": map[string]any{"output_tokens": 5}})
	event(map[string]any{"type": "message_stop"})
}

// assistant writes one complete content block as an assistant message.
func assistant(id string, block map[string]any) {
	out(map[string]any{"type": "assistant", "message": map[string]any{
		"id": id, "type": "message", "role": "assistant", "model": model(),
		"content": []any{block}, "stop_reason": nil, "usage": map[string]any{"input_tokens": 10, "output_tokens": 1},
	}, "parent_tool_use_id": nil, "session_id": session(), "uuid": "uuid-" + id})
}

// streamText streams a text block in parts, then its complete message
// holding complete (which may be more than the parts, as when a delta
// was lost).
func streamText(id string, index int, complete string, parts ...string) {
	event(map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "text", "text": ""}})
	for _, p := range parts {
		event(map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "text_delta", "text": p}})
	}
	assistant(id, map[string]any{"type": "text", "text": complete})
	event(map[string]any{"type": "content_block_stop", "index": index})
}

func streamThinking(id string, index int, parts ...string) {
	event(map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "thinking", "thinking": ""}})
	for _, p := range parts {
		event(map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "thinking_delta", "thinking": p}})
	}
	event(map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "signature_delta", "signature": "c2ln"}})
	assistant(id, map[string]any{"type": "thinking", "thinking": strings.Join(parts, ""), "signature": "c2ln"})
	event(map[string]any{"type": "content_block_stop", "index": index})
}

func streamToolUse(msgID string, index int, toolID, name string, input map[string]any, jsonParts ...string) {
	event(map[string]any{"type": "content_block_start", "index": index, "content_block": map[string]any{"type": "tool_use", "id": toolID, "name": name, "input": map[string]any{}}})
	for _, p := range jsonParts {
		event(map[string]any{"type": "content_block_delta", "index": index, "delta": map[string]any{"type": "input_json_delta", "partial_json": p}})
	}
	assistant(msgID, map[string]any{"type": "tool_use", "id": toolID, "name": name, "input": input})
	event(map[string]any{"type": "content_block_stop", "index": index})
}

func toolResult(toolID string, content any, isError bool) {
	block := map[string]any{"type": "tool_result", "tool_use_id": toolID, "content": content}
	if isError {
		block["is_error"] = true
	}
	out(map[string]any{"type": "user", "message": map[string]any{"role": "user", "content": []any{block}},
		"parent_tool_use_id": nil, "session_id": session(), "uuid": "uuid-r-" + toolID, "tool_use_result": map[string]any{}})
}

func canUseTool(requestID, tool, toolUseID string, input map[string]any) {
	out(map[string]any{"type": "control_request", "request_id": requestID, "request": map[string]any{
		"subtype": "can_use_tool", "tool_name": tool, "input": input, "tool_use_id": toolUseID,
		"permission_suggestions": []any{}, "decision_reason": "Command requires permissions",
	}})
}

func success(text string) {
	out(map[string]any{
		"type": "result", "subtype": "success", "is_error": false, "duration_ms": 120, "duration_api_ms": 80,
		"num_turns": 1, "result": text, "stop_reason": "end_turn", "session_id": session(), "total_cost_usd": 0.0123,
		"usage": map[string]any{
			"input_tokens": 12, "output_tokens": 7, "cache_read_input_tokens": 100, "cache_creation_input_tokens": 50,
			"server_tool_use": map[string]any{"web_search_requests": 0}, "service_tier": "standard",
		},
		"modelUsage": map[string]any{}, "permission_denials": []any{}, "uuid": "uuid-result",
	})
}

// textScenario streams one answer in three deltas; the complete block
// repeats it and must not be reported twice.
func textScenario() {
	initMessage()
	messageStart("msg_text1")
	streamText("msg_text1", 0, "Hello, world.", "Hel", "lo, ", "world.")
	messageStop("end_turn")
	success("Hello, world.")
}

// completeScenario sends no partials (as without --include-partial-messages):
// the complete blocks are all there is, two text blocks in one message.
func completeScenario() {
	initMessage()
	assistant("msg_c1", map[string]any{"type": "thinking", "thinking": "I think.", "signature": "c2ln"})
	assistant("msg_c1", map[string]any{"type": "text", "text": "First."})
	assistant("msg_c1", map[string]any{"type": "tool_use", "id": "toolu_c1", "name": "Read", "input": map[string]any{"file_path": "a.txt"}})
	toolResult("toolu_c1", []any{map[string]any{"type": "text", "text": "line1"}, map[string]any{"type": "text", "text": "line2"}}, false)
	assistant("msg_c2", map[string]any{"type": "text", "text": "Second."})
	assistant("msg_c2", map[string]any{"type": "text", "text": "Third."})
	success("Third.")
}

// thinkingScenario streams reasoning, then an answer whose last delta is
// missing from the stream: the complete block supplies it.
func thinkingScenario() {
	initMessage()
	messageStart("msg_th")
	streamThinking("msg_th", 0, "Let me ", "think.")
	streamText("msg_th", 1, "Answer: 4", "Answer: ")
	messageStop("end_turn")
	success("Answer: 4")
}

func toolScenario() {
	initMessage()
	messageStart("msg_t1")
	streamText("msg_t1", 0, "Let me look.", "Let me look.")
	streamToolUse("msg_t1", 1, "toolu_t1", "Bash", map[string]any{"command": "ls"}, `{"command":`, ` "ls"}`)
	messageStop("tool_use")
	toolResult("toolu_t1", "a.txt\nb.txt", false)
	messageStart("msg_t2")
	streamToolUse("msg_t2", 0, "toolu_t2", "mcp__github__get_issue", map[string]any{"number": 7}, `{"number": 7}`)
	messageStop("tool_use")
	toolResult("toolu_t2", "issue not found", true)
	messageStart("msg_t3")
	streamText("msg_t3", 0, "Done.", "Done.")
	messageStop("end_turn")
	success("Done.")
}

var rmInput = map[string]any{"command": "rm -f build.log", "description": "Remove the log"}

func approveScenario() {
	initMessage()
	messageStart("msg_a1")
	streamToolUse("msg_a1", 0, "toolu_a1", "Bash", rmInput, `{"command": "rm -f build.log", "description": "Remove the log"}`)
	messageStop("tool_use")
	canUseTool("perm-1", "Bash", "toolu_a1", rmInput)
	expectAllow("perm-1", rmInput)
	toolResult("toolu_a1", "", false)
	messageStart("msg_a2")
	streamText("msg_a2", 0, "Removed.", "Removed.")
	messageStop("end_turn")
	success("Removed.")
}

// denyScenario asks under an id that is not a valid Peon id.
func denyScenario() {
	initMessage()
	messageStart("msg_d1")
	streamToolUse("msg_d1", 0, "toolu_d1", "Bash", rmInput, `{"command": "rm -f build.log", "description": "Remove the log"}`)
	messageStop("tool_use")
	canUseTool("perm:2", "Bash", "toolu_d1", rmInput)
	reason := os.Getenv("FAKECLAUDE_EXPECT_REASON")
	expectDeny("perm:2", reason)
	toolResult("toolu_d1", reason, true)
	messageStart("msg_d2")
	streamText("msg_d2", 0, "OK, I won't.", "OK, I won't.")
	messageStop("end_turn")
	success("OK, I won't.")
}

// fullAccessScenario asks anyway: the adapter answers without asking.
func fullAccessScenario() {
	initMessage()
	messageStart("msg_f1")
	streamToolUse("msg_f1", 0, "toolu_f1", "Write", map[string]any{"file_path": "x.go", "content": "package x\n"})
	messageStop("tool_use")
	canUseTool("perm-3", "Write", "toolu_f1", map[string]any{"file_path": "x.go", "content": "package x\n"})
	expectAllow("perm-3", map[string]any{"file_path": "x.go", "content": "package x\n"})
	toolResult("toolu_f1", "File created", false)
	success("")
}

func resumeScenario() {
	initMessage()
	id := "msg_first"
	text := "New session."
	if o.resume != "" {
		id, text = "msg_second", "Resumed "+o.resume+"."
	}
	messageStart(id)
	streamText(id, 0, text, text)
	messageStop("end_turn")
	success(text)
}

// interruptScenario streams, then waits for the interrupt control request
// and ends the turn the way Claude Code does.
func interruptScenario() {
	initMessage()
	messageStart("msg_i1")
	event(map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	event(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": "Counting: 1"}})
	m := next("the interrupt")
	req, _ := m["request"].(map[string]any)
	if m["type"] != "control_request" || req["subtype"] != "interrupt" {
		fail(5, "fakeclaude: want an interrupt request, got %v", m)
	}
	out(map[string]any{"type": "control_response", "response": map[string]any{"subtype": "success", "request_id": m["request_id"]}})
	out(map[string]any{
		"type": "result", "subtype": "error_during_execution", "is_error": true, "duration_ms": 50, "num_turns": 1,
		"session_id": session(), "total_cost_usd": 0.001, "usage": map[string]any{"input_tokens": 3, "output_tokens": 1},
		"errors": []any{}, "terminal_reason": "aborted_streaming", "uuid": "uuid-result",
	})
}

// interruptIgnoredScenario ignores the interrupt request and survives
// SIGINT: only SIGKILL ends it.
func interruptIgnoredScenario() {
	onSIGINT(false)
	initMessage()
	messageStart("msg_i2")
	event(map[string]any{"type": "content_block_start", "index": 0, "content_block": map[string]any{"type": "text", "text": ""}})
	event(map[string]any{"type": "content_block_delta", "index": 0, "delta": map[string]any{"type": "text_delta", "text": "Counting: 1"}})
	next("the interrupt")
	hang()
}

func crashScenario() {
	initMessage()
	messageStart("msg_x1")
	streamText("msg_x1", 0, "Working", "Working")
	os.Stderr.WriteString("fatal: out of memory\n")
	os.Exit(2)
}

func hangScenario() {
	initMessage()
	hang()
}

// malformedScenario writes FAKECLAUDE_LINE, then waits to be killed.
func malformedScenario() {
	initMessage()
	raw(os.Getenv("FAKECLAUDE_LINE"))
	hang()
}

// eofScenario ends its output without a result and exits 0.
func eofScenario() {
	initMessage()
	os.Stdout.Close()
	time.Sleep(50 * time.Millisecond)
	os.Exit(0)
}

// errorResultScenario ends with the result FAKECLAUDE_RESULT holds, then
// exits 1 as Claude Code does after an error result.
func errorResultScenario() {
	initMessage()
	raw(os.Getenv("FAKECLAUDE_RESULT"))
	waitEOF()
	logf(map[string]any{"exit": "eof"})
	os.Exit(1)
}

// bigScenario sends a 40 KiB delta, a 100 KiB tool input and a 100 KiB
// tool output.
func bigScenario() {
	initMessage()
	messageStart("msg_b1")
	long := strings.Repeat("abcdefgh", 5<<10)
	streamText("msg_b1", 0, long, long)
	content := strings.Repeat("x", 100<<10)
	streamToolUse("msg_b1", 1, "toolu_b1", "Write", map[string]any{"file_path": "big.txt", "content": content})
	messageStop("tool_use")
	toolResult("toolu_b1", content, false)
	success("")
}

// otherScenario sends what the adapter does not map: other message
// types, system subtypes, a hook callback it must refuse, and a
// subagent's own messages.
func otherScenario() {
	initMessage()
	out(map[string]any{"type": "rate_limit_event", "rate_limit_info": map[string]any{"status": "allowed"}, "uuid": "u", "session_id": session()})
	out(map[string]any{"type": "system", "subtype": "status", "status": nil, "permissionMode": "default", "uuid": "u", "session_id": session()})
	out(map[string]any{"type": "control_request", "request_id": "hook-1", "request": map[string]any{"subtype": "hook_callback", "callback_id": "hook_0", "input": map[string]any{}}})
	resp := expectControlResponse("hook-1")
	if resp["subtype"] != "error" {
		fail(5, "fakeclaude: want an error answer to hook_callback, got %v", resp)
	}
	assistant("msg_o1", map[string]any{"type": "tool_use", "id": "toolu_task", "name": "Task", "input": map[string]any{"prompt": "look around"}})
	out(map[string]any{"type": "assistant", "parent_tool_use_id": "toolu_task", "session_id": session(), "uuid": "u", "message": map[string]any{
		"id": "msg_sub", "role": "assistant", "model": model(), "content": []any{
			map[string]any{"type": "text", "text": "subagent text"},
			map[string]any{"type": "tool_use", "id": "toolu_sub", "name": "Glob", "input": map[string]any{"pattern": "*"}},
		}}})
	out(map[string]any{"type": "user", "parent_tool_use_id": "toolu_task", "session_id": session(), "uuid": "u", "message": map[string]any{
		"role": "user", "content": []any{map[string]any{"type": "tool_result", "tool_use_id": "toolu_sub", "content": "a.go"}}}})
	toolResult("toolu_task", "found a.go", false)
	out(map[string]any{"type": "some_future_type", "message": "a string where others have an object"})
	success("")
}
