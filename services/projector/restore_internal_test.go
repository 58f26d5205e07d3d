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

// TestRestoredMessageIdUsedAgainIsWritten: one batch drops a long
// message with a restore and makes a shorter one under the same id (the
// decider checks ids against the current state only). The old message's
// keys are deleted before the new one is written: the deletion and the
// write do not race, and no segment of the old text is left behind or
// kept over the new one's (a longer stored segment wins the segment guard).
func TestRestoredMessageIdUsedAgainIsWritten(t *testing.T) {
	long := strings.Repeat("a", 150<<10)    // head and two segments
	shorter := strings.Repeat("b", 100<<10) // head and one segment
	f := newRestoreFixture(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu1", MessageID: "q1", Text: "first"},
		domain.CheckpointCreated{ThreadID: "t", CheckpointID: "cp1", TurnID: "tu1", Ref: "refs/peon/cp1"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu2", MessageID: "q2", Text: "second"},
		domain.MessageAppended{ThreadID: "t", TurnID: "tu2", MessageID: "x", Role: domain.RoleAssistant, Text: long},
		domain.CheckpointRestored{ThreadID: "t", CheckpointID: "cp1", TurnID: "tu1", Ref: "refs/peon/cp1"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu3", MessageID: "q3", Text: "third"},
		domain.MessageAppended{ThreadID: "t", TurnID: "tu3", MessageID: "x", Role: domain.RoleAssistant, Text: shorter},
	)
	ctx := t.Context()
	r := f.runner()
	msgs := f.fetch(9)
	if err := r.process(ctx, msgs[:6]); err != nil {
		t.Fatal(err)
	}
	if got := f.text("x"); got != long {
		t.Fatalf("message x holds %d bytes, want the long reply's %d", len(got), len(long))
	}
	if err := r.process(ctx, msgs[6:]); err != nil {
		t.Fatal(err)
	}
	if got := f.text("x"); got != shorter {
		t.Fatalf("message x holds %d bytes (%d of them the old reply's), want the new reply's %d",
			len(got), strings.Count(got, "a"), len(shorter))
	}
	if f.message("q2") != nil {
		t.Error("the dropped prompt q2 is still in the read model")
	}
}

// text assembles message id's text from its head and segments, as the
// query service does, and fails on a segment the head does not count.
func (f *restoreFixture) text(id string) string {
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

// TestFailedLoadLeavesTheSelectionAsItWas: a thread load that a replica
// still catching up cuts short is tried again; the selection its history
// moved must be as it was for the next attempt, or that attempt would find
// it moved already and mark nothing, and the selection would never be
// written.
func TestFailedLoadLeavesTheSelectionAsItWas(t *testing.T) {
	f := newRestoreFixture(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.ThreadSelected{ThreadID: "t"},
		domain.ThreadStatusChanged{ThreadID: "t", Status: domain.StatusRunning},
	)
	r := newRunner(readmodel.Catalog, Config{Version: 1}.withDefaults(), f.js, f.kv, slog.New(slog.NewTextHandler(io.Discard, nil)))
	r.cons = f.cons
	// Loading up to an event the stream does not hold (yet) is what a
	// replica behind answers.
	_, err := r.loadThread(t.Context(), "t", 10, false, newDirty(), true)
	if !errors.Is(err, eventstore.ErrReplicaBehind) {
		t.Fatalf("load up to a missing event: %v, want ErrReplicaBehind", err)
	}
	if r.selectedKnown {
		t.Fatalf("the failed load left the selection at %+v", r.selected)
	}
	// The next attempt reaches the event: the selection its history
	// moved is marked for writing.
	d := newDirty()
	if _, err := r.loadThread(t.Context(), "t", 4, false, d, true); err != nil {
		t.Fatal(err)
	}
	if d.selected == nil || d.selected.ThreadID != "t" || d.selected.Seq != 3 {
		t.Fatalf("selection marked = %+v, want t at 3", d.selected)
	}
}

// TestDirtyMarksKeepTheNewestState pins the marking rules a batch's writes
// follow (see dirty), case by case.
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
	t.Run("a deletion by an older state marked first stays beside a newer state's write (deleted first, then written)", func(t *testing.T) {
		older, newer := state(4, false), state(5, true)
		d := newDirty()
		d.markDeleted(x, deletion{a: older})
		d.markMessage(x, newer)
		if _, ok := d.deleted[x]; !ok || d.messages[x] != newer {
			t.Fatal("want both the deletion and the newer write")
		}
		// After the newer write, the older deletion adds nothing: the newer
		// state folded that restore itself.
		d = newDirty()
		d.markMessage(x, newer)
		d.markDeleted(x, deletion{a: older})
		if _, ok := d.deleted[x]; ok || d.messages[x] != newer {
			t.Fatal("want the newer write alone")
		}
	})
	t.Run("within one state, a deletion and a write both stay", func(t *testing.T) {
		a := state(5, true)
		d := newDirty()
		d.markDeleted(x, deletion{a: a})
		d.markMessage(x, a) // made again under the same id
		if _, ok := d.deleted[x]; !ok || d.messages[x] != a {
			t.Fatal("want both the deletion and the write")
		}
	})
	t.Run("tool calls follow the same rules", func(t *testing.T) {
		older, newer := state(4, true), state(5, true)
		key := contract.ToolCallKey("t", "c")
		d := newDirty()
		d.markToolDeleted(key, toolRef{newer, "c"})
		d.toolCall(older, "c")
		if _, ok := d.toolCalls[key]; ok {
			t.Fatal("an older state's write of a tool call a newer state deleted is marked")
		}
		// Made again by the state that dropped it: deleted first, then
		// written, as messages are.
		d.toolCall(newer, "c")
		if _, ok := d.deletedTools[key]; !ok || d.toolCalls[key].a != newer {
			t.Fatal("want the deletion and the newer state's write")
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
