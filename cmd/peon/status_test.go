package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/services/projector"
)

// TestStatusHealthy: one verdict line, one table per concern, services by
// name with their instances, exit 0.
func TestStatusHealthy(t *testing.T) {
	_, url := startStack(t)
	waitOutput(t, func() string { return inProcess(t, invocation{args: []string{"status"}, env: at(url)}).out }, "ok: ")
	verify(t, []check{
		{invocation: invocation{args: []string{"status"}, env: at(url)}, code: 0, wantOut: []string{
			"ok: 4 services answering", "STREAM ", "PEON_EVENTS", "PROJECTION ", "catalog", "transcript", "SERVICE ",
			"peon-decider          1          d0", "peon-provider-ingest  1          i0", "CONSUMER ", "peon_provider_ingest"},
			not: []string{"{", "degraded"}},
	})
	got := inProcess(t, invocation{args: []string{"status", "--json"}, env: at(url)})
	var r struct {
		Verdict  string                             `json:"verdict"`
		Streams  map[string]struct{ Replicas int }  `json:"streams"`
		Services map[string]struct{ Instances int } `json:"services"`
	}
	if got.code != 0 || json.Unmarshal([]byte(got.out), &r) != nil || r.Verdict != "ok" ||
		r.Streams["PEON_EVENTS"].Replicas != 1 || r.Services["peon-query"].Instances != 1 {
		t.Fatalf("status --json: %s", got)
	}
}

// TestStatusDegraded: a missing service makes the verdict degraded, says
// which, and exits 1.
func TestStatusDegraded(t *testing.T) {
	s := peontest.Start(t) // decider and query; no ingest
	s.StartProjector(t, "p0", projector.Config{})
	s.WaitServing(t)
	url := s.Srv.ClientURL()
	verify(t, []check{
		{invocation: invocation{args: []string{"status"}, env: at(url)}, code: exitFailed,
			wantOut: []string{"degraded: no peon-provider-ingest instance answers", "peon-provider-ingest  0          none answers"}},
		{invocation: invocation{args: []string{"status", "--json"}, env: at(url)}, code: exitFailed,
			wantOut: []string{`"verdict": "degraded"`, `"no peon-provider-ingest instance answers"`}},
	})
}

// TestStatusRendersWhatTheReplyHas: fields the status reply carries beyond
// the known ones show up as columns, and its reasons make it degraded.
func TestStatusRendersWhatTheReplyHas(t *testing.T) {
	r := &statusReport{Verdict: "degraded", version: 1, Streams: map[string]streamStatus{}, Consumers: map[string]consumerStatus{},
		Services: map[string]serviceStatus{}, maxLag: 10,
		Projections: map[string]map[string]any{"catalog": {"last_folded": 5.0, "stream_last": 30.0, "lag": 25.0, "parked": 0.0,
			"degraded": true, "reasons": []any{"bucket peon_threads unreachable"}, "partitions": 2.0}}}
	r.layout = defaultLayout()
	if why := projectionProblem(r.Projections["catalog"], 10); !strings.Contains(why, "25 events behind") || !strings.Contains(why, "bucket peon_threads unreachable") {
		t.Errorf("problem: %q", why)
	}
	var b strings.Builder
	printStatus(&b, false, r)
	for _, want := range []string{"PARTITIONS", "REASONS", "bucket peon_threads unreachable"} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("status lacks %q:\n%s", want, b.String())
		}
	}
	if reasons := replyProblems(map[string]any{"degraded": true}); len(reasons) != 1 {
		t.Errorf("a degraded reply without reasons: %v", reasons)
	}
}
