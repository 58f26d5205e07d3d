// Command fakecodex stands in for `codex app-server` in the adapter's
// tests. It speaks the app-server's stdio protocol as codex-rs/app-server
// does (newline-delimited JSON-RPC without the "jsonrpc" member; the v2
// methods, notifications and server requests), checks what the client
// sends, and plays the transcript FAKECODEX_SCENARIO names.
//
// Environment:
//
//	FAKECODEX_SCENARIO  the transcript to play (see scenarios)
//	FAKECODEX_LOG       a file every line received is appended to
//	FAKECODEX_DECISION  the approval decision the client must send
//	CODEX_HOME          where threads are kept, so thread/resume finds
//	                    only threads an earlier thread/start created
//
// Any protocol violation ends the process with status 3 and a message on
// stderr, which the adapter reports as a crash.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const (
	threadID = "019a2f3c-7d1e-7b42-9c1a-5e8f00c0ffee"
	turnID   = "turn-7f3a"
)

type message struct {
	ID      json.RawMessage `json:"id,omitempty"`
	Method  string          `json:"method,omitempty"`
	Params  json.RawMessage `json:"params,omitempty"`
	Result  json.RawMessage `json:"result,omitempty"`
	Error   json.RawMessage `json:"error,omitempty"`
	JSONRPC *string         `json:"jsonrpc,omitempty"`
}

var (
	in  = make(chan message)
	out = bufio.NewWriter(os.Stdout)
	log *os.File
)

func main() {
	if path := os.Getenv("FAKECODEX_LOG"); path != "" {
		f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
		if err != nil {
			die("open log: %v", err)
		}
		log = f
	}
	go readStdin()
	scenario := os.Getenv("FAKECODEX_SCENARIO")
	play, ok := scenarios[scenario]
	if !ok {
		die("unknown scenario %q", scenario)
	}
	handshake()
	play()
	drain()
}

func readStdin() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if log != nil {
			_, _ = log.Write(append(append([]byte{}, line...), '\n'))
		}
		var m message
		if err := json.Unmarshal(line, &m); err != nil {
			die("client sent a line that is not JSON: %q", line)
		}
		if m.JSONRPC != nil {
			die("client sent a jsonrpc member; the app-server protocol omits it")
		}
		in <- m
	}
	close(in)
}

// next is the client's next message; the end of stdin ends the server, as
// the app-server's stdio transport does.
func next() message {
	m, ok := <-in
	if !ok {
		os.Exit(0)
	}
	return m
}

// expect reads the next message and checks it is the named request (or,
// with notification, notification).
func expect(method string, notification bool) message {
	m := next()
	if m.Method != method {
		die("want %s, client sent %+v", method, m)
	}
	if notification != (len(m.ID) == 0) {
		die("%s: request/notification mix-up (id %s)", method, m.ID)
	}
	return m
}

// drain waits for the client to close stdin.
func drain() {
	for {
		m := next()
		if m.Method != "" && len(m.ID) > 0 {
			die("unexpected request %s after the turn", m.Method)
		}
	}
}

func send(v any) {
	raw, err := json.Marshal(v)
	if err != nil {
		die("marshal: %v", err)
	}
	out.Write(raw)
	out.WriteByte('\n')
	out.Flush()
}

func respond(id json.RawMessage, result any) {
	send(map[string]any{"id": id, "result": result})
}

func notify(method string, params any) {
	send(map[string]any{"method": method, "params": params})
}

func die(format string, args ...any) {
	out.Flush()
	fmt.Fprintf(os.Stderr, "fakecodex: "+format+"\n", args...)
	os.Exit(3)
}

func decode(raw json.RawMessage, v any) {
	if err := json.Unmarshal(raw, v); err != nil {
		die("params %s: %v", raw, err)
	}
}

// handshake plays initialize, initialized, thread/start or thread/resume
// and turn/start, checking the client's parameters.
func handshake() {
	init := expect("initialize", false)
	var ip struct {
		ClientInfo struct{ Name, Version string } `json:"clientInfo"`
	}
	decode(init.Params, &ip)
	if ip.ClientInfo.Name == "" {
		die("initialize without clientInfo.name")
	}
	respond(init.ID, map[string]any{
		"userAgent": "fakecodex/0.1", "codexHome": os.Getenv("CODEX_HOME"),
		"platformFamily": "unix", "platformOs": "linux",
	})
	expect("initialized", true)

	open := next()
	var tp struct {
		ThreadID       string `json:"threadId"`
		Model          string `json:"model"`
		Cwd            string `json:"cwd"`
		ApprovalPolicy string `json:"approvalPolicy"`
		Sandbox        string `json:"sandbox"`
	}
	decode(open.Params, &tp)
	checkCwd(tp.Cwd)
	switch tp.ApprovalPolicy + "/" + tp.Sandbox {
	case "on-request/workspace-write", "untrusted/workspace-write", "never/danger-full-access":
	default:
		die("unexpected approval policy and sandbox %s/%s", tp.ApprovalPolicy, tp.Sandbox)
	}
	model := tp.Model
	if model == "" {
		model = "gpt-5.1-codex"
	}
	sessions := filepath.Join(os.Getenv("CODEX_HOME"), "sessions")
	thread := map[string]any{
		"id": threadID, "preview": "", "ephemeral": false, "modelProvider": "openai",
		"createdAt": time.Now().Unix(), "status": map[string]any{"type": "idle"}, "turns": []any{},
	}
	result := map[string]any{
		"thread": thread, "model": model, "modelProvider": "openai", "serviceTier": nil,
		"cwd": tp.Cwd, "instructionSources": []any{}, "approvalPolicy": tp.ApprovalPolicy,
		"approvalsReviewer": "user", "sandbox": map[string]any{"type": "workspaceWrite"},
		"reasoningEffort": nil,
	}
	switch open.Method {
	case "thread/start":
		if tp.ThreadID != "" {
			die("thread/start with a threadId")
		}
		if err := os.MkdirAll(sessions, 0o700); err != nil {
			die("%v", err)
		}
		if err := os.WriteFile(filepath.Join(sessions, threadID), nil, 0o600); err != nil {
			die("%v", err)
		}
		respond(open.ID, result)
		notify("thread/started", map[string]any{"thread": thread})
	case "thread/resume":
		if _, err := os.Stat(filepath.Join(sessions, filepath.Base(tp.ThreadID))); err != nil {
			send(map[string]any{"id": open.ID, "error": map[string]any{
				"code": -32600, "message": "no rollout found for thread id " + tp.ThreadID,
			}})
			drain()
		}
		respond(open.ID, result)
	default:
		die("want thread/start or thread/resume, client sent %s", open.Method)
	}

	start := expect("turn/start", false)
	var sp struct {
		ThreadID string `json:"threadId"`
		Input    []struct {
			Type, Text string
		} `json:"input"`
	}
	decode(start.Params, &sp)
	if sp.ThreadID != threadID || len(sp.Input) != 1 || sp.Input[0].Type != "text" || sp.Input[0].Text == "" {
		die("turn/start params %s", start.Params)
	}
	turn := map[string]any{"id": turnID, "items": []any{}, "status": "inProgress", "error": nil}
	respond(start.ID, map[string]any{"turn": turn})
	notify("turn/started", map[string]any{"threadId": threadID, "turn": turn})
}

func checkCwd(cwd string) {
	wd, err := os.Getwd()
	if err != nil {
		die("%v", err)
	}
	a, _ := filepath.EvalSymlinks(wd)
	b, _ := filepath.EvalSymlinks(cwd)
	if a != b || !strings.HasPrefix(cwd, "/") {
		die("thread cwd %q is not the process directory %q", cwd, wd)
	}
}
