package loadgen

import (
	"context"
	"fmt"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nuid"
	"golang.org/x/sync/errgroup"
)

// requestSubjectPrefix is where the raw responder listens: outside the
// scratch stream's subjects, so the request itself is not stored (and not
// answered by JetStream in the responder's place).
const requestSubjectPrefix = "peon.bench.request"

// requestTimeout bounds one request→publish→reply trip.
const requestTimeout = 10 * time.Second

// requestPublishReply measures the floor of a command: a request to a
// responder on a connection of its own which, for each, publishes the
// request's body to the scratch stream synchronously and replies once the
// stream has acknowledged it — the network hops and the durable write a
// command cannot avoid, without decoding, deciding or caching. inFlight
// requests at a time (with more than one the responder handles each in a
// goroutine of its own, as the decider does); client sends, responder
// answers. It returns each trip's latency and the time all n took.
func requestPublishReply(ctx context.Context, client, responder *nats.Conn, n, inFlight int, data []byte) (latencies, time.Duration, error) {
	js, err := jetstream.New(responder)
	if err != nil {
		return nil, 0, err
	}
	subject := requestSubjectPrefix + "." + nuid.Next()
	answer := func(m *nats.Msg) {
		ack, err := js.Publish(ctx, rawSubject+".request", m.Data)
		if err != nil {
			_ = m.Respond([]byte("error: " + err.Error()))
			return
		}
		_ = m.Respond(strconv.AppendUint([]byte("ok "), ack.Sequence, 10))
	}
	sub, err := responder.Subscribe(subject, func(m *nats.Msg) {
		if inFlight > 1 {
			go answer(m)
			return
		}
		answer(m)
	})
	if err != nil {
		return nil, 0, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	// The client's first request must find the subscription on whichever
	// server it is connected to (a cluster propagates it asynchronously).
	if err := responder.Flush(); err != nil {
		return nil, 0, err
	}
	if err := awaitResponder(ctx, client, subject); err != nil {
		return nil, 0, err
	}

	lats := make([]latencies, inFlight)
	var next atomic.Int64
	g, gctx := errgroup.WithContext(ctx)
	start := time.Now()
	for w := range inFlight {
		g.Go(func() error {
			for next.Add(1) <= int64(n) {
				t := time.Now()
				reqCtx, cancel := context.WithTimeout(gctx, requestTimeout)
				reply, err := client.RequestWithContext(reqCtx, subject, data)
				cancel()
				if err != nil {
					return fmt.Errorf("request→publish→reply: %w", err)
				}
				if len(reply.Data) < 3 || string(reply.Data[:3]) != "ok " {
					return fmt.Errorf("request→publish→reply: responder: %s", reply.Data)
				}
				lats[w] = append(lats[w], time.Since(t))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, 0, err
	}
	took := time.Since(start)
	var lat latencies
	for _, l := range lats {
		lat = append(lat, l...)
	}
	return lat, took, nil
}

// awaitResponder waits until a request on subject is answered, so that
// no measured trip pays for the subscription's propagation. The probe's
// answer (an empty body published to the stream) is not counted.
func awaitResponder(ctx context.Context, client *nats.Conn, subject string) error {
	deadline := time.Now().Add(requestTimeout)
	for {
		reqCtx, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
		_, err := client.RequestWithContext(reqCtx, subject, nil)
		cancel()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("raw responder never answered: %w", err)
		}
		select { // no responders is answered at once: do not spin
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}
