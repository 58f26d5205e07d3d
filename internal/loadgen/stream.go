package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Stream has agents on `threads` threads publish `deltas` TextDeltas in
// all, as fast as they can, then TurnComplete, and measures from the first
// publish until the transcript projection has folded everything: deltas per
// second end to end. While it runs it samples the age of the oldest event
// not yet ingested and not yet folded (lag).
func Stream(ctx context.Context, nc *nats.Conn, threads, deltas int, r *Report) error {
	name := fmt.Sprintf("stream.threads_%d", threads)
	js, err := jetstream.New(nc, jetstream.WithPublishAsyncMaxPending(4096))
	if err != nil {
		return err
	}
	turns, refusals, err := startTurns(ctx, client.New(nc, domain.MessagePack), "stream", threads)
	if err != nil {
		return err
	}
	publish := func(t agentTurn, id string, e domain.ProviderEvent) error { return publishProvider(ctx, js, t, id, e) }
	// Warm up: one delta per turn, ingested before the clock starts, so the
	// figure is the steady state of a running ingest (a freshly pinned
	// instance first holds its input for one ack wait).
	for i, t := range turns {
		if err := publish(t, fmt.Sprint("warm", i), domain.TextDelta{MessageID: "m", Delta: "warm "}); err != nil {
			return err
		}
	}
	<-js.PublishAsyncComplete()
	if err := waitIngested(ctx, js, 0); err != nil {
		return err
	}

	sampler := startLagSampler(ctx, js)
	start := time.Now()
	for i := range deltas {
		t := turns[i%threads]
		if err := publish(t, fmt.Sprint("d", i), domain.TextDelta{MessageID: "m", Delta: "token "}); err != nil {
			return err
		}
	}
	for i, t := range turns {
		if err := publish(t, fmt.Sprint("end", i), domain.TurnComplete{StopReason: "end_turn"}); err != nil {
			return err
		}
	}
	<-js.PublishAsyncComplete()
	published := time.Since(start)
	if err := waitIngested(ctx, js, 60*time.Second); err != nil {
		return err
	}
	last, err := streamLast(ctx, js, contract.EventStream)
	if err != nil {
		return err
	}
	if err := waitFolded(ctx, js, last, 60*time.Second); err != nil {
		return err
	}
	elapsed := time.Since(start)
	ingestLag, foldLag := sampler.stop()
	r.Add(Figure{Name: name + ".deltas", Value: float64(deltas) / elapsed.Seconds(), Unit: "deltas/s"})
	r.Add(Figure{Name: name + ".publish_only", Value: float64(deltas) / published.Seconds(), Unit: "deltas/s"})
	r.Add(Figure{Name: name + ".ingest_lag.p50", Value: ms(ingestLag.percentile(0.5)), Unit: "ms"})
	r.Add(Figure{Name: name + ".ingest_lag.p99", Value: ms(ingestLag.percentile(0.99)), Unit: "ms"})
	r.Add(Figure{Name: name + ".fold_lag.p50", Value: ms(foldLag.percentile(0.5)), Unit: "ms"})
	r.Add(Figure{Name: name + ".fold_lag.p99", Value: ms(foldLag.percentile(0.99)), Unit: "ms"})
	addRefusals(r, name, refusals)
	return nil
}

// waitIngested waits until provider-ingest has nothing pending.
func waitIngested(ctx context.Context, js jetstream.JetStream, limit time.Duration) error {
	if limit == 0 {
		limit = 30 * time.Second
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		cons, err := js.Consumer(ctx, contract.ProviderStream, provision.IngestConsumer)
		if err != nil {
			return err
		}
		info, err := cons.Info(ctx)
		if err != nil {
			return err
		}
		if info.NumPending == 0 && info.NumAckPending == 0 {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("provider-ingest did not catch up within %s", limit)
}

func streamLast(ctx context.Context, js jetstream.JetStream, name string) (uint64, error) {
	s, err := js.Stream(ctx, name)
	if err != nil {
		return 0, err
	}
	info, err := s.Info(ctx)
	if err != nil {
		return 0, err
	}
	return info.State.LastSeq, nil
}

// waitFolded waits until the transcript has folded seq.
func waitFolded(ctx context.Context, js jetstream.JetStream, seq uint64, limit time.Duration) error {
	meta, err := js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		return err
	}
	v, ps, err := transcript(ctx, js)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if readmodel.Folded(ctx, meta, v, ps) >= seq {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("the transcript did not fold %d within %s", seq, limit)
}

// transcript returns the live read-model version and its transcript
// projections (one, or one per partition).
func transcript(ctx context.Context, js jetstream.JetStream) (int, []readmodel.Projection, error) {
	v, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return 0, nil, err
	}
	layout, err := readmodel.DiscoverLayout(ctx, js, v)
	if err != nil {
		return 0, nil, err
	}
	var out []readmodel.Projection
	for _, p := range layout {
		if p.Transcript {
			out = append(out, p)
		}
	}
	return v, out, nil
}

// lagSampler samples, every 50 ms, how old the oldest provider event not
// yet ingested is, and how old the oldest event not yet folded is.
type lagSampler struct {
	done   chan struct{}
	result chan [2]latencies
}

func startLagSampler(ctx context.Context, js jetstream.JetStream) *lagSampler {
	s := &lagSampler{done: make(chan struct{}), result: make(chan [2]latencies, 1)}
	go func() {
		var ingestLag, foldLag latencies
		meta, _ := js.KeyValue(ctx, contract.BucketMeta)
		v, ps, _ := transcript(ctx, js)
		events, _ := js.Stream(ctx, contract.EventStream)
		provider, _ := js.Stream(ctx, contract.ProviderStream)
		tick := time.NewTicker(50 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-s.done:
				s.result <- [2]latencies{ingestLag, foldLag}
				return
			case <-tick.C:
			}
			now := time.Now()
			if cons, err := js.Consumer(ctx, contract.ProviderStream, provision.IngestConsumer); err == nil {
				if info, err := cons.Info(ctx); err == nil {
					ingestLag = append(ingestLag, age(ctx, provider, info.AckFloor.Stream, info.NumPending+uint64(info.NumAckPending), now))
				}
			}
			if meta != nil && events != nil {
				f := readmodel.Folded(ctx, meta, v, ps)
				if info, err := events.Info(ctx); err == nil {
					foldLag = append(foldLag, age(ctx, events, f, info.State.LastSeq-f, now))
				}
			}
		}
	}()
	return s
}

// age is how long ago the message after seq was stored, or 0 if none waits.
func age(ctx context.Context, s jetstream.Stream, seq, waiting uint64, now time.Time) time.Duration {
	if waiting == 0 || s == nil {
		return 0
	}
	m, err := s.GetMsg(ctx, seq+1)
	if err != nil {
		return 0
	}
	return max(now.Sub(m.Time), 0)
}

func (s *lagSampler) stop() (latencies, latencies) {
	close(s.done)
	r := <-s.result
	return r[0], r[1]
}
