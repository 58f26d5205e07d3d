package loadgen

import (
	"context"
	"encoding/binary"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// glassRawBytes is the size of a raw baseline message, about that of a
// provider message carrying one short TextDelta.
const glassRawBytes = 128

// GlassRaw is time to glass's baseline: raw JetStream at the same rate, on
// a scratch stream made like the event stream (storage, replicas). As many
// publishers as agents, paced the same way, async-publish messages that
// carry their send time; an ordered consumer reads them, and each
// message's latency is its receive time minus its send time. The least a
// durable publish-then-read path costs at this rate, with none of Peon's
// work (ingest, decide, append, fold, KV write) in between.
func GlassRaw(ctx context.Context, js jetstream.JetStream, like jetstream.StreamConfig, g GlassLoad, r *Report) error {
	if err := g.check(); err != nil {
		return err
	}
	defer func() { _ = js.DeleteStream(context.Background(), rawStream) }()
	s, err := rawScratch(ctx, js, like)
	if err != nil {
		return fmt.Errorf("scratch stream: %w", err)
	}
	cons, err := s.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	base, total := time.Now(), g.Sent()
	lat := make(latencies, 0, total)
	var mu sync.Mutex // an ordered consumer that resets may overlap two handlers for a moment
	all := make(chan struct{})
	cc, err := cons.Consume(func(m jetstream.Msg) {
		now := time.Since(base)
		mu.Lock()
		defer mu.Unlock()
		if len(m.Data()) < 8 || len(lat) == total {
			return
		}
		lat = append(lat, now-time.Duration(binary.BigEndian.Uint64(m.Data())))
		if len(lat) == total {
			close(all)
		}
	})
	if err != nil {
		return err
	}
	defer cc.Stop()

	elapsed, err := pace(ctx, g.Agents, g.PerAgent(), g.interval(), func(a, _ int) error {
		data := make([]byte, glassRawBytes)
		binary.BigEndian.PutUint64(data, uint64(time.Since(base)))
		subject := fmt.Sprintf("%s.%d", rawSubject, a%64)
		return inWindow(ctx, js, func() error {
			_, err := js.PublishAsync(subject, data)
			return err
		})
	})
	if err != nil {
		return err
	}
	limit := time.NewTimer(g.timeout())
	defer limit.Stop()
	select {
	case <-all:
	case <-limit.C:
		mu.Lock()
		defer mu.Unlock()
		return fmt.Errorf("%s: only %d of %d messages read %s after the last publish", g.RawName(), len(lat), total, g.timeout())
	case <-ctx.Done():
		return ctx.Err()
	}
	name := g.RawName()
	r.Add(Figure{Name: name + ".offered", Value: float64(total) / elapsed.Seconds(), Unit: "msgs/s"})
	r.Add(Figure{Name: name + ".read", Value: float64(total), Unit: "msgs"})
	addLatencies(r, name, lat)
	return nil
}
