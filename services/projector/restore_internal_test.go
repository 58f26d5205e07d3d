package projector

import (
	"errors"
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

// restoreFixture is a stream of events and a consumer's real deliveries of
// them, for driving one runner batch by batch.
type restoreFixture struct {
	t    *testing.T
	js   jetstream.JetStream
	cons jetstream.Consumer
	kv   map[string]jetstream.KeyValue
}

func newRestoreFixture(t *testing.T, events ...domain.Event) *restoreFixture {
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
	cons, err := js.CreateOrUpdateConsumer(ctx, contract.EventStream, jetstream.ConsumerConfig{Durable: "transcript", AckPolicy: jetstream.AckExplicitPolicy})
	if err != nil {
		t.Fatal(err)
	}
	kv, err := readmodel.OpenBuckets(ctx, js, append(readmodel.BucketsV(1).All(), contract.BucketMeta)...)
	if err != nil {
		t.Fatal(err)
	}
	return &restoreFixture{t: t, js: js, cons: cons, kv: kv}
}

// fetch takes the next n deliveries.
func (f *restoreFixture) fetch(n int) []jetstream.Msg {
	f.t.Helper()
	batch, err := f.cons.Fetch(n, jetstream.FetchMaxWait(5*time.Second))
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

// runner is a transcript runner on the fixture's consumer that caches one
// thread at most, so folding another thread's event drops the first.
func (f *restoreFixture) runner() *runner {
	r := newRunner(readmodel.Transcript, Config{Version: 1, CacheEntries: 1}.withDefaults(), f.js, f.kv,
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.cons = f.cons
	return r
}

// message returns the message record at key, or nil when there is none.
func (f *restoreFixture) message(id string) *contract.MessageRecord {
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

// TestLateEventDoesNotBringBackWhatARestoreDropped: a thread's reply is
// lost in transit and comes back after the thread was restored to a
// checkpoint before it. Folded on state loaded up to the late event, the
// reply would be written again (a deletion leaves no stamp for the write
// guard to compare with) though the thread no longer has it.
func TestLateEventDoesNotBringBackWhatARestoreDropped(t *testing.T) {
	f := newRestoreFixture(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu1", MessageID: "q1", Text: "first"},
		domain.CheckpointCreated{ThreadID: "t", CheckpointID: "cp1", TurnID: "tu1", Ref: "refs/peon/cp1"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu2", MessageID: "q2", Text: "second"},
		domain.MessageAppended{ThreadID: "t", TurnID: "tu2", MessageID: "m2", Role: domain.RoleAssistant, Text: "reply"},
		domain.CheckpointRestored{ThreadID: "t", CheckpointID: "cp1", TurnID: "tu1", Ref: "refs/peon/cp1"},
		domain.ThreadCreated{ThreadID: "u", ProjectID: "p"},
	)
	ctx := t.Context()
	r := f.runner()
	msgs := f.fetch(8)
	if err := r.process(ctx, msgs[:5]); err != nil {
		t.Fatal(err)
	}
	if err := msgs[5].Nak(); err != nil { // the reply's delivery is lost
		t.Fatal(err)
	}
	late := f.fetch(1)[0]
	if err := r.process(ctx, msgs[6:8]); err != nil { // the restore, then another thread
		t.Fatal(err)
	}
	if err := r.process(ctx, []jetstream.Msg{late}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"q2", "m2"} {
		if rec := f.message(id); rec != nil {
			t.Errorf("message %s is in the read model (%q at seq %d), but the restore dropped it", id, rec.Text, rec.Seq)
		}
	}
	if rec := f.message("q1"); rec == nil || rec.Text != "first" {
		t.Errorf("message q1 = %+v, want the first prompt", rec)
	}
}

// TestRestoredMessageIdUsedAgainIsWritten: one batch drops a message with
// a restore and makes a new one under the same id (the decider checks ids
// against the current state only). The key is written, not deleted: the
// deletion and the write must not race.
func TestRestoredMessageIdUsedAgainIsWritten(t *testing.T) {
	f := newRestoreFixture(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu1", MessageID: "q1", Text: "first"},
		domain.CheckpointCreated{ThreadID: "t", CheckpointID: "cp1", TurnID: "tu1", Ref: "refs/peon/cp1"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu2", MessageID: "x", Text: "second"},
		domain.CheckpointRestored{ThreadID: "t", CheckpointID: "cp1", TurnID: "tu1", Ref: "refs/peon/cp1"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu3", MessageID: "x", Text: "third"},
	)
	ctx := t.Context()
	r := f.runner()
	msgs := f.fetch(7)
	if err := r.process(ctx, msgs[:5]); err != nil {
		t.Fatal(err)
	}
	if rec := f.message("x"); rec == nil || rec.Text != "second" {
		t.Fatalf("message x = %+v, want the second prompt", rec)
	}
	if err := r.process(ctx, msgs[5:]); err != nil {
		t.Fatal(err)
	}
	if rec := f.message("x"); rec == nil || rec.Text != "third" || rec.Seq != 7 {
		t.Fatalf("message x = %+v, want the third prompt at seq 7", rec)
	}
}

// TestDirtyMarksKeepTheNewestState pins the marking rules a batch's writes
// follow (see dirty): the integration tests above reach them only when
// the batch's timing falls so (a deletion and a write of one key race in
// the flush, and the write usually wins).
func TestDirtyMarksKeepTheNewestState(t *testing.T) {
	state := func(seq uint64, withX bool) *threadAgg {
		a := &threadAgg{id: "t", model: domain.NewModel(), segmentsWritten: map[string]int{}}
		events := []domain.Event{domain.ThreadCreated{ThreadID: "t", ProjectID: "p"}}
		if withX {
			events = append(events, domain.TurnStarted{ThreadID: "t", TurnID: "tu", MessageID: "x", Text: "hi"})
		}
		for i, e := range events {
			domain.Project(a.model, domain.StoredEvent{Sequence: uint64(i + 1), Event: e})
		}
		a.lastSeq = seq
		return a
	}
	x := contract.MessageKey("t", "x")

	t.Run("an older state gives way to a newer one, in either order", func(t *testing.T) {
		older, newer := state(4, true), state(5, true)
		d := newDirty()
		d.markThread(newer)
		d.markThread(older)
		d.markMessage(x, newer)
		d.markMessage(x, older)
		if d.threads["t"] != newer || d.messages[x] != newer {
			t.Fatal("the older state took the newer one's place")
		}
		d = newDirty()
		d.markThread(older)
		d.markThread(newer)
		if d.threads["t"] != newer {
			t.Fatal("the newer state did not replace the older one")
		}
	})
	t.Run("a deletion by a newer state removes an older state's write, and stands", func(t *testing.T) {
		older, newer := state(4, true), state(5, false)
		d := newDirty()
		d.markMessage(x, older)
		d.markDeleted(x, deletion{a: newer})
		d.markMessage(x, older)
		if _, ok := d.messages[x]; ok {
			t.Fatal("an older state's write of a key a newer state deleted is still marked")
		}
		if _, ok := d.deleted[x]; !ok {
			t.Fatal("the deletion is gone")
		}
	})
	t.Run("a deletion by an older state gives way to a newer state's write", func(t *testing.T) {
		older, newer := state(4, false), state(5, true)
		d := newDirty()
		d.markDeleted(x, deletion{a: older})
		d.markMessage(x, newer)
		if _, ok := d.deleted[x]; ok || d.messages[x] != newer {
			t.Fatal("the older deletion stands against the newer write")
		}
		d = newDirty()
		d.markMessage(x, newer)
		d.markDeleted(x, deletion{a: older})
		if _, ok := d.deleted[x]; ok || d.messages[x] != newer {
			t.Fatal("an older deletion after the newer write was marked")
		}
	})
	t.Run("within one state, a message made again after its deletion is written", func(t *testing.T) {
		a := state(5, true)
		a.segmentsWritten[x] = 3
		d := newDirty()
		d.markDeleted(x, deletion{a: a})
		d.markMessage(x, a)
		if _, ok := d.deleted[x]; ok || d.messages[x] != a {
			t.Fatal("the message made again is still marked for deletion")
		}
		if _, ok := a.segmentsWritten[x]; ok {
			t.Fatal("the old message's segments count would skip the new one's")
		}
	})
	t.Run("within one state, a message gone from it keeps its deletion", func(t *testing.T) {
		a := state(5, false)
		d := newDirty()
		d.markMessage(x, a) // an event about x, then the restore that dropped it
		d.markDeleted(x, deletion{a: a})
		d.markMessage(x, a) // a later event naming x, which the state no longer has
		if _, ok := d.deleted[x]; !ok {
			t.Fatal("the deletion of a message gone from the state was dropped")
		}
	})
	t.Run("tool calls follow the same rules", func(t *testing.T) {
		older, newer := state(4, true), state(5, true)
		key := contract.ToolCallKey("t", "c")
		d := newDirty()
		d.markToolDeleted(key, toolRef{newer, "c"})
		d.markToolCall(key, toolRef{older, "c"})
		if _, ok := d.toolCalls[key]; ok {
			t.Fatal("an older state's write of a tool call a newer state deleted is marked")
		}
		d.markToolCall(key, toolRef{newer, "c"})
		if _, ok := d.deletedTools[key]; ok || d.toolCalls[key].a != newer {
			t.Fatal("the newer state's write did not replace its own earlier deletion")
		}
	})
	t.Run("projects keep the newest record", func(t *testing.T) {
		older := &projectEntry{state: &domain.ProjectState{ID: "p", Seq: 4}}
		newer := &projectEntry{state: &domain.ProjectState{ID: "p", Seq: 5}}
		d := newDirty()
		d.markProject("p", newer)
		d.markProject("p", older)
		if d.projects["p"] != newer {
			t.Fatal("the older project record took the newer one's place")
		}
	})
}
