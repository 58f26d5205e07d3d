package loadgen_test

import (
	"context"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/loadgen"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

// TestGlass runs the time-to-glass scenario small on a whole in-process
// stack (decider, provider-ingest, projector, query), then its raw
// baseline on the same server: every delta sent becomes visible to the
// read model watcher, every raw message is read, and the latencies are
// ordered, positive, and related to the baseline's.
func TestGlass(t *testing.T) {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	g := loadgen.GlassLoad{Agents: 5, Rate: 100, Duration: time.Second} // 5 agents × 20 deltas/s × 1 s
	if g.Sent() != 100 {
		t.Fatalf("the load sends %d deltas, want 100", g.Sent())
	}
	r := &loadgen.Report{}
	if err := loadgen.Glass(ctx, s.NC, g, r); err != nil {
		t.Fatal(err)
	}
	events, err := s.JS.Stream(ctx, contract.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	if err := loadgen.GlassRaw(ctx, s.JS, events.CachedInfo().Config, g, r); err != nil {
		t.Fatal(err)
	}
	loadgen.CompareGlass(r, g)
	loadgen.AddGlassHighest(r, []loadgen.GlassLoad{g})

	for _, f := range r.Figures {
		t.Logf("%s = %.4g %s", f.Name, f.Value, f.Unit)
	}
	figure := func(name string) loadgen.Figure {
		t.Helper()
		f, ok := r.Get(name)
		if !ok {
			t.Fatalf("no figure %s in %+v", name, r.Figures)
		}
		return f
	}
	if sent, seen := figure("glass.r100.sent").Value, figure("glass.r100.visible").Value; sent != 100 || seen != sent {
		t.Errorf("sent %v deltas, %v visible: want 100 and 100", sent, seen)
	}
	if n := figure("raw.glass.r100.read").Value; n != 100 {
		t.Errorf("raw baseline read %v messages, want 100", n)
	}
	for _, name := range []string{"glass.r100", "raw.glass.r100"} {
		p50, p99, most := figure(name+".p50").Value, figure(name+".p99").Value, figure(name+".max").Value
		if p50 <= 0 || p50 > p99 || p99 > most {
			t.Errorf("%s: p50 %v, p99 %v, max %v ms: want 0 < p50 ≤ p99 ≤ max", name, p50, p99, most)
		}
		if offered := figure(name + ".offered").Value; offered <= 0 {
			t.Errorf("%s offered %v per second", name, offered)
		}
	}
	for _, q := range []string{".p50", ".p99", ".max"} {
		f, raw := figure("glass.r100"+q), figure("raw.glass.r100"+q)
		if f.Baseline != "raw.glass.r100"+q || f.Ratio != f.Value/raw.Value {
			t.Errorf("glass.r100%s: baseline %q ratio %v, want raw.glass.r100%s and %v", q, f.Baseline, f.Ratio, q, f.Value/raw.Value)
		}
	}
	p99 := figure("glass.r100.p99")
	if p99.Met == nil || *p99.Met != (p99.Value <= loadgen.GlassTargetP99) || p99.Target != "≤ 100 ms" {
		t.Errorf("glass.r100.p99 target %q met %v for %v ms", p99.Target, p99.Met, p99.Value)
	}
	highest := figure("glass.highest_rate_within_target")
	if highest.Met == nil || *highest.Met != *p99.Met {
		t.Errorf("highest rate within target: met %v, p99 met %v", highest.Met, *p99.Met)
	}
	if *p99.Met && highest.Value != figure("glass.r100.offered").Value {
		t.Errorf("highest rate within target %v, want the offered rate %v", highest.Value, figure("glass.r100.offered").Value)
	}
}
