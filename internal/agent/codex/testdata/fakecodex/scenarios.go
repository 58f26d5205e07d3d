package main

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"time"
)

// scenarios are the transcripts, each played after the handshake. Shapes
// follow ThreadItem and the notifications in app-server-protocol v2.
var scenarios = map[string]func(){
	"stream":           streamText,
	"resume":           resumed,
	"reasoning":        reasoning,
	"command":          commands,
	"tools":            tools,
	"approval":         approvals,
	"interrupt":        interrupt,
	"interrupt-ignore": interruptIgnored,
	"crash":            crash,
	"hang":             func() { time.Sleep(time.Hour) },
	"garbage":          func() { os.Stdout.WriteString("this is not json at all\n") },
	"not-rpc":          func() { os.Stdout.WriteString(`{"hello":"world"}` + "\n") },
	"eof":              func() { os.Exit(0) },
	"error":            errorNotification,
	"failed":           failedTurn,
	"big":              big,
}

func item(method string, it map[string]any) {
	key := "startedAtMs"
	if method == "item/completed" {
		key = "completedAtMs"
	}
	notify(method, map[string]any{"threadId": threadID, "turnId": turnID, "item": it, key: time.Now().UnixMilli()})
}

func delta(method, itemID, text string, extra ...any) {
	p := map[string]any{"threadId": threadID, "turnId": turnID, "itemId": itemID, "delta": text}
	for i := 0; i+1 < len(extra); i += 2 {
		p[extra[i].(string)] = extra[i+1]
	}
	notify(method, p)
}

func usage(total, last [4]int) {
	breakdown := func(u [4]int) map[string]any {
		return map[string]any{
			"totalTokens": u[0] + u[2], "inputTokens": u[0], "cachedInputTokens": u[1],
			"outputTokens": u[2], "reasoningOutputTokens": u[3],
		}
	}
	notify("thread/tokenUsage/updated", map[string]any{
		"threadId": threadID, "turnId": turnID,
		"tokenUsage": map[string]any{"total": breakdown(total), "last": breakdown(last), "modelContextWindow": 272000},
	})
}

func completeTurn(status string, turnErr any) {
	notify("turn/completed", map[string]any{"threadId": threadID, "turn": map[string]any{
		"id": turnID, "items": []any{}, "status": status, "error": turnErr,
	}})
}

func agentMessage(id string, parts ...string) {
	item("item/started", map[string]any{"type": "agentMessage", "id": id, "text": ""})
	for _, p := range parts {
		delta("item/agentMessage/delta", id, p)
	}
	item("item/completed", map[string]any{"type": "agentMessage", "id": id, "text": strings.Join(parts, ""), "phase": "final_answer"})
}

func streamText() {
	agentMessage("msg_01", "Hel", "lo, ", "world")
	usage([4]int{1200, 1000, 40, 10}, [4]int{1200, 1000, 40, 10})
	completeTurn("completed", nil)
}

// resumed reports a thread total that includes the earlier turn.
func resumed() {
	agentMessage("msg_02", "Resumed.")
	usage([4]int{2500, 2000, 60, 12}, [4]int{1300, 1000, 20, 2})
	usage([4]int{3800, 3200, 75, 12}, [4]int{1300, 1200, 15, 0})
	completeTurn("completed", nil)
}

func reasoning() {
	item("item/started", map[string]any{"type": "reasoning", "id": "rs_01", "summary": []any{}, "content": []any{}})
	notify("item/reasoning/summaryPartAdded", map[string]any{"threadId": threadID, "turnId": turnID, "itemId": "rs_01", "summaryIndex": 0})
	delta("item/reasoning/summaryTextDelta", "rs_01", "**Planning** the change", "summaryIndex", 0)
	notify("item/reasoning/summaryPartAdded", map[string]any{"threadId": threadID, "turnId": turnID, "itemId": "rs_01", "summaryIndex": 1})
	delta("item/reasoning/summaryTextDelta", "rs_01", "**Checking** tests", "summaryIndex", 1)
	item("item/completed", map[string]any{"type": "reasoning", "id": "rs_01",
		"summary": []any{"**Planning** the change", "**Checking** tests"}, "content": []any{}})
	// A reasoning item and a message that arrive whole, without deltas.
	item("item/completed", map[string]any{"type": "reasoning", "id": "rs_02", "summary": []any{"One", "Two"}, "content": []any{}})
	item("item/completed", map[string]any{"type": "agentMessage", "id": "msg_03", "text": "Done.", "phase": "final_answer"})
	completeTurn("completed", nil)
}

func command(id, cmd string, actions []any, output string, exit int, status string) {
	it := map[string]any{
		"type": "commandExecution", "id": id, "command": cmd, "cwd": mustWd(), "processId": nil,
		"source": "agent", "status": "inProgress", "commandActions": actions,
		"aggregatedOutput": nil, "exitCode": nil, "durationMs": nil,
	}
	item("item/started", it)
	for _, line := range strings.SplitAfter(output, "\n") {
		if line != "" {
			delta("item/commandExecution/outputDelta", id, line)
		}
	}
	it["status"], it["aggregatedOutput"], it["exitCode"], it["durationMs"] = status, output, exit, 12
	item("item/completed", it)
}

func commands() {
	command("call_ls", "/bin/bash -lc 'ls'", []any{map[string]any{"type": "listFiles", "command": "ls", "path": nil}},
		"go.mod\nmain.go\n", 0, "completed")
	command("call_cat", "/bin/bash -lc 'cat go.mod'", []any{map[string]any{"type": "read", "command": "cat go.mod", "name": "go.mod", "path": mustWd() + "/go.mod"}},
		"module x\n", 0, "completed")
	command("call_test", "/bin/bash -lc 'go test ./...'", []any{map[string]any{"type": "unknown", "command": "go test ./..."}},
		"FAIL\n", 1, "failed")
	completeTurn("completed", nil)
}

func tools() {
	// Notifications the client has no event for, and one for another thread.
	notify("thread/status/changed", map[string]any{"threadId": threadID, "status": map[string]any{"type": "active", "activeFlags": []any{}}})
	notify("account/rateLimits/updated", map[string]any{"rateLimits": map[string]any{"primary": nil}})
	notify("item/agentMessage/delta", map[string]any{"threadId": "other-thread", "turnId": "t", "itemId": "m", "delta": "not ours"})

	change := map[string]any{"type": "fileChange", "id": "call_patch", "status": "inProgress", "changes": []any{
		map[string]any{"path": "README.md", "kind": map[string]any{"type": "update", "move_path": nil}, "diff": "@@ -1 +1 @@\n-old\n+new\n"},
		map[string]any{"path": "NOTES.md", "kind": map[string]any{"type": "add"}, "diff": "hello\n"},
	}}
	item("item/started", change)
	notify("turn/diff/updated", map[string]any{"threadId": threadID, "turnId": turnID, "diff": "diff --git ..."})
	change["status"] = "completed"
	item("item/completed", change)

	mcp := map[string]any{"type": "mcpToolCall", "id": "call_mcp", "server": "docs", "tool": "search", "status": "inProgress",
		"arguments": map[string]any{"q": "jetstream"}, "result": nil, "error": nil, "durationMs": nil}
	item("item/started", mcp)
	mcp["status"], mcp["result"] = "completed", map[string]any{"content": []any{map[string]any{"type": "text", "text": "3 hits"}}, "structuredContent": nil}
	item("item/completed", mcp)

	item("item/started", map[string]any{"type": "webSearch", "id": "ws_01", "query": "", "action": nil})
	item("item/completed", map[string]any{"type": "webSearch", "id": "ws_01", "query": "nats kv",
		"action": map[string]any{"type": "search", "query": "nats kv", "queries": nil}})

	item("item/started", map[string]any{"type": "contextCompaction", "id": "cc_01"})
	item("item/completed", map[string]any{"type": "contextCompaction", "id": "cc_01"})

	// A server request the client does not serve must be refused.
	send(map[string]any{"id": 7, "method": "item/tool/requestUserInput", "params": map[string]any{
		"threadId": threadID, "turnId": turnID, "itemId": "call_ask", "questions": []any{},
	}})
	m := next()
	var e struct {
		Code int `json:"code"`
	}
	if string(m.ID) != "7" || len(m.Error) == 0 || json.Unmarshal(m.Error, &e) != nil || e.Code != -32601 {
		die("want a -32601 error for request 7, client sent %+v", m)
	}
	completeTurn("completed", nil)
}

// approvals asks to run a command and to apply a patch, each approved or
// declined as FAKECODEX_DECISION says the client must answer.
func approvals() {
	want := os.Getenv("FAKECODEX_DECISION")
	ask := func(id int, method string, params map[string]any) bool {
		params["threadId"], params["turnId"], params["startedAtMs"] = threadID, turnID, time.Now().UnixMilli()
		send(map[string]any{"id": id, "method": method, "params": params})
		m := next()
		var res struct {
			Decision string `json:"decision"`
		}
		if string(m.ID) != fmt.Sprint(id) || m.Method != "" || json.Unmarshal(m.Result, &res) != nil {
			die("want the answer to request %d, client sent %+v", id, m)
		}
		if res.Decision != want {
			die("decision %q for request %d, want %q", res.Decision, id, want)
		}
		notify("serverRequest/resolved", map[string]any{"threadId": threadID, "requestId": id})
		return res.Decision == "accept"
	}

	cmd := map[string]any{
		"type": "commandExecution", "id": "call_rm", "command": "/bin/bash -lc 'rm -rf build'", "cwd": mustWd(),
		"processId": nil, "source": "agent", "status": "inProgress",
		"commandActions":   []any{map[string]any{"type": "unknown", "command": "rm -rf build"}},
		"aggregatedOutput": nil, "exitCode": nil, "durationMs": nil,
	}
	item("item/started", cmd)
	if ask(0, "item/commandExecution/requestApproval", map[string]any{
		"itemId": "call_rm", "reason": "remove the build directory", "command": "rm -rf build", "cwd": mustWd(),
	}) {
		cmd["status"], cmd["aggregatedOutput"], cmd["exitCode"] = "completed", "", 0
	} else {
		cmd["status"] = "declined"
	}
	item("item/completed", cmd)

	patch := map[string]any{"type": "fileChange", "id": "call_edit", "status": "inProgress", "changes": []any{
		map[string]any{"path": "/etc/hosts", "kind": map[string]any{"type": "update", "move_path": nil}, "diff": "+127.0.0.1 x\n"},
	}}
	item("item/started", patch)
	if ask(1, "item/fileChange/requestApproval", map[string]any{
		"itemId": "call_edit", "reason": "write outside the workspace", "grantRoot": nil,
	}) {
		patch["status"] = "completed"
	} else {
		patch["status"] = "declined"
	}
	item("item/completed", patch)
	completeTurn("completed", nil)
}

// interrupt streams until the client sends turn/interrupt, then ends the
// turn as interrupted (README: "the turn finishes with status interrupted").
func interrupt() {
	item("item/started", map[string]any{"type": "agentMessage", "id": "msg_04", "text": ""})
	delta("item/agentMessage/delta", "msg_04", "Working")
	m := expect("turn/interrupt", false)
	var p struct {
		ThreadID string `json:"threadId"`
		TurnID   string `json:"turnId"`
	}
	decode(m.Params, &p)
	if p.ThreadID != threadID || p.TurnID != turnID {
		die("turn/interrupt for %s/%s", p.ThreadID, p.TurnID)
	}
	respond(m.ID, map[string]any{})
	item("item/completed", map[string]any{"type": "agentMessage", "id": "msg_04", "text": "Working"})
	completeTurn("interrupted", nil)
}

// interruptIgnored never answers turn/interrupt, so the client has to
// signal the process.
func interruptIgnored() {
	delta("item/agentMessage/delta", "msg_05", "Working")
	for {
		next()
	}
}

func crash() {
	delta("item/agentMessage/delta", "msg_06", "Half")
	fmt.Fprintln(os.Stderr, "thread 'main' panicked: boom")
	os.Exit(2)
}

func errorNotification() {
	info := func(willRetry bool, message string, codexInfo any) {
		notify("error", map[string]any{"threadId": threadID, "turnId": turnID, "willRetry": willRetry,
			"error": map[string]any{"message": message, "codexErrorInfo": codexInfo, "additionalDetails": nil}})
	}
	info(true, "Reconnecting... 1/5", map[string]any{"responseStreamDisconnected": map[string]any{"httpStatusCode": nil}})
	info(false, "You've hit your usage limit.", "usageLimitExceeded")
	completeTurn("failed", map[string]any{"message": "You've hit your usage limit.", "codexErrorInfo": "usageLimitExceeded"})
}

func failedTurn() {
	completeTurn("failed", map[string]any{"message": "stream disconnected before completion",
		"codexErrorInfo": map[string]any{"responseStreamDisconnected": map[string]any{"httpStatusCode": 502}}, "additionalDetails": nil})
}

// big sends a delta and a command output larger than one provider event holds.
func big() {
	delta("item/agentMessage/delta", "msg_07", strings.Repeat("é", 20000))
	cmd := map[string]any{"type": "commandExecution", "id": "call_big", "command": "yes | head -c 100000", "cwd": mustWd(),
		"status": "inProgress", "commandActions": []any{}, "aggregatedOutput": nil, "exitCode": nil}
	item("item/started", cmd)
	cmd["status"], cmd["aggregatedOutput"], cmd["exitCode"] = "completed", strings.Repeat("y\n", 50000), 0
	item("item/completed", cmd)
	completeTurn("completed", nil)
}

func mustWd() string {
	wd, err := os.Getwd()
	if err != nil {
		die("%v", err)
	}
	return wd
}
