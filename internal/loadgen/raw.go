package loadgen

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

const (
	rawStream  = "PEON_BENCH_RAW"
	rawSubject = "peon.bench.raw"
)

// rawScratch creates an empty scratch stream with the event stream's
// storage and replicas, so raw figures are comparable.
func rawScratch(ctx context.Context, js jetstream.JetStream, like jetstream.StreamConfig) (jetstream.Stream, error) {
	_ = js.DeleteStream(ctx, rawStream)
	return js.CreateStream(ctx, jetstream.StreamConfig{Name: rawStream, Subjects: []string{rawSubject + ".>"},
		Storage: like.Storage, Replicas: like.Replicas, AllowAtomicPublish: true})
}

// Raw measures the baselines on a scratch stream: sync publish (one client,
// one request in flight), request→publish→reply (a responder on the
// responder connection, nil for js's own, publishing each request
// synchronously before it replies: the floor of a command), async publish
// (windowed), an ordered read, and publish+read run as one pipeline.
func Raw(ctx context.Context, js jetstream.JetStream, responder *nats.Conn, like jetstream.StreamConfig, n, size int, r *Report) error {
	defer func() { _ = js.DeleteStream(context.Background(), rawStream) }()
	if _, err := rawScratch(ctx, js, like); err != nil {
		return fmt.Errorf("scratch stream: %w", err)
	}
	data := make([]byte, size)

	nSync := min(n, 3000)
	lat := make(latencies, 0, nSync)
	start := time.Now()
	for i := range nSync {
		t := time.Now()
		if _, err := js.Publish(ctx, fmt.Sprintf("%s.%d", rawSubject, i%64), data); err != nil {
			return err
		}
		lat = append(lat, time.Since(t))
	}
	r.Add(Figure{Name: "raw.sync_publish", Value: float64(nSync) / time.Since(start).Seconds(), Unit: "msgs/s"})
	r.Add(Figure{Name: "raw.sync_publish.p50", Value: ms(lat.percentile(0.5)), Unit: "ms"})
	r.Add(Figure{Name: "raw.sync_publish.p99", Value: ms(lat.percentile(0.99)), Unit: "ms"})

	// Right after sync publish, so both meet the stream in the same state.
	// The ordered read below still reads nSync+n messages from the start.
	if responder == nil {
		responder = js.Conn()
	}
	lat, took, err := requestPublishReply(ctx, js.Conn(), responder, nSync, 1, data)
	if err != nil {
		return err
	}
	r.Add(Figure{Name: "raw.request_publish_reply", Value: float64(nSync) / took.Seconds(), Unit: "requests/s"})
	r.Add(Figure{Name: "raw.request_publish_reply.p50", Value: ms(lat.percentile(0.5)), Unit: "ms"})
	r.Add(Figure{Name: "raw.request_publish_reply.p99", Value: ms(lat.percentile(0.99)), Unit: "ms"})

	rate, err := asyncPublish(ctx, js, n, data)
	if err != nil {
		return err
	}
	r.Add(Figure{Name: "raw.async_publish", Value: rate, Unit: "msgs/s"})

	start = time.Now()
	if err := orderedRead(ctx, js, rawStream, uint64(nSync+n)); err != nil {
		return err
	}
	r.Add(Figure{Name: "raw.ordered_read", Value: float64(nSync+n) / time.Since(start).Seconds(), Unit: "msgs/s"})

	// Publish and read the same messages at once: the least a durable
	// capture-then-process pipeline pays per message.
	if _, err := rawScratch(ctx, js, like); err != nil {
		return err
	}
	start = time.Now()
	readDone := make(chan error, 1)
	go func() { readDone <- orderedRead(ctx, js, rawStream, uint64(n)) }()
	if _, err := asyncPublish(ctx, js, n, data); err != nil {
		return err
	}
	if err := <-readDone; err != nil {
		return err
	}
	r.Add(Figure{Name: "raw.pipeline", Value: float64(n) / time.Since(start).Seconds(), Unit: "msgs/s"})

	// The command pattern's ceiling: as many requests in flight as the
	// command scenario's largest client count, each a synchronous publish
	// before its reply. Last, so no read above counts its messages.
	_, took, err = requestPublishReply(ctx, js.Conn(), responder, 4*nSync, RequestsInFlight, data)
	if err != nil {
		return err
	}
	r.Add(Figure{Name: fmt.Sprintf("raw.request_publish_reply.c%d", RequestsInFlight), Value: float64(4*nSync) / took.Seconds(), Unit: "requests/s"})
	return nil
}

// RequestsInFlight is how many requests the concurrent request→publish→
// reply baseline keeps in flight: the command scenario's 64 clients.
const RequestsInFlight = 64

func asyncPublish(ctx context.Context, js jetstream.JetStream, n int, data []byte) (float64, error) {
	start := time.Now()
	for i := range n {
		err := inWindow(ctx, js, func() error {
			_, err := js.PublishAsync(fmt.Sprintf("%s.%d", rawSubject, i%64), data)
			return err
		})
		if err != nil {
			return 0, err
		}
	}
	select {
	case <-js.PublishAsyncComplete():
	case <-ctx.Done():
		return 0, ctx.Err()
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// orderedRead reads a stream from the start until it has seen n messages.
func orderedRead(ctx context.Context, js jetstream.JetStream, stream string, n uint64) error {
	cons, err := js.OrderedConsumer(ctx, stream, jetstream.OrderedConsumerConfig{})
	if err != nil {
		return err
	}
	it, err := cons.Messages(jetstream.PullMaxMessages(2000))
	if err != nil {
		return err
	}
	defer it.Stop()
	for seen := uint64(0); seen < n; {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		m, err := it.Next()
		if err != nil {
			if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
				return err
			}
			return err
		}
		seen++
		_ = m
	}
	return nil
}
