package projector

import (
	"fmt"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// TestLateEventDoesNotLeaveStaleState replays a handover the fault suite
// found: instance B folds a thread's events 4 and 5 and acks them; A, which
// stopped at 3, receives 6 (another thread: a gap, its cache is dropped),
// then 4 again (a redelivery), then 7. State loaded to fold the late 4 knows
// nothing of 5, which will not come to A again: were it cached, 7 (more
// text for the message 5 created) would be folded onto it and lost.
func TestLateEventDoesNotLeaveStaleState(t *testing.T) {
	ctx := t.Context()
	_, js := natstest.Connect(t, natstest.Server(t))
	if _, err := eventstore.EnsureStream(ctx, js, eventstore.DefaultStreamConfig()); err != nil {
		t.Fatal(err)
	}
	if err := readmodel.EnsureBuckets(ctx, js, readmodel.BucketsV(1), readmodel.BucketConfig{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(js)
	appendEvent := func(n int, subject string, e domain.Event) {
		t.Helper()
		if _, err := store.Append(ctx, eventstore.Batch{CommandID: fmt.Sprint("c", n), Events: []domain.Event{e}, Subjects: []string{subject}}); err != nil {
			t.Fatal(err)
		}
	}
	thread, other := contract.ThreadSubject("p", "t"), contract.ThreadSubject("p", "u")
	appendEvent(1, contract.ProjectSubject("p"), domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"})
	appendEvent(2, thread, domain.ThreadCreated{ThreadID: "t", ProjectID: "p"})
	appendEvent(3, other, domain.ThreadCreated{ThreadID: "u", ProjectID: "p"})
	appendEvent(4, thread, domain.TurnStarted{ThreadID: "t", TurnID: "tu", MessageID: "q", Text: "question"})
	appendEvent(5, thread, domain.MessageAppended{ThreadID: "t", TurnID: "tu", MessageID: "m", Role: domain.RoleAssistant, Text: "hello"})
	appendEvent(6, other, domain.TurnStarted{ThreadID: "u", TurnID: "uu", MessageID: "q", Text: "other"})
	appendEvent(7, thread, domain.MessageChunkReceived{ThreadID: "t", TurnID: "tu", MessageID: "m", Delta: " world"})

	// Real deliveries, handed to the two runners in the order a handover
	// can produce. Each runner has its own consumer, so the acks of one do
	// not move the other's ack floor: A's stays below 4 until it acks 4.
	deliveries := func(name string) (jetstream.Consumer, []jetstream.Msg) {
		t.Helper()
		cons, err := js.CreateOrUpdateConsumer(ctx, contract.EventStream, jetstream.ConsumerConfig{Durable: name, AckPolicy: jetstream.AckExplicitPolicy})
		if err != nil {
			t.Fatal(err)
		}
		batch, err := cons.Fetch(7, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) != 7 {
			t.Fatalf("fetched %d messages", len(msgs))
		}
		return cons, msgs
	}
	kv, err := readmodel.OpenBuckets(ctx, js, append(readmodel.BucketsV(1).All(), contract.BucketMeta)...)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	a := newRunner(readmodel.Transcript, Config{Version: 1}.withDefaults(), js, kv, log)
	b := newRunner(readmodel.Transcript, Config{Version: 1}.withDefaults(), js, kv, log)
	var msgsA, msgsB []jetstream.Msg
	a.cons, msgsA = deliveries("a")
	b.cons, msgsB = deliveries("b")
	process := func(r *runner, msgs []jetstream.Msg, seqs ...int) {
		t.Helper()
		var ms []jetstream.Msg
		for _, s := range seqs {
			ms = append(ms, msgs[s-1])
		}
		if err := r.process(ctx, ms); err != nil {
			t.Fatalf("process %v: %v", seqs, err)
		}
	}
	process(a, msgsA, 1, 2, 3)
	b.ledger.floor = 3 // the ack floor when B took over
	process(b, msgsB, 4, 5)
	process(a, msgsA, 6)
	process(a, msgsA, 4)
	process(a, msgsA, 7)

	e, err := kv[readmodel.BucketsV(1).Messages].Get(ctx, contract.MessageKey("t", "m"))
	if err != nil {
		t.Fatal(err)
	}
	var rec contract.MessageRecord
	if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Text != "hello world" || rec.Seq != 7 {
		t.Fatalf("message m = %q at seq %d, want %q at 7", rec.Text, rec.Seq, "hello world")
	}
}

// TestLateEventInABatchDoesNotHideANewerWrite replays what the fault suite
// found after leader kills: one batch holds a thread's newest event (a
// first delivery), then another thread's (which takes the only cache slot
// here; a gap that drops the cache does the same), then a redelivery of
// the first thread's older event, whose delivery was lost. The older
// state, loaded for the late event alone, must not take the place of the
// newer one among the batch's writes: the guard would then skip it as
// older than the stored value, and the newest event would never be
// written.
func TestLateEventInABatchDoesNotHideANewerWrite(t *testing.T) {
	ctx := t.Context()
	_, js := natstest.Connect(t, natstest.Server(t))
	if _, err := eventstore.EnsureStream(ctx, js, eventstore.DefaultStreamConfig()); err != nil {
		t.Fatal(err)
	}
	if err := readmodel.EnsureBuckets(ctx, js, readmodel.BucketsV(1), readmodel.BucketConfig{}); err != nil {
		t.Fatal(err)
	}
	store := eventstore.New(js)
	appendEvent := func(n int, subject string, e domain.Event) {
		t.Helper()
		if _, err := store.Append(ctx, eventstore.Batch{CommandID: fmt.Sprint("c", n), Events: []domain.Event{e}, Subjects: []string{subject}}); err != nil {
			t.Fatal(err)
		}
	}
	thread, other := contract.ThreadSubject("p", "t"), contract.ThreadSubject("p", "u")
	appendEvent(1, contract.ProjectSubject("p"), domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"})
	appendEvent(2, thread, domain.ThreadCreated{ThreadID: "t", ProjectID: "p"})
	appendEvent(3, other, domain.ThreadCreated{ThreadID: "u", ProjectID: "p"})
	appendEvent(4, thread, domain.TurnStarted{ThreadID: "t", TurnID: "tu", MessageID: "q", Text: "question"})
	appendEvent(5, thread, domain.ThreadStatusChanged{ThreadID: "t", Status: domain.StatusRunning})
	appendEvent(6, other, domain.TurnStarted{ThreadID: "u", TurnID: "uu", MessageID: "q", Text: "other"})

	cons, err := js.CreateOrUpdateConsumer(ctx, contract.EventStream, jetstream.ConsumerConfig{Durable: "catalog", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	fetch := func(n int) []jetstream.Msg {
		t.Helper()
		batch, err := cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
		if err != nil {
			t.Fatal(err)
		}
		var msgs []jetstream.Msg
		for m := range batch.Messages() {
			msgs = append(msgs, m)
		}
		if len(msgs) != n {
			t.Fatalf("fetched %d messages, want %d", len(msgs), n)
		}
		return msgs
	}
	msgs := fetch(6)
	kv, err := readmodel.OpenBuckets(ctx, js, append(readmodel.BucketsV(1).All(), contract.BucketMeta)...)
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	r := newRunner(readmodel.Catalog, Config{Version: 1, CacheEntries: 1}.withDefaults(), js, kv, log)
	r.cons = cons
	if err := r.process(ctx, msgs[:3]); err != nil {
		t.Fatal(err)
	}
	// The delivery of 4 is lost in transit: it comes back after its ack wait.
	if err := msgs[3].Nak(); err != nil {
		t.Fatal(err)
	}
	late := fetch(1)[0]
	if meta, _ := late.Metadata(); meta.Sequence.Stream != 4 || meta.NumDelivered != 2 {
		t.Fatalf("redelivered %d (delivery %d), want 4 delivered twice", meta.Sequence.Stream, meta.NumDelivered)
	}
	if err := r.process(ctx, []jetstream.Msg{msgs[4], msgs[5], late}); err != nil {
		t.Fatal(err)
	}

	e, err := kv[readmodel.BucketsV(1).Threads].Get(ctx, "t")
	if err != nil {
		t.Fatal(err)
	}
	var rec seqOnly
	if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
		t.Fatal(err)
	}
	if rec.Seq != 5 {
		t.Fatalf("thread t's record is at seq %d, want 5 (its newest event)", rec.Seq)
	}
}
