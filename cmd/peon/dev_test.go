package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/domain"
)

// devProcess is a `peon dev` run of the built binary.
type devProcess struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	logs bytes.Buffer
	done chan error
}

func (d *devProcess) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.Write(p)
}

func (d *devProcess) stderr() string {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.logs.String()
}

func startDev(t *testing.T, args ...string) *devProcess {
	t.Helper()
	if !slices.Contains(args, "--http") {
		args = append(args, "--http", "127.0.0.1:0") // tests run side by side
	}
	d := &devProcess{cmd: exec.Command(peonBin, append([]string{"dev", "--log-format", "json"}, args...)...), done: make(chan error, 1)}
	d.cmd.Stderr = d
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { d.done <- d.cmd.Wait() }()
	t.Cleanup(func() {
		_ = d.cmd.Process.Kill()
		<-d.done
	})
	return d
}

// waitBanner waits until peon dev says it runs: it prints the banner only
// once every service serves.
func (d *devProcess) waitBanner(t *testing.T) string {
	t.Helper()
	deadline := time.After(30 * time.Second)
	for !strings.Contains(d.stderr(), "Peon is running") {
		select {
		case err := <-d.done:
			d.done <- err
			t.Fatalf("peon dev exited (%v):\n%s", err, d.stderr())
		case <-deadline:
			t.Fatalf("no banner after 30s:\n%s", d.stderr())
		case <-time.After(20 * time.Millisecond):
		}
	}
	return d.stderr()
}

func (d *devProcess) stop(t *testing.T) {
	t.Helper()
	if err := d.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-d.done:
		d.done <- err
		if err != nil {
			t.Fatalf("peon dev exited with %v:\n%s", err, d.stderr())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("peon dev did not stop within 15s of SIGTERM")
	}
}

var (
	bannerURL  = regexp.MustCompile(`embedded NATS server at (nats://[0-9.:]+)`)
	consoleURL = regexp.MustCompile(`Open the console: (http://[0-9.:]+/)`)
)

// httpGet fetches a URL and returns its status and body.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(body)
}

// TestDevBusyPort: a port something else holds fails within a second, with
// the operating system's words, exit 1.
func TestDevBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	for _, r := range runners {
		start := time.Now()
		got := r.run(t, invocation{args: []string{"dev", "--listen", l.Addr().String(), "--data-dir", t.TempDir()}, within: 10 * time.Second})
		took := time.Since(start)
		if got.code != exitFailed || !strings.Contains(got.err, "address already in use") || !strings.Contains(got.err, l.Addr().String()) {
			t.Errorf("%s: %s", r.name, got)
		}
		if took > time.Second {
			t.Errorf("%s: took %s to fail", r.name, took)
		}
	}
}

// TestDevDataDirLock: a second peon dev on the same data directory exits at
// once, naming the first one's pid; the banner gives the address it was
// started on, with -s since it is not the default.
func TestDevDataDirLock(t *testing.T) {
	data := t.TempDir()
	first := startDev(t, "--listen", "127.0.0.1:-1", "--data-dir", data)
	banner := first.waitBanner(t)
	m := bannerURL.FindStringSubmatch(banner)
	if m == nil {
		t.Fatalf("banner names no URL:\n%s", banner)
	}
	if !strings.Contains(banner, "cmd project.create -s "+m[1]+" name=demo") || !strings.Contains(banner, "projects -s "+m[1]) {
		t.Errorf("the banner's advice lacks -s %s:\n%s", m[1], banner)
	}
	for _, r := range runners {
		start := time.Now()
		got := r.run(t, invocation{args: []string{"dev", "--listen", "127.0.0.1:-1", "--data-dir", data}, within: 10 * time.Second})
		want := "in use by process " + strconv.Itoa(first.cmd.Process.Pid)
		if got.code != exitFailed || !strings.Contains(got.err, want) || time.Since(start) > 2*time.Second {
			t.Errorf("%s: second peon dev on one data dir: want exit 1 with %q at once; got after %s %s", r.name, want, time.Since(start), got)
		}
	}
	first.stop(t)
	// Released with the process: the directory can be used again.
	again := startDev(t, "--listen", "127.0.0.1:-1", "--data-dir", data)
	again.waitBanner(t)
	again.stop(t)
}

// TestDevEndToEnd runs `peon dev` as a user would: drives a turn, stops it
// with SIGTERM, restarts it on the same data and finds the same state; the
// demo's simulated agents stream once the services serve.
func TestDevEndToEnd(t *testing.T) {
	data := t.TempDir()
	dev := startDev(t, "--listen", "127.0.0.1:-1", "--data-dir", data, "--demo", "--demo-threads", "1")
	banner := dev.waitBanner(t)
	url := bannerURL.FindStringSubmatch(banner)[1]
	web := consoleURL.FindStringSubmatch(banner)
	if web == nil {
		t.Fatalf("the banner gives no console URL:\n%s", banner)
	}
	env := at(url)
	r := runners[1]
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=e2e", "path=/e2e"}, env: env})
	// provider=external: this test plays the agent (the dev host's
	// simulator answers threads that name no provider).
	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID, "title=e2e", "provider=external"}, env: env})
	tu := send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=go"}, env: env})
	s := peontest.Connect(t, url)
	for i, word := range strings.Fields("streamed by the agent") {
		s.Publish(t, th.ThreadID, tu.TurnID, "w"+strconv.Itoa(i), domain.TextDelta{MessageID: "m", Delta: word + " "})
	}
	s.Publish(t, th.ThreadID, tu.TurnID, "end", domain.TurnComplete{StopReason: "end_turn"})
	show := func() string {
		return binary(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	}
	waitOutput(t, show, "status Idle")
	before := binary(t, invocation{args: []string{"thread", "show", th.ThreadID, "--json"}, env: env}).out
	if !strings.Contains(before, "streamed by the agent") {
		t.Fatalf("transcript: %s", before)
	}
	// The console and the HTTP API answer on loopback without a token.
	if code, page := httpGet(t, web[1]); code != 200 || !strings.Contains(page, "<title>") {
		t.Errorf("console: %d %.200s", code, page)
	}
	if code, body := httpGet(t, web[1]+"v1/threads/"+th.ThreadID+"/messages"); code != 200 || !strings.Contains(body, "streamed by the agent") {
		t.Errorf("GET /v1/threads/%s/messages: %d %.300s", th.ThreadID, code, body)
	}
	// The demo plays on its own thread.
	waitOutput(t, func() string { return binary(t, invocation{args: []string{"threads"}, env: env}).out }, "simulated thread 0")
	dev.stop(t)
	if conn, err := net.DialTimeout("tcp", strings.TrimPrefix(url, "nats://"), time.Second); err == nil {
		conn.Close()
		t.Fatal("something still listens after peon dev stopped")
	}

	port := strings.TrimPrefix(url[strings.LastIndex(url, ":"):], ":")
	dev = startDev(t, "--listen", "127.0.0.1:"+port, "--data-dir", data)
	dev.waitBanner(t)
	after := binary(t, invocation{args: []string{"thread", "show", th.ThreadID, "--json"}, env: env}).out
	var b, a struct{ Thread *domain.ThreadState }
	_ = json.Unmarshal([]byte(before), &b)
	_ = json.Unmarshal([]byte(after), &a)
	if a.Thread == nil || a.Thread.Seq != b.Thread.Seq || !strings.Contains(after, "streamed by the agent") {
		t.Fatalf("state differs after restart:\nbefore %s\nafter %s", before, after)
	}
	if got := binary(t, invocation{args: []string{"status"}, env: env}); got.code != 0 {
		t.Errorf("status after restart: %s", got)
	}
	dev.stop(t)
}

// TestDevRunsGitOperations: `peon dev` runs the git operations of the
// projects on its host, in a real repository, through the CLI's commands.
func TestDevRunsGitOperations(t *testing.T) {
	home := t.TempDir()
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, "gitconfig"))
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@example.com",
		"GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@example.com"} {
		t.Setenv(k, v)
	}
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = repo
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "--quiet")
	if err := os.WriteFile(filepath.Join(repo, "README"), []byte("hi\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "--quiet", "-m", "initial")

	dev := startDev(t, "--listen", "127.0.0.1:-1", "--data-dir", t.TempDir())
	env := at(bannerURL.FindStringSubmatch(dev.waitBanner(t))[1])
	r := runners[1]
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=repo", "path=" + repo}, env: env})
	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID}, env: env})
	if err := os.WriteFile(filepath.Join(repo, "work.go"), []byte("package work\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	send(t, r, invocation{args: []string{"cmd", "git.commit", "thread_id=" + th.ThreadID, "message=the agent's work"}, env: env})
	show := func() string {
		return binary(t, invocation{args: []string{"thread", "show", th.ThreadID, "--json"}, env: env}).out
	}
	waitOutput(t, show, `"status": "completed"`)
	if got := git("log", "-1", "--format=%s"); got != "the agent's work" {
		t.Fatalf("last commit %q", got)
	}
	if !strings.Contains(show(), `"sha": "`+git("rev-parse", "HEAD")+`"`) {
		t.Fatalf("the thread does not record the commit's sha:\n%s", show())
	}
	send(t, r, invocation{args: []string{"cmd", "git.commit", "thread_id=" + th.ThreadID, "message=again"}, env: env})
	waitOutput(t, show, "nothing to commit")
	human := binary(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	for _, want := range []string{"git operations", `commit "the agent's work"  completed ` + git("rev-parse", "HEAD")[:12],
		`commit "again"  failed: git commit: `, "\n      nothing to commit"} {
		if !strings.Contains(human, want) {
			t.Errorf("thread show lacks %q:\n%s", want, human)
		}
	}
	dev.stop(t)
}

// TestDevHostRunsAgents: `peon dev` answers a new thread with the
// simulator, and runs a script given with --provider in the project's git
// repository: the file it edits is there, its output is the transcript.
func TestDevHostRunsAgents(t *testing.T) {
	repo := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"config", "user.email", "t@example.com"}, {"config", "user.name", "t"}, {"commit", "-q", "--allow-empty", "-m", "init"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	agent := filepath.Join(t.TempDir(), "agent.sh")
	if err := os.WriteFile(agent, []byte("#!/bin/sh\nprompt=$(cat)\necho \"$prompt\" > TODO\necho \"wrote TODO\"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	dev := startDev(t, "--listen", "127.0.0.1:-1", "--data-dir", t.TempDir(), "--provider", "script=exec:"+agent)
	env := at(bannerURL.FindStringSubmatch(dev.waitBanner(t))[1])
	r := runners[1]
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=repo", "path=" + repo}, env: env})
	show := func(thread string) func() string {
		return func() string { return binary(t, invocation{args: []string{"thread", "show", thread}, env: env}).out }
	}

	sim := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID, "runtime_mode=full-access"}, env: env})
	send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + sim.ThreadID, "text=hello"}, env: env})
	waitOutput(t, show(sim.ThreadID), "status Idle")
	if out := show(sim.ThreadID)(); !strings.Contains(out, "failing test") {
		t.Errorf("the simulator did not answer:\n%s", out)
	}

	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID, "provider=script"}, env: env})
	send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=buy milk"}, env: env})
	waitOutput(t, show(th.ThreadID), "status Idle")
	if out := show(th.ThreadID)(); !strings.Contains(out, "wrote TODO") {
		t.Errorf("the script's output is not the transcript:\n%s", out)
	}
	if b, err := os.ReadFile(filepath.Join(repo, "TODO")); err != nil || string(b) != "buy milk\n" {
		t.Errorf("TODO = %q (%v)", b, err)
	}
	// The host checkpointed the turn: its diff is there to read.
	diff := func() string {
		return binary(t, invocation{args: []string{"thread", "diff", th.ThreadID}, env: env}).out
	}
	waitOutput(t, diff, "+buy milk")
	if out := diff(); !strings.Contains(out, "TODO") {
		t.Errorf("thread diff:\n%s", out)
	}
	status := binary(t, invocation{args: []string{"status"}, env: env}).out
	// claude and codex are among the providers when they are on PATH.
	if !regexp.MustCompile(`(?m)^local\s+\S+\s+active\s+\S*script,simulator\S* \(simulator\)\s+0$`).MatchString(status) {
		t.Errorf("peon status does not show the host:\n%s", status)
	}
	dev.stop(t)
}

// TestDevKilledMidTurn: `peon dev` killed (SIGKILL) while its host runs a
// turn, then started again on the same data: the turn ends in a retryable
// Error, and the thread's next turn is played.
func TestDevKilledMidTurn(t *testing.T) {
	dir := t.TempDir()
	// Writes, then waits for as long as peon dev (its parent) lives.
	hang := filepath.Join(dir, "hang.sh")
	answer := filepath.Join(dir, "answer.sh")
	for path, body := range map[string]string{
		// An agent that would outlive its host: its child sleeps on.
		hang:   "#!/bin/sh\ncat >/dev/null\necho started\nsleep 120\n",
		answer: "#!/bin/sh\necho \"answer: $(cat)\"\n",
	} {
		if err := os.WriteFile(path, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	data := t.TempDir()
	args := []string{"--data-dir", data, "--provider", "hang=exec:" + hang, "--provider", "answer=exec:" + answer}
	dev := startDev(t, append([]string{"--listen", "127.0.0.1:-1"}, args...)...)
	url := bannerURL.FindStringSubmatch(dev.waitBanner(t))[1]
	env := at(url)
	r := runners[1]
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=k", "path=" + dir}, env: env})
	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID, "provider=hang"}, env: env})
	tu := send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=go"}, env: env})
	show := func() string {
		return binary(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	}
	waitOutput(t, show, "started")
	if err := dev.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-dev.done
	dev.done <- nil

	port := strings.TrimPrefix(url[strings.LastIndex(url, ":"):], ":")
	dev = startDev(t, append([]string{"--listen", "127.0.0.1:" + port}, args...)...)
	dev.waitBanner(t)
	// After a crash the read model waits out the dead run's consumer pins
	// (10 s) before it moves again, so this waits longer than waitOutput.
	var out string
	for deadline := time.Now().Add(45 * time.Second); !strings.Contains(out, "status Error"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the orphaned turn never ended:\n%s\n%s", out, dev.stderr())
		}
		out = show()
	}
	if !strings.Contains(out, "host stopped") {
		t.Errorf("the orphaned turn's error:\n%s", out)
	}
	// Nothing of the lost turn's agent runs any more: the agent died with
	// its host, and the restarted host killed what the agent had started.
	if pids := turnProcesses(t, tu.TurnID); len(pids) > 0 {
		t.Errorf("processes of the lost turn still run: %v", pids)
	}
	send(t, r, invocation{args: []string{"cmd", "thread.configure", "thread_id=" + th.ThreadID, "provider=answer"}, env: env})
	send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=again"}, env: env})
	waitOutput(t, show, "answer: again")
	dev.stop(t)
}

// turnProcesses lists the live processes (zombies aside) whose environment
// names the turn, as the host's agents carry it.
func turnProcesses(t *testing.T, turnID string) []int {
	t.Helper()
	entries, err := os.ReadDir("/proc")
	if err != nil {
		t.Skip("no /proc here")
	}
	var pids []int
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		env, err := os.ReadFile("/proc/" + e.Name() + "/environ")
		if err != nil || !bytes.Contains(env, []byte("PEON_TURN_ID="+turnID+"\x00")) {
			continue
		}
		if stat, err := os.ReadFile("/proc/" + e.Name() + "/stat"); err == nil {
			if f := strings.Fields(string(stat)); len(f) > 2 && f[2] != "Z" {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}
