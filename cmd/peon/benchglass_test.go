package main

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/loadgen"
)

// TestBenchGlass runs `peon bench --quick --scenarios glass` at two rates
// on an embedded server: each rate has its time-to-glass figures beside
// their raw baseline, every delta sent was seen, and the report names the
// highest rate that met the p99 target.
func TestBenchGlass(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a short benchmark")
	}
	got := inProcess(t, invocation{args: []string{"bench", "--quick", "--scenarios", "glass", "--glass-rates", "100,200", "--json"}, within: 3 * time.Minute})
	if got.code != 0 {
		t.Fatalf("bench: %s", got)
	}
	var r loadgen.Report
	if err := json.Unmarshal([]byte(got.out), &r); err != nil {
		t.Fatalf("bench --json printed no report: %v\n%s", err, got.out)
	}
	figure := func(name string) loadgen.Figure {
		t.Helper()
		f, ok := r.Get(name)
		if !ok {
			t.Fatalf("no figure %s in %s", name, got.out)
		}
		return f
	}
	best := 0.0
	for _, rate := range []string{"100", "200"} {
		name := "glass.r" + rate
		if sent, seen := figure(name+".sent").Value, figure(name+".visible").Value; sent <= 0 || seen != sent {
			t.Errorf("%s: %v deltas sent, %v visible", name, sent, seen)
		}
		p99 := figure(name + ".p99")
		if p99.Baseline != "raw."+name+".p99" || p99.Met == nil {
			t.Errorf("%s.p99: baseline %q, met %v: want the raw figure and the target checked", name, p99.Baseline, p99.Met)
		}
		if p99.Met != nil && *p99.Met {
			best = max(best, figure(name+".offered").Value)
		}
	}
	if f := figure("glass.highest_rate_within_target"); f.Value != best {
		t.Errorf("highest rate within target %v, want %v", f.Value, best)
	}
}

// TestBenchGlassRates: a --glass-rates the bench cannot run is refused
// before anything starts.
func TestBenchGlassRates(t *testing.T) {
	verify(t, []check{
		{invocation: invocation{args: []string{"bench", "--glass-rates", "1000,fast"}}, code: exitUsage, want: []string{`--glass-rates "1000,fast"`}},
		{invocation: invocation{args: []string{"bench", "--glass-rates", "0"}}, code: exitUsage, want: []string{"within 1..1000000"}},
	})
}
