package loadgen

import (
	"context"
	"fmt"
	"math"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// GlassLoad is the shape of a time-to-glass run: Agents agents, each on a
// thread of its own with a started turn, streaming TextDeltas paced so
// that together they offer Rate deltas per second, for Duration.
type GlassLoad struct {
	Agents   int
	Rate     int // deltas per second, all agents together
	Duration time.Duration
	// Timeout is how long after the last publish every delta may take to
	// become visible (0: 30 s); past it the scenario fails.
	Timeout time.Duration
}

// GlassTargetP99 is the time to glass Peon aims for, at p99, in ms.
const GlassTargetP99 = 100

// Name prefixes the figures of the run: glass.r<rate>.
func (g GlassLoad) Name() string { return fmt.Sprintf("glass.r%d", g.Rate) }

// RawName prefixes its raw baseline's figures: raw.glass.r<rate>.
func (g GlassLoad) RawName() string { return "raw." + g.Name() }

// PerAgent is how many deltas each agent sends.
func (g GlassLoad) PerAgent() int {
	return max(1, int(math.Round(float64(g.Rate)*g.Duration.Seconds()/float64(g.Agents))))
}

// Sent is how many deltas the run sends in all.
func (g GlassLoad) Sent() int { return g.Agents * g.PerAgent() }

// interval is the time between two deltas of one agent.
func (g GlassLoad) interval() time.Duration {
	return time.Duration(float64(time.Second) * float64(g.Agents) / float64(g.Rate))
}

func (g GlassLoad) timeout() time.Duration {
	if g.Timeout > 0 {
		return g.Timeout
	}
	return 30 * time.Second
}

func (g GlassLoad) check() error {
	if g.Agents < 1 || g.Rate < 1 || g.Duration <= 0 {
		return fmt.Errorf("glass: want agents ≥ 1, rate ≥ 1 and a duration, got %d agents, %d deltas/s, %s", g.Agents, g.Rate, g.Duration)
	}
	return nil
}

// Glass measures time to glass: the latency from an agent publishing a
// TextDelta to its text being visible to a reader of the read model, that
// is a KV watcher on the peon_messages key of the agent's message, under
// a paced streaming load (not as fast as possible: agents streaming at a
// steady rate, as models do). Every delta must become visible; the
// figures are p50, p99 and max in ms, the offered rate the agents
// achieved, and the deltas sent and seen.
func Glass(ctx context.Context, nc *nats.Conn, g GlassLoad, r *Report) error {
	if err := g.check(); err != nil {
		return err
	}
	name := g.Name()
	var failed atomic.Int64
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096),
		jetstream.WithPublishAsyncErrHandler(func(jetstream.JetStream, *nats.Msg, error) { failed.Add(1) }))
	if err != nil {
		return err
	}
	turns, refusals, err := startTurns(ctx, client.New(nc, domain.MessagePack), "glass", g.Agents)
	if err != nil {
		return err
	}
	if err := glassWarmUp(ctx, js, turns); err != nil {
		return err
	}
	v, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return err
	}
	kv, err := js.KeyValue(ctx, readmodel.BucketsV(v).Messages)
	if err != nil {
		return err
	}
	tr := newGlassTracker(turns, g.PerAgent())
	w, err := kv.WatchFiltered(ctx, tr.keyList(), jetstream.UpdatesOnly())
	if err != nil {
		return fmt.Errorf("watch %s: %w", kv.Bucket(), err)
	}
	defer func() { _ = w.Stop() }()
	app := tr.sibling()
	stopAppends, err := followAppends(ctx, js, app)
	if err != nil {
		return fmt.Errorf("follow %s: %w", contract.EventStream, err)
	}
	defer stopAppends()
	read := make(chan error, 1)
	go func() { read <- tr.read(w) }()

	elapsed, err := pace(ctx, g.Agents, g.PerAgent(), g.interval(), func(a, i int) error {
		tr.stamp(a, i)
		return publishProvider(ctx, js, turns[a], fmt.Sprint("g", i), domain.TextDelta{MessageID: glassMessageID(i), Delta: glassToken(i)})
	})
	if err != nil {
		return err
	}
	limit := time.NewTimer(g.timeout())
	defer limit.Stop()
	select {
	case err := <-read:
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	case <-limit.C:
		_ = w.Stop()
		<-read
		return fmt.Errorf("%s: only %d of %d deltas visible in %s %s after the last publish (%d publishes not acknowledged)",
			name, tr.visible, tr.total, kv.Bucket(), g.timeout(), failed.Load())
	case <-ctx.Done():
		return ctx.Err()
	}
	// Stop watching before the turns end: their completion rewrites every
	// message, and a watcher nobody reads holds its subscription up.
	_ = w.Stop()
	r.Add(Figure{Name: name + ".agents", Value: float64(g.Agents), Unit: "agents"})
	r.Add(Figure{Name: name + ".offered", Value: float64(tr.total) / elapsed.Seconds(), Unit: "deltas/s"})
	r.Add(Figure{Name: name + ".sent", Value: float64(tr.total), Unit: "deltas"})
	r.Add(Figure{Name: name + ".visible", Value: float64(tr.visible), Unit: "deltas"})
	addLatencies(r, name, tr.lat)
	stopAppends()
	// Deltas seen in the stream, in the order it holds them: usually all,
	// the rest arriving between the last visible one and the stop.
	if len(app.lat) > 0 {
		addLatencies(r, name+".appended", app.lat)
	}
	addRefusals(r, name, refusals)
	return glassEndTurns(ctx, js, turns)
}

// glassWarmUp streams one delta per turn, in a message of its own, and
// waits until it is folded: the figures are then the steady state of a
// running ingest and projector (a freshly pinned ingest instance first
// holds its input for one ack wait).
func glassWarmUp(ctx context.Context, js jetstream.JetStream, turns []agentTurn) error {
	for _, t := range turns {
		if err := publishProvider(ctx, js, t, "warm", domain.TextDelta{MessageID: "warm", Delta: "warm "}); err != nil {
			return err
		}
	}
	if err := publishesDone(ctx, js); err != nil {
		return err
	}
	if err := waitIngested(ctx, js, 0); err != nil {
		return err
	}
	last, err := streamLast(ctx, js, contract.EventStream)
	if err != nil {
		return err
	}
	return waitFolded(ctx, js, last, 60*time.Second)
}

// glassEndTurns completes every turn, leaving the threads idle, and waits
// until ingest has taken it in, so the next run starts on a quiet stack.
func glassEndTurns(ctx context.Context, js jetstream.JetStream, turns []agentTurn) error {
	for _, t := range turns {
		if err := publishProvider(ctx, js, t, "end", domain.TurnComplete{StopReason: "end_turn"}); err != nil {
			return err
		}
	}
	if err := publishesDone(ctx, js); err != nil {
		return err
	}
	return waitIngested(ctx, js, 60*time.Second)
}

// publishesDone waits until every async publish is acknowledged (or failed).
func publishesDone(ctx context.Context, js jetstream.JetStream) error {
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// addLatencies adds <name>.p50, .p99 and .max in ms.
func addLatencies(r *Report, name string, l latencies) {
	r.Add(Figure{Name: name + ".p50", Value: ms(l.percentile(0.5)), Unit: "ms"})
	r.Add(Figure{Name: name + ".p99", Value: ms(l.percentile(0.99)), Unit: "ms"})
	r.Add(Figure{Name: name + ".max", Value: ms(l.percentile(1)), Unit: "ms"})
}

// CompareGlass gives the run's latencies their ratios to the raw
// baseline's (lower is better) and checks p99 against GlassTargetP99.
func CompareGlass(r *Report, g GlassLoad) {
	for _, q := range []string{".p50", ".p99", ".max"} {
		r.Relate(g.Name()+q, g.RawName()+q)
	}
	r.AtMost(g.Name()+".p99", GlassTargetP99)
}

// AddGlassHighest reports, over the runs at several rates, the offered
// rate of the highest one whose p99 met GlassTargetP99 (0, not met, when
// none did): glass.highest_rate_within_target.
func AddGlassHighest(r *Report, loads []GlassLoad) {
	best, found := 0.0, false
	for _, g := range loads {
		p99, ok := r.Get(g.Name() + ".p99")
		offered, _ := r.Get(g.Name() + ".offered")
		if ok && p99.Value <= GlassTargetP99 && (!found || offered.Value > best) {
			best, found = offered.Value, true
		}
	}
	r.Add(Figure{Name: "glass.highest_rate_within_target", Value: best, Unit: "deltas/s",
		Target: fmt.Sprintf("p99 ≤ %d ms", GlassTargetP99), Met: &found})
}
