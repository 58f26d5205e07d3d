package projector

import (
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// deliveries is an event stream holding given events (project "p", its
// threads), version 1's buckets, and consumers whose real deliveries a
// test hands to runners batch by batch, in the orders handovers and lost
// deliveries produce.
type deliveries struct {
	t  *testing.T
	js jetstream.JetStream
	kv map[string]jetstream.KeyValue
}

func newDeliveries(t *testing.T, events ...domain.Event) *deliveries {
	t.Helper()
	ctx := t.Context()
	_, js := natstest.Connect(t, natstest.Server(t))
	if _, err := eventstore.EnsureStream(ctx, js, eventstore.DefaultStreamConfig()); err != nil {
		t.Fatal(err)
	}
	if err := readmodel.EnsureBuckets(ctx, js, readmodel.BucketsV(1), readmodel.BucketConfig{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(js)
	for i, e := range events {
		subject := contract.ProjectSubject("p")
		if te, ok := e.(domain.ThreadEvent); ok {
			subject = contract.ThreadSubject("p", te.EventThreadID())
		}
		if _, err := store.Append(ctx, eventstore.Batch{CommandID: fmt.Sprint("c", i), Events: []domain.Event{e}, Subjects: []string{subject}}); err != nil {
			t.Fatal(err)
		}
	}
	kv, err := readmodel.OpenBuckets(ctx, js, append(readmodel.BucketsV(1).All(), contract.BucketMeta)...)
	if err != nil {
		t.Fatal(err)
	}
	return &deliveries{t: t, js: js, kv: kv}
}

// consumer is a durable consumer of the whole stream, with its own ack
// floor: the acks of one do not move another's.
func (f *deliveries) consumer(name string) jetstream.Consumer {
	f.t.Helper()
	cons, err := f.js.CreateOrUpdateConsumer(f.t.Context(), contract.EventStream, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		f.t.Fatal(err)
	}
	return cons
}

// fetch takes cons's next n deliveries.
func (f *deliveries) fetch(cons jetstream.Consumer, n int) []jetstream.Msg {
	f.t.Helper()
	batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
	if err != nil {
		f.t.Fatal(err)
	}
	var msgs []jetstream.Msg
	for m := range batch.Messages() {
		msgs = append(msgs, m)
	}
	if len(msgs) != n {
		f.t.Fatalf("fetched %d messages, want %d", len(msgs), n)
	}
	return msgs
}

// runner is a runner of projection p on cons. cacheEntries 1 keeps one
// thread at most, so folding another thread's event drops the first, as a
// gap does; 0 is the default.
func (f *deliveries) runner(p readmodel.Projection, cons jetstream.Consumer, cacheEntries int) *runner {
	r := newRunner(p, Config{Version: 1, CacheEntries: cacheEntries}.withDefaults(), f.js, f.kv,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.cons = cons
	return r
}

// message returns thread t's message record id, or nil when there is none.
func (f *deliveries) message(id string) *contract.MessageRecord {
	f.t.Helper()
	e, err := f.kv[readmodel.BucketsV(1).Messages].Get(f.t.Context(), contract.MessageKey("t", id))
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil
	}
	if err != nil {
		f.t.Fatal(err)
	}
	var rec contract.MessageRecord
	if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
		f.t.Fatal(err)
	}
	return &rec
}

// text assembles thread t's message id's text from its head and segments,
// as the query service does, and fails on a segment the head does not
// count.
func (f *deliveries) text(id string) string {
	f.t.Helper()
	rec := f.message(id)
	if rec == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(rec.Text)
	for n := 1; ; n++ {
		e, err := f.kv[readmodel.BucketsV(1).Messages].Get(f.t.Context(), contract.SegmentKey("t", id, n))
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			if n <= rec.Segments {
				f.t.Fatalf("segment %d of %d of message %s is missing", n, rec.Segments, id)
			}
			return b.String()
		}
		if err != nil {
			f.t.Fatal(err)
		}
		if n > rec.Segments {
			f.t.Fatalf("message %s has %d segments, but segment %d is stored", id, rec.Segments, n)
		}
		var seg contract.MessageSegment
		if err := domain.Unmarshal(domain.MessagePack, e.Value(), &seg); err != nil {
			f.t.Fatal(err)
		}
		b.WriteString(seg.Text)
	}
}
