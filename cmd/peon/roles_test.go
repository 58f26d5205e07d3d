package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/loadgen"
	"github.com/peonhq/peon/internal/natstest"
)

// TestRolesAndAdmin covers setup, each service role, simulate and rebuild
// against a real server, as separate commands would run them.
func TestRolesAndAdmin(t *testing.T) {
	url := natstest.Server(t).ClientURL()
	env := at(url)
	got := inProcess(t, invocation{args: []string{"setup", "--json"}, env: env})
	if got.code != 0 || !strings.Contains(got.out, `"replicas": 1`) {
		t.Fatalf("setup: %s", got)
	}
	// Each role starts, serves until interrupted, and stops cleanly; text
	// logs render a service's counters as fields, never as a Go struct.
	nc, _ := natstest.ConnectURL(t, url)
	for role, service := range map[string]string{"decider": "peon-decider", "projector": "peon-projector", "query": "peon-query", "provider-ingest": "peon-provider-ingest"} {
		b := runBackground(url, role, "--log-format", "text", "--instance", role+"-1")
		if err := waitInstances(context.Background(), nc, service, 1); err != nil {
			b.cancel()
			t.Fatalf("%s: %v\n%s", role, err, b.stderr())
		}
		b.cancel()
		code := b.exited(t, 10*time.Second)
		logs := b.stderr()
		if code != 0 || !strings.Contains(logs, role+"-1") {
			t.Errorf("%s: exit %d\n%s", role, code, logs)
		}
		if strings.Contains(logs, "{") {
			t.Errorf("%s: a text log prints a Go value:\n%s", role, logs)
		}
		if role == "provider-ingest" && !strings.Contains(logs, "stats.applied=0") {
			t.Errorf("provider-ingest's stats not rendered as fields:\n%s", logs)
		}
	}
	// A whole stack in the background, then the client-side admin commands.
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, role := range []string{"decider", "projector", "query", "provider-ingest"} {
		wg.Go(func() {
			env := newEnvironment(func(k string) string { return env[k] }, strings.NewReader(""), &strings.Builder{}, &lockedWriter{w: &strings.Builder{}})
			_ = runEnv(ctx, []string{role}, env)
		})
	}
	defer func() { cancel(); wg.Wait() }()
	waitOutput(t, func() string { return inProcess(t, invocation{args: []string{"status"}, env: env}).out }, "ok: ")
	// Off a terminal, progress is plain lines: no frames (\r) in a log file.
	got = binary(t, invocation{args: []string{"simulate", "--threads", "1", "--turns", "2", "--deltas", "5", "--rate", "0", "--approval-every", "0"}, env: env})
	if got.code != 0 || !strings.Contains(got.err, "2 turns on 1 threads") || !strings.Contains(got.err, "simulate [") || strings.Contains(got.err, "\r") {
		t.Fatalf("simulate: %q", got.err)
	}
	// The layout of a version stays; a rebuild changes it.
	got = inProcess(t, invocation{args: []string{"setup", "--transcript-partitions", "2"}, env: env})
	if got.code != exitFailed || !strings.Contains(got.err, "rebuild to change it") {
		t.Fatalf("setup with another partition count: %s", got)
	}
	got = binary(t, invocation{args: []string{"projector", "rebuild", "--transcript-partitions", "2"}, env: env})
	if got.code != 0 || !strings.Contains(got.out, "read model v2 built") || strings.Contains(got.err, "\r") {
		t.Fatalf("rebuild: %q", got)
	}
	got = inProcess(t, invocation{args: []string{"status"}, env: env})
	if !strings.Contains(got.out, "transcript_p1") || !strings.Contains(got.out, "read model v2") {
		t.Fatalf("status after a rebuild into two partitions: %s", got)
	}
	got = inProcess(t, invocation{args: []string{"projects"}, env: env})
	if got.code != 0 || !strings.Contains(got.out, "simulation") {
		t.Fatalf("projects after the rebuild switched readers: %s", got)
	}
}

// TestHealthProbe: exit 0 on 200, 1 on another status, 3 when nothing answers.
func TestHealthProbe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.Error(w, "unhealthy", http.StatusServiceUnavailable)
		}
	}))
	defer srv.Close()
	verify(t, []check{
		{invocation: invocation{args: []string{"health", "--http", srv.URL + "/healthz"}}, code: exitOK},
		{invocation: invocation{args: []string{"health", "--http", srv.URL + "/other"}}, code: exitFailed, want: []string{"503"}},
		{invocation: invocation{args: []string{"health", "--http", "http://127.0.0.1:1/healthz"}}, code: exitUnavailable},
		{invocation: invocation{args: []string{"health", "--http", "::not a url"}}, code: exitUsage},
	})
}

// TestBenchReport runs the raw baselines of `peon bench --quick` on an
// embedded server and checks the machine-readable report carries measured,
// positive figures.
func TestBenchReport(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a short benchmark")
	}
	got := inProcess(t, invocation{args: []string{"bench", "--quick", "--scenarios", "raw", "--json"}, within: 2 * time.Minute})
	if got.code != 0 {
		t.Fatalf("bench: %s", got)
	}
	var report loadgen.Report
	if err := json.Unmarshal([]byte(got.out), &report); err != nil {
		t.Fatalf("bench --json printed no report: %v\n%s", err, got.out)
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
