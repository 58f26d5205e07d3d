package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/loadgen"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

// startStack runs a whole Peon (decider, query, projector, ingest) on an
// embedded server and returns it with its client URL.
func startStack(t *testing.T) (*peontest.Stack, string) {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	return s, s.Srv.ClientURL()
}

// peon runs the CLI in-process against the given NATS URL.
func peon(t *testing.T, url string, args ...string) (string, string, int) {
	t.Helper()
	return peonFor(t, url, 30*time.Second, args...)
}

// TestCLI runs every client subcommand's happy path and its clear errors
// against a real stack.
func TestCLI(t *testing.T) {
	s, url := startStack(t)

	out, _, code := peon(t, url, "cmd", "project.create", "name=cli", "path=/cli")
	var created contract.CommandReply
	if code != 0 || json.Unmarshal([]byte(out), &created) != nil || created.ProjectID == "" {
		t.Fatalf("project.create: %d %s", code, out)
	}
	out, _, code = peon(t, url, "cmd", "thread.create", "--json", `{"project_id":"`+created.ProjectID+`","title":"from the cli"}`)
	var thread contract.CommandReply
	if code != 0 || json.Unmarshal([]byte(out), &thread) != nil {
		t.Fatalf("thread.create: %d %s", code, out)
	}
	out, _, code = peon(t, url, "cmd", "turn.start", "thread_id="+thread.ThreadID, "text=hello")
	var turn contract.CommandReply
	if code != 0 || json.Unmarshal([]byte(out), &turn) != nil {
		t.Fatalf("turn.start: %d %s", code, out)
	}
	s.Publish(t, thread.ThreadID, turn.TurnID, "1", domain.TextDelta{MessageID: "a", Delta: "Hi from the agent"})
	s.Publish(t, thread.ThreadID, turn.TurnID, "2", domain.TurnComplete{StopReason: "end_turn"})

	waitOutput(t, func() string { o, _, _ := peon(t, url, "thread", "show", thread.ThreadID); return o }, "Hi from the agent")
	checks := []struct {
		args []string
		code int
		want string
	}{
		{[]string{"projects", "list"}, 0, "/cli"},
		{[]string{"threads", "list", "--project", created.ProjectID}, 0, "from the cli"},
		{[]string{"thread", "show", thread.ThreadID}, 0, "status Idle"},
		{[]string{"thread", "show", "--json", thread.ThreadID}, 0, `"text": "Hi from the agent"`},
		{[]string{"events", "tail", "--all", "--limit", "3"}, 0, "ThreadCreated"},
		{[]string{"events", "tail", "--since", "1", "--thread", thread.ThreadID, "--json", "--limit", "1"}, 0, `"type":"ThreadCreated"`},
		{[]string{"status"}, 0, "peon-decider"},
		{[]string{"cmd", "project.create", "name=again", "path=/cli"}, 1, "duplicate_project_path"},
		{[]string{"thread", "show", "nope"}, 1, "thread_not_found"},
		{[]string{"cmd", "turn.start", "thread_id=nope", "text=x"}, 1, "thread_not_found"},
		{[]string{"cmd", "turn.start", "thread_id=x", "bogus=1"}, 1, "bad_request"},
		{[]string{"help"}, 0, "peon dev"},
	}
	for _, c := range checks {
		out, errOut, code := peon(t, url, c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("peon %s: exit %d (want %d), output lacks %q:\n%s%s", strings.Join(c.args, " "), code, c.code, c.want, out, errOut)
		}
	}
}

func TestCLIErrors(t *testing.T) {
	cases := []struct {
		args []string
		code int
		want string
	}{
		{nil, exitUsage, "no command"},
		{[]string{"frobnicate"}, exitUsage, "unknown command"},
		{[]string{"cmd"}, exitUsage, "peon cmd <name>"},
		{[]string{"cmd", "no.such"}, exitUsage, "unknown command"},
		{[]string{"cmd", "turn.start", "oops"}, exitUsage, "not key=value"},
		{[]string{"decider", "--log-format", "xml", "--cache-entries", "0"}, exitUsage, "--log-format"},
		{[]string{"dev", "--listen", "nonsense"}, exitUsage, "--listen"},
		{[]string{"setup", "--replicas", "2"}, exitUsage, "--replicas"},
		{[]string{"setup", "--transcript-partitions", "0"}, exitUsage, "--transcript-partitions"},
		{[]string{"projector", "rebuild", "--transcript-partitions", "65"}, exitUsage, "--transcript-partitions"},
		{[]string{"events", "tail", "--thread", "a.b"}, exitUsage, "not a valid id"},
		{[]string{"projects", "list", "--nats-url", "nats://127.0.0.1:1"}, exitUnavailable, "connect"},
		{[]string{"decider", "--nats-url", "nats://127.0.0.1:1"}, exitUnavailable, "connect"},
		{[]string{"status", "--help"}, exitOK, "-json"},
	}
	for _, c := range cases {
		out, errOut, code := peon(t, "nats://127.0.0.1:1", c.args...)
		if code != c.code || !strings.Contains(out+errOut, c.want) {
			t.Errorf("peon %s: exit %d (want %d), output lacks %q:\n%s%s", strings.Join(c.args, " "), code, c.code, c.want, out, errOut)
		}
	}
}

func waitOutput(t *testing.T, get func() string, want string) {
	t.Helper()
	for range 200 {
		if strings.Contains(get(), want) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("never saw %q", want)
}

// TestDevEndToEnd builds the binary, runs `peon dev` on a free port and a
// temporary data dir, drives it as a user would, stops it with SIGTERM,
// restarts it on the same data and finds the same state.
func TestDevEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the binary")
	}
	bin := filepath.Join(t.TempDir(), "peon")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		t.Fatal(err)
	}
	data := t.TempDir()
	addr := freeAddr(t)
	url := "nats://" + addr
	start := func() *exec.Cmd {
		cmd := exec.Command(bin, "dev", "--listen", addr, "--data-dir", data, "--log-format", "json")
		var logs bytes.Buffer
		cmd.Stderr = &logs
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill() })
		waitOutput(t, func() string { _, e, c := peon(t, url, "status"); return e + map[bool]string{true: "ready"}[c == 0] }, "ready")
		return cmd
	}
	stop := func(cmd *exec.Cmd) {
		if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if err != nil {
				t.Fatalf("peon dev exited with %v", err)
			}
		case <-time.After(15 * time.Second):
			t.Fatal("peon dev did not stop within 15s of SIGTERM")
		}
		if conn, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			conn.Close()
			t.Fatal("something still listens after peon dev stopped")
		}
	}

	dev := start()
	out, _, code := peon(t, url, "cmd", "project.create", "name=e2e", "path=/e2e")
	var p contract.CommandReply
	if code != 0 || json.Unmarshal([]byte(out), &p) != nil {
		t.Fatalf("create project: %s", out)
	}
	out, _, _ = peon(t, url, "cmd", "thread.create", "project_id="+p.ProjectID, "title=e2e")
	var th contract.CommandReply
	_ = json.Unmarshal([]byte(out), &th)
	out, _, _ = peon(t, url, "cmd", "turn.start", "thread_id="+th.ThreadID, "text=go")
	var tu contract.CommandReply
	_ = json.Unmarshal([]byte(out), &tu)
	publishProvider(t, url, th.ThreadID, tu.TurnID)
	waitOutput(t, func() string { o, _, _ := peon(t, url, "thread", "show", th.ThreadID); return o }, "status Idle")
	before, _, _ := peon(t, url, "thread", "show", "--json", th.ThreadID)
	if !strings.Contains(before, "streamed by the agent") {
		t.Fatalf("transcript: %s", before)
	}
	stop(dev)

	dev = start()
	after, _, _ := peon(t, url, "thread", "show", "--json", th.ThreadID)
	if after != before {
		t.Fatalf("state differs after restart:\nbefore %s\nafter %s", before, after)
	}
	stop(dev)
}

// publishProvider streams a short turn as an adapter would, through NATS.
func publishProvider(t *testing.T, url, thread, turn string) {
	t.Helper()
	s := peontest.Connect(t, url)
	for i, word := range strings.Fields("streamed by the agent") {
		s.Publish(t, thread, turn, "w"+string(rune('0'+i)), domain.TextDelta{MessageID: "m", Delta: word + " "})
	}
	s.Publish(t, thread, turn, "end", domain.TurnComplete{StopReason: "end_turn"})
}

func freeAddr(t *testing.T) string {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// peonFor runs the CLI until it returns or d passes (then it is
// interrupted, as Ctrl-C would).
func peonFor(t *testing.T, url string, d time.Duration, args ...string) (string, string, int) {
	t.Helper()
	var out, errOut bytes.Buffer
	env := func(k string) string {
		if k == "NATS_URL" {
			return url
		}
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), d)
	defer cancel()
	code := exitCode(run(ctx, args, env, &out, &errOut), &errOut)
	return out.String(), errOut.String(), code
}

// TestCLIRolesAndAdmin covers setup, each service role, simulate and
// rebuild against a real server.
func TestCLIRolesAndAdmin(t *testing.T) {
	srv := natstestServer(t)
	url := srv.ClientURL()
	out, errOut, code := peon(t, url, "setup")
	if code != 0 || !strings.Contains(out, "in place") {
		t.Fatalf("setup: %d %s%s", code, out, errOut)
	}
	// Each role starts, serves until interrupted, and stops cleanly.
	for _, role := range []string{"decider", "projector", "query", "provider-ingest"} {
		_, errOut, code := peonFor(t, url, 700*time.Millisecond, role, "--log-format", "json")
		if code != 0 || !strings.Contains(errOut, `"msg"`) {
			t.Errorf("%s: exit %d\n%s", role, code, errOut)
		}
	}
	// A whole stack in the background, then the client-side admin commands.
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		var wg sync.WaitGroup
		for _, role := range []string{"decider", "projector", "query", "provider-ingest"} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				env := func(k string) string {
					if k == "NATS_URL" {
						return url
					}
					return ""
				}
				_ = run(ctx, []string{role}, env, io.Discard, io.Discard)
			}()
		}
		wg.Wait()
	}()
	defer func() { cancel(); <-done }()
	waitOutput(t, func() string { _, _, c := peon(t, url, "projects", "list"); return map[bool]string{true: "up"}[c == 0] }, "up")
	out, errOut, code = peon(t, url, "simulate", "--threads", "1", "--turns", "1", "--deltas", "5", "--rate", "0", "--approval-every", "0")
	if code != 0 || !strings.Contains(errOut, "1 turns on 1 threads") {
		t.Fatalf("simulate: %d %s%s", code, out, errOut)
	}
	// The layout of a version stays; a rebuild changes it.
	out, errOut, code = peon(t, url, "setup", "--transcript-partitions", "2")
	if code != exitFailed || !strings.Contains(errOut, "rebuild to change it") {
		t.Fatalf("setup with another partition count: %d %s%s", code, out, errOut)
	}
	out, errOut, code = peon(t, url, "projector", "rebuild", "--transcript-partitions", "2")
	if code != 0 || !strings.Contains(out, "read model v2 built") {
		t.Fatalf("rebuild: %d %s%s", code, out, errOut)
	}
	out, errOut, code = peon(t, url, "status")
	if code != 0 || !strings.Contains(out, "peon_transcript_p1_v2") {
		t.Fatalf("status after a rebuild into two partitions: %d %s%s", code, out, errOut)
	}
	out, _, code = peon(t, url, "projects", "list")
	if code != 0 || !strings.Contains(out, "simulation") {
		t.Fatalf("projects after the rebuild switched readers: %d %s", code, out)
	}
}

func natstestServer(t *testing.T) interface{ ClientURL() string } { return natstest.Server(t) }

// TestThreadWatchStreams follows a thread with `peon thread watch` while an
// agent streams into it: the printout shows the transcript so far, then the
// new text as it is folded.
func TestThreadWatchStreams(t *testing.T) {
	s, url := startStack(t)
	threadID, turnID := startTurnWithCLI(t, url)
	s.Publish(t, threadID, turnID, "1", domain.TextDelta{MessageID: "a", Delta: "before the watch. "})
	waitOutput(t, func() string { o, _, _ := peon(t, url, "thread", "show", threadID); return o }, "before the watch.")

	// The command writes while the test reads: both under the writer's lock.
	var outBuf, errBuf bytes.Buffer
	out, errOut := &lockedWriter{w: &outBuf}, &lockedWriter{w: &errBuf}
	read := func(l *lockedWriter, b *bytes.Buffer) func() string {
		return func() string { l.mu.Lock(); defer l.mu.Unlock(); return b.String() }
	}
	output, errText := read(out, &outBuf), read(errOut, &errBuf)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int)
	go func() {
		env := func(k string) string { return map[string]string{"NATS_URL": url}[k] }
		done <- exitCode(run(ctx, []string{"thread", "watch", threadID}, env, out, errOut), errOut)
	}()
	waitOutput(t, output, "--- watching")
	s.Publish(t, threadID, turnID, "2", domain.TextDelta{MessageID: "a", Delta: "Streamed while watched."})
	s.Publish(t, threadID, turnID, "3", domain.TextDelta{MessageID: "b", Delta: "A second message."})
	waitOutput(t, output, "A second message.")
	cancel()
	if code := <-done; code != 0 {
		t.Fatalf("thread watch: exit %d\n%s%s", code, output(), errText())
	}
	got := output()
	for _, want := range []string{"before the watch.", "Streamed while watched.", "[assistant]\nA second message."} {
		if !strings.Contains(got, want) {
			t.Errorf("watch output lacks %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "before the watch.") != 1 {
		t.Errorf("text printed twice:\n%s", got)
	}
	if out, errOut, code := peon(t, url, "thread", "watch", "nope"); code != exitFailed || !strings.Contains(out+errOut, "thread_not_found") {
		t.Errorf("watch of an unknown thread: exit %d %s%s", code, out, errOut)
	}
}

// startTurnWithCLI creates a project and a thread and starts a turn, as a
// user would, and returns the thread and turn ids.
func startTurnWithCLI(t *testing.T, url string) (string, string) {
	t.Helper()
	var project, thread, turn contract.CommandReply
	for _, step := range []struct {
		args  []string
		reply *contract.CommandReply
	}{
		{[]string{"cmd", "project.create", "name=watched", "path=/watched"}, &project},
		{[]string{"cmd", "thread.create", "title=watched"}, &thread},
		{[]string{"cmd", "turn.start", "text=hello"}, &turn},
	} {
		switch {
		case thread.ThreadID != "":
			step.args = append(step.args, "thread_id="+thread.ThreadID)
		case project.ProjectID != "":
			step.args = append(step.args, "project_id="+project.ProjectID)
		}
		out, errOut, code := peon(t, url, step.args...)
		if code != 0 || json.Unmarshal([]byte(out), step.reply) != nil {
			t.Fatalf("peon %s: exit %d %s%s", strings.Join(step.args, " "), code, out, errOut)
		}
	}
	return thread.ThreadID, turn.TurnID
}

// TestHealthProbe: exit 0 on 200, 1 on another status, 3 when nothing answers.
func TestHealthProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	cases := []struct {
		url  string
		code int
	}{
		{srv.URL + "/healthz", exitOK},
		{srv.URL + "/other", exitFailed},
		{"http://127.0.0.1:1/healthz", exitUnavailable},
		{"::not a url", exitUsage},
	}
	for _, c := range cases {
		if _, errOut, code := peon(t, "", "health", "--http", c.url); code != c.code {
			t.Errorf("health --http %s: exit %d, want %d %s", c.url, code, c.code, errOut)
		}
	}
}

// TestBenchReport runs the raw baselines of `peon bench --quick` on an
// embedded server and checks the machine-readable report carries measured,
// positive figures.
func TestBenchReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a short benchmark")
	}
	out, errOut, code := peonFor(t, "", 2*time.Minute, "bench", "--quick", "--scenarios", "raw", "--json")
	if code != 0 {
		t.Fatalf("bench: exit %d\n%s", code, errOut)
	}
	var report loadgen.Report
	if err := json.Unmarshal([]byte(out), &report); err != nil {
		t.Fatalf("bench --json printed no report: %v\n%s", err, out)
	}
	for _, name := range []string{"raw.sync_publish", "raw.sync_publish.p50", "raw.async_publish", "raw.ordered_read", "raw.pipeline"} {
		if f, ok := report.Get(name); !ok || f.Value <= 0 {
			t.Errorf("figure %s missing or not positive: %+v", name, f)
		}
	}
	if report.Machine == "" || report.Server == "" {
		t.Errorf("report does not name the machine and server: %+v", report)
	}
}
