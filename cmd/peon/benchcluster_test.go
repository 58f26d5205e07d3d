package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/loadgen"
)

// TestBenchCluster: `peon bench --cluster 3 --quick` starts three
// nats-server processes and every role as its own process, measures the raw
// baselines, commands and time to glass on that cluster, gives each
// command and glass figure its ratio to the raw figure of the same run and
// each role's CPU per command and per delta, and leaves no process and no
// directory behind. (About 30 s.)
func TestBenchCluster(t *testing.T) {
	tmp := t.TempDir()
	got := binary(t, invocation{args: []string{"bench", "--cluster", "3", "--quick", "--scenarios", "raw,commands,glass", "--glass-rates", "200", "--json"},
		env: map[string]string{"TMPDIR": tmp}, within: 4 * time.Minute})
	if got.code != 0 {
		t.Fatalf("bench failed: %s", got)
	}
	var r loadgen.Report
	if err := json.Unmarshal([]byte(got.out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, got.out)
	}
	if !strings.Contains(r.Topology, "3 nats-server processes") || !strings.Contains(r.Topology, "R3") || r.Sync != "always" {
		t.Errorf("topology %q, sync %q", r.Topology, r.Sync)
	}
	figure := func(name string) loadgen.Figure {
		t.Helper()
		f, ok := r.Get(name)
		if !ok || f.Value <= 0 {
			t.Errorf("figure %s missing or not positive: %+v", name, f)
		}
		return f
	}
	raw := figure("raw.sync_publish.p50")
	figure("raw.async_publish")
	for _, name := range []string{"commands.c1_i1.p50", "deltas.c1_i1.p50"} {
		f := figure(name)
		if f.Baseline != "raw.sync_publish.p50" || raw.Value <= 0 || abs(f.Ratio-f.Value/raw.Value) > 1e-9 {
			t.Errorf("%s: baseline %q ratio %v, want raw.sync_publish.p50 and %v", name, f.Baseline, f.Ratio, f.Value/raw.Value)
		}
	}
	floor := figure("raw.request_publish_reply.p50")
	for _, name := range []string{"commands.c1_i1.p50_vs_request_publish_reply", "deltas.c1_i1.p50_vs_request_publish_reply"} {
		f := figure(name)
		if f.Baseline != "raw.request_publish_reply.p50" || floor.Value <= 0 || abs(f.Ratio-f.Value/floor.Value) > 1e-9 {
			t.Errorf("%s: baseline %q ratio %v, want raw.request_publish_reply.p50 and %v", name, f.Baseline, f.Ratio, f.Value/floor.Value)
		}
	}
	if f := figure("commands.c16_i1.events"); f.Baseline != "raw.async_publish" {
		t.Errorf("commands.c16_i1.events compared with %q", f.Baseline)
	}
	if f := figure("deltas.c1_i1.decider_round_trips"); f.Value < 1 {
		t.Errorf("a command took %v JetStream requests: it takes at least its append", f.Value)
	}
	for _, role := range []string{"decider", "projector", "nats", "total"} {
		if f := figure("commands.c16_i1.cpu." + role); f.Unit != "CPU µs/command" {
			t.Errorf("cpu figure unit %q", f.Unit)
		}
	}
	if sent, seen := figure("glass.r200.sent").Value, figure("glass.r200.visible").Value; seen != sent {
		t.Errorf("glass: %v deltas sent, %v visible", sent, seen)
	}
	if f := figure("glass.r200.p99"); f.Baseline != "raw.glass.r200.p99" || f.Met == nil {
		t.Errorf("glass.r200.p99: baseline %q, met %v", f.Baseline, f.Met)
	}
	if f := figure("glass.r200.cpu.total"); f.Unit != "CPU µs/delta" {
		t.Errorf("glass cpu figure unit %q", f.Unit)
	}
	roles := map[string]int{}
	for _, p := range r.Processes {
		roles[p.Role]++
	}
	want := map[string]int{"nats": 3, "decider": 1, "projector": 1, "query": 1, "provider-ingest": 1}
	if len(roles) != len(want) {
		t.Errorf("processes by role %v, want %v", roles, want)
	}
	for role, n := range want {
		if roles[role] != n {
			t.Errorf("processes by role %v, want %v", roles, want)
		}
	}
	var pids []int
	for _, p := range r.Processes {
		pids = append(pids, p.PID)
	}
	checkTornDown(t, pids, tmp)
}

// TestBenchClusterInterrupted: a Ctrl-C while the cluster runs stops every
// child and removes their directory.
func TestBenchClusterInterrupted(t *testing.T) {
	tmp := t.TempDir()
	cmd := exec.Command(peonBin, "bench", "--cluster", "3", "--quick", "--scenarios", "commands")
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), "TMPDIR=" + tmp}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	up := regexp.MustCompile(`cluster up: (.*)`)
	var line []string
	for deadline := time.Now().Add(2 * time.Minute); line == nil; time.Sleep(50 * time.Millisecond) {
		line = up.FindStringSubmatch(stderr.String())
		select {
		case err := <-exited:
			t.Fatalf("bench exited before the cluster was up: %v\n%s", err, stderr.String())
		default:
		}
		if time.Now().After(deadline) {
			_ = cmd.Process.Kill()
			t.Fatalf("cluster never came up:\n%s", stderr.String())
		}
	}
	var pids []int
	for _, pair := range strings.Fields(line[1]) {
		_, pid, _ := strings.Cut(pair, "=")
		n, err := strconv.Atoi(pid)
		if err != nil {
			t.Fatalf("cluster up line %q", line[0])
		}
		pids = append(pids, n)
	}
	if len(pids) != 7 {
		t.Fatalf("%d processes in %q, want 7", len(pids), line[0])
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("bench still running a minute after Ctrl-C:\n%s", stderr.String())
	}
	checkTornDown(t, pids, tmp)
}

// checkTornDown fails for every process still alive and anything left in
// the bench's temporary directory.
func checkTornDown(t *testing.T, pids []int, tmp string) {
	t.Helper()
	for _, pid := range pids {
		if err := syscall.Kill(pid, 0); !errors.Is(err, syscall.ESRCH) {
			t.Errorf("process %d still there after the bench (%v)", pid, err)
		}
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("left behind in the temporary directory: %s", e.Name())
	}
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

// syncBuffer is a bytes.Buffer a child writes while the test reads it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// TestBenchClusterFlags: layouts --cluster cannot run are refused before
// anything starts.
func TestBenchClusterFlags(t *testing.T) {
	verify(t, []check{
		{invocation: invocation{args: []string{"bench", "--cluster", "2"}}, code: exitUsage, want: []string{"--cluster 2", "R2"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "9"}}, code: exitUsage, want: []string{"--cluster 9"}},
		{invocation: invocation{args: []string{"bench", "--instances", "decider=2"}}, code: exitUsage, want: []string{"--instances needs --cluster"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--instances", "gateway=2"}}, code: exitUsage, want: []string{`--instances "gateway=2"`}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--instances", "decider=0"}}, code: exitUsage, want: []string{"K within 1..16"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--instances", "query=0"}}, code: exitUsage, want: []string{"K within 1..16"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--instances", "projector=0", "--scenarios", "stream"}}, code: exitUsage, want: []string{"projector=0", "--scenarios raw,commands"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--nats-url", "nats://127.0.0.1:1"}}, code: exitUsage, want: []string{"not with --nats-url"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--scenarios", "rebuild"}}, code: exitUsage, want: []string{"--cluster runs raw"}},
		{invocation: invocation{args: []string{"bench", "--profile", "prof"}}, code: exitUsage, want: []string{"--profile needs --cluster"}},
		{invocation: invocation{args: []string{"bench", "--cluster-sync", "default"}}, code: exitUsage, want: []string{"--cluster-sync needs --cluster"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--cluster-sync", "never"}}, code: exitUsage, want: []string{"--cluster-sync"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--sync-always"}}, code: exitUsage, want: []string{"--cluster-sync", "not with --sync-always"}},
		{invocation: invocation{args: []string{"bench", "--cluster", "3", "--cpuprofile", "x.pprof"}}, code: exitUsage, want: []string{"--profile DIR"}},
		{invocation: invocation{args: []string{"bench", "--clients", "1,0"}}, code: exitUsage, want: []string{`--clients "1,0"`}},
		{invocation: invocation{args: []string{"bench", "--clients", "1,x"}}, code: exitUsage, want: []string{`--clients "1,x"`}},
	})
	if _, err := os.Stat("x.pprof"); err == nil {
		_ = os.Remove("x.pprof")
		t.Error("a refused --cpuprofile run wrote its profile")
	}
}

// TestBenchClusterKnobs: `--cluster-sync default` leaves the nodes on
// nats-server's default sync and the report says so, `--clients` sets the
// command scenario's client counts, and `--profile DIR` has every process
// (each node, each service instance, the bench) write a CPU profile of its
// life there, each readable, and says where. On one node (R1), the
// quickest cluster. (About 12 s.)
func TestBenchClusterKnobs(t *testing.T) {
	tmp, data, profiles := t.TempDir(), t.TempDir(), t.TempDir()
	got := binary(t, invocation{args: []string{"bench", "--cluster", "1", "--quick", "--scenarios", "raw,commands", "--clients", "2,1",
		"--cluster-sync", "default", "--profile", profiles, "--data-dir", data, "--json"},
		env: map[string]string{"TMPDIR": tmp}, within: 4 * time.Minute})
	if got.code != 0 {
		t.Fatalf("bench failed: %s", got)
	}
	var r loadgen.Report
	if err := json.Unmarshal([]byte(got.out), &r); err != nil {
		t.Fatalf("report: %v\n%s", err, got.out)
	}
	if r.Sync != "default (2 min)" || !strings.Contains(r.Topology, "sync default") {
		t.Errorf("topology %q, sync %q: want nats-server's default sync named", r.Topology, r.Sync)
	}
	conf, err := os.ReadFile(filepath.Join(data, "n1.conf"))
	if err != nil || strings.Contains(string(conf), "sync_interval") {
		t.Errorf("node configuration sets sync_interval or is missing (%v):\n%s", err, conf)
	}
	for _, name := range []string{"raw.request_publish_reply", "raw.request_publish_reply.p50", "raw.request_publish_reply.p99", "commands.c1_i1.p50", "commands.c2_i1.p50", "deltas.c2_i1.p50"} {
		if f, ok := r.Get(name); !ok || f.Value <= 0 {
			t.Errorf("figure %s missing or not positive: %+v", name, f)
		}
	}
	if f, ok := r.Get("commands.c16_i1.p50"); ok {
		t.Errorf("--clients 2,1 ran 16 clients: %+v", f)
	}
	if f, _ := r.Get("commands.c2_i1.events"); f.Baseline != "raw.async_publish" {
		t.Errorf("the largest client count, 2, is not the one compared with raw throughput: %+v", f)
	}
	want := []string{"bench.pprof", "nats-1.pprof", "decider-1.pprof", "projector-1.pprof", "query-1.pprof", "provider-ingest-1.pprof"}
	for _, name := range want {
		checkCPUProfile(t, filepath.Join(profiles, name))
	}
	if hint := "go tool pprof -top " + filepath.Join(profiles, "decider-1.pprof"); !strings.Contains(got.err, hint) {
		t.Errorf("stderr does not say %q:\n%s", hint, got.err)
	}
	var pids []int
	for _, p := range r.Processes {
		pids = append(pids, p.PID)
	}
	checkTornDown(t, pids, tmp)
}
