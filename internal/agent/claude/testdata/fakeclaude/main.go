// Command fakeclaude stands in for Claude Code in the adapter's tests. It
// takes Claude Code's headless flags, speaks stream-json on stdin and
// stdout (the control protocol's initialize handshake, the user message,
// can_use_tool requests, interrupt), and plays the transcript that
// FAKECLAUDE_SCENARIO names. It checks what it receives and fails loudly
// (a message on stderr, a non-zero exit) when the adapter gets the
// protocol wrong, so a test that expects a clean turn fails.
//
// FAKECLAUDE_LOG, when set, is a file the fake appends to: its argv, every
// line it reads, and how it ended, one JSON object a line.
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"
)

// defaultSession is the session a turn gets when it resumes none.
const defaultSession = "6f1c1b52-0d5e-4a3e-9a57-3f1c2d4e5a60"

// opts are the flags the fake understands: those the adapter passes.
type opts struct {
	print, verbose, partials  bool
	outputFormat, inputFormat string
	permissionPromptTool      string
	permissionMode            string
	model, resume             string
}

var (
	o     opts
	lines = make(chan map[string]any)
	eof   = make(chan struct{})
)

func main() {
	logf(map[string]any{"argv": os.Args[1:]})
	if err := parseFlags(os.Args[1:]); err != nil {
		fail(1, "error: %v", err)
	}
	go readStdin()
	handshake()
	scenario := os.Getenv("FAKECLAUDE_SCENARIO")
	play, ok := scenarios[scenario]
	if !ok {
		fail(1, "fakeclaude: unknown scenario %q", scenario)
	}
	play()
	// Like Claude Code reading stream-json input: the process ends when
	// its input does.
	waitEOF()
	logf(map[string]any{"exit": "eof"})
}

func parseFlags(args []string) error {
	value := func(i *int, name string) (string, error) {
		a := args[*i]
		if v, ok := strings.CutPrefix(a, name+"="); ok {
			return v, nil
		}
		if *i+1 >= len(args) {
			return "", fmt.Errorf("option '%s' argument missing", name)
		}
		*i++
		return args[*i], nil
	}
	for i := 0; i < len(args); i++ {
		a := args[i]
		name, _, _ := strings.Cut(a, "=")
		var err error
		switch name {
		case "-p", "--print":
			o.print = true
		case "--verbose":
			o.verbose = true
		case "--include-partial-messages":
			o.partials = true
		case "--output-format":
			o.outputFormat, err = value(&i, name)
		case "--input-format":
			o.inputFormat, err = value(&i, name)
		case "--permission-prompt-tool":
			o.permissionPromptTool, err = value(&i, name)
		case "--permission-mode":
			o.permissionMode, err = value(&i, name)
		case "--model":
			o.model, err = value(&i, name)
		case "--resume", "-r":
			o.resume, err = value(&i, name)
		default:
			return fmt.Errorf("unknown option '%s'", a)
		}
		if err != nil {
			return err
		}
	}
	switch {
	case !o.print:
		return fmt.Errorf("stream-json input needs --print")
	case o.outputFormat != "stream-json" || o.inputFormat != "stream-json":
		return fmt.Errorf("want --output-format stream-json --input-format stream-json, got %q and %q", o.outputFormat, o.inputFormat)
	case !o.verbose:
		return fmt.Errorf("When using --print, --output-format=stream-json requires --verbose")
	case !o.partials:
		return fmt.Errorf("want --include-partial-messages")
	}
	if want := os.Getenv("FAKECLAUDE_EXPECT_RESUME"); want != o.resume {
		return fmt.Errorf("resumed %q, want %q", o.resume, want)
	}
	if want := os.Getenv("FAKECLAUDE_EXPECT_MODEL"); want != "" && want != o.model {
		return fmt.Errorf("model %q, want %q", o.model, want)
	}
	if os.Getenv("FAKECLAUDE_FULL_ACCESS") != "" {
		if o.permissionMode != "bypassPermissions" || o.permissionPromptTool != "" {
			return fmt.Errorf("full access wants --permission-mode bypassPermissions alone, got mode %q prompt tool %q", o.permissionMode, o.permissionPromptTool)
		}
	} else if o.permissionMode != "default" || o.permissionPromptTool != "stdio" {
		return fmt.Errorf("approvals want --permission-prompt-tool stdio --permission-mode default, got mode %q prompt tool %q", o.permissionMode, o.permissionPromptTool)
	}
	return nil
}

func readStdin() {
	sc := bufio.NewScanner(os.Stdin)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			fail(8, "fakeclaude: stdin line is not JSON: %q", sc.Text())
		}
		logf(map[string]any{"in": m})
		lines <- m
	}
	close(eof)
}

// next returns the next line from stdin, failing when none comes in time.
func next(what string) map[string]any {
	select {
	case m := <-lines:
		return m
	case <-eof:
		fail(7, "fakeclaude: stdin ended while waiting for %s", what)
	case <-time.After(10 * time.Second):
		fail(7, "fakeclaude: no %s within 10 s", what)
	}
	return nil
}

func waitEOF() {
	for {
		select {
		case m := <-lines:
			fail(9, "fakeclaude: unexpected line after the result: %v", m)
		case <-eof:
			return
		case <-time.After(10 * time.Second):
			fail(7, "fakeclaude: stdin still open 10 s after the result")
		}
	}
}

// handshake answers initialize, then reads the prompt.
func handshake() {
	m := next("initialize")
	req, _ := m["request"].(map[string]any)
	if m["type"] != "control_request" || req["subtype"] != "initialize" || m["request_id"] == "" {
		fail(3, "fakeclaude: first line is not an initialize request: %v", m)
	}
	out(map[string]any{"type": "control_response", "response": map[string]any{
		"subtype": "success", "request_id": m["request_id"],
		"response": map[string]any{"commands": []any{}, "output_style": "default"},
	}})
	m = next("the user message")
	msg, _ := m["message"].(map[string]any)
	prompt, _ := msg["content"].(string)
	if m["type"] != "user" || msg["role"] != "user" || prompt == "" {
		fail(3, "fakeclaude: second line is not the user message: %v", m)
	}
	if want := os.Getenv("FAKECLAUDE_EXPECT_PROMPT"); want != "" && prompt != want {
		fail(3, "fakeclaude: prompt %q, want %q", prompt, want)
	}
}

func session() string {
	if o.resume != "" {
		return o.resume
	}
	return defaultSession
}

func model() string {
	if o.model != "" {
		return o.model
	}
	return "claude-sonnet-4-5-20250929"
}

func out(v map[string]any) {
	b, err := json.Marshal(v)
	if err != nil {
		fail(1, "fakeclaude: %v", err)
	}
	os.Stdout.Write(append(b, '\n'))
}

// raw writes a line as is.
func raw(s string) { os.Stdout.WriteString(s + "\n") }

func logf(v map[string]any) {
	path := os.Getenv("FAKECLAUDE_LOG")
	if path == "" {
		return
	}
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return
	}
	defer f.Close()
	b, _ := json.Marshal(v)
	f.Write(append(b, '\n'))
}

func fail(code int, format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	logf(map[string]any{"exit": code, "error": msg})
	fmt.Fprintln(os.Stderr, msg)
	os.Exit(code)
}

// hang blocks until the process is killed.
func hang() { select {} }

// onSIGINT logs SIGINT, then exits when exit says so (else stays, to be
// killed).
func onSIGINT(exit bool) {
	c := make(chan os.Signal, 1)
	signal.Notify(c, syscall.SIGINT)
	go func() {
		<-c
		logf(map[string]any{"signal": "SIGINT"})
		if exit {
			os.Exit(130)
		}
	}()
}

// expectControlResponse reads the answer to a control request the fake
// sent and returns its response payload.
func expectControlResponse(requestID string) map[string]any {
	m := next("the control_response to " + requestID)
	resp, _ := m["response"].(map[string]any)
	if m["type"] != "control_response" || resp["request_id"] != requestID {
		fail(5, "fakeclaude: want the control_response to %s, got %v", requestID, m)
	}
	return resp
}

// expectAllow checks a can_use_tool answer: allow, with the input as asked.
func expectAllow(requestID string, input map[string]any) {
	resp := expectControlResponse(requestID)
	payload, _ := resp["response"].(map[string]any)
	if resp["subtype"] != "success" || payload["behavior"] != "allow" || !reflect.DeepEqual(payload["updatedInput"], input) {
		fail(5, "fakeclaude: want allow with updatedInput %v, got %v", input, resp)
	}
}

// expectDeny checks a can_use_tool answer: deny, with the reason.
func expectDeny(requestID, reason string) {
	resp := expectControlResponse(requestID)
	payload, _ := resp["response"].(map[string]any)
	if resp["subtype"] != "success" || payload["behavior"] != "deny" || payload["message"] != reason {
		fail(5, "fakeclaude: want deny with message %q, got %v", reason, resp)
	}
}
