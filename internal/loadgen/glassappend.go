package loadgen

import (
	"context"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// The first half of time to glass: a delta is appended to PEON_EVENTS
// (ingested and decided) before the projector can fold it. Following the
// stream beside the read model splits each delta's latency there: publish
// to appended (provider-ingest and the decider), and appended to visible
// (the projector, its KV write, the watcher).

// sibling is a tracker of the same deltas, sharing their publish times,
// for another reader.
func (t *glassTracker) sibling() *glassTracker {
	s := &glassTracker{base: t.base, sent: t.sent, messages: map[string]*glassMessage{}, total: t.total}
	s.lat = make(latencies, 0, t.total)
	for k, m := range t.messages {
		c := *m
		c.seen = 0
		s.messages[k] = &c
	}
	return s
}

// followAppends feeds t with the text of every message event appended
// from now on (an ordered consumer on PEON_EVENTS): the length
// appended so far to each message tells how many of its deltas are in the
// stream. It runs until every delta is appended or stop is called.
func followAppends(ctx context.Context, js jetstream.JetStream, t *glassTracker) (stop func(), err error) {
	cons, err := js.OrderedConsumer(ctx, contract.EventStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{contract.EventSubjects}, DeliverPolicy: jetstream.DeliverNewPolicy})
	if err != nil {
		return nil, err
	}
	appended := map[string]int{}
	cc, err := cons.Consume(func(m jetstream.Msg) {
		now := time.Since(t.base)
		meta, err := m.Metadata()
		if err != nil {
			return
		}
		rec, err := eventstore.DecodeRecord(m.Subject(), meta.Sequence.Stream, meta.Timestamp, m.Headers(), m.Data())
		if err != nil {
			return
		}
		// A message starts with its first text (MessageAppended) and
		// grows by chunks.
		switch e := rec.Event.(type) {
		case domain.MessageAppended:
			key := contract.MessageKey(e.ThreadID, e.MessageID)
			appended[key] += len(e.Text)
			t.saw(key, appended[key], now)
		case domain.MessageChunkReceived:
			key := contract.MessageKey(e.ThreadID, e.MessageID)
			appended[key] += len(e.Delta)
			t.saw(key, appended[key], now)
		}
	})
	if err != nil {
		return nil, err
	}
	// Stopped once, and only once its callback has returned: the caller
	// reads t after.
	var once sync.Once
	return func() { once.Do(func() { cc.Stop(); <-cc.Closed() }) }, nil
}
