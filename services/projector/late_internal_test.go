package projector

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/domain"
)

// TestLateEventDoesNotLeaveStaleState replays a handover the fault suite
// found: instance B folds a thread's events 4 and 5 and acks them; A, which
// stopped at 3, receives 6 (another thread: a gap, its cache is dropped),
// then 4 again (a redelivery), then 7. State loaded to fold the late 4 knows
// nothing of 5, which will not come to A again: were it cached, 7 (more
// text for the message 5 created) would be folded onto it and lost.
func TestLateEventDoesNotLeaveStaleState(t *testing.T) {
	f := newDeliveries(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.ThreadCreated{ThreadID: "u", ProjectID: "p"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu", MessageID: "q", Text: "question"},
		domain.MessageAppended{ThreadID: "t", TurnID: "tu", MessageID: "m", Role: domain.RoleAssistant, Text: "hello"},
		domain.TurnStarted{ThreadID: "u", TurnID: "uu", MessageID: "q", Text: "other"},
		domain.MessageChunkReceived{ThreadID: "t", TurnID: "tu", MessageID: "m", Delta: " world"},
	)
	// Real deliveries, handed to the two runners in the order a handover
	// can produce. Each runner has its own consumer, so the acks of one do
	// not move the other's ack floor: A's stays below 4 until it acks 4.
	a := f.runner(readmodel.Transcript, f.consumer("a"), 0)
	b := f.runner(readmodel.Transcript, f.consumer("b"), 0)
	msgsA, msgsB := f.fetch(a.cons, 7), f.fetch(b.cons, 7)
	process := func(r *runner, msgs []jetstream.Msg, seqs ...int) {
		t.Helper()
		var ms []jetstream.Msg
		for _, s := range seqs {
			ms = append(ms, msgs[s-1])
		}
		if err := r.process(t.Context(), ms); err != nil {
			t.Fatalf("process %v: %v", seqs, err)
		}
	}
	process(a, msgsA, 1, 2, 3)
	b.ledger.floor = 3 // the ack floor when B took over
	process(b, msgsB, 4, 5)
	process(a, msgsA, 6)
	process(a, msgsA, 4)
	process(a, msgsA, 7)

	rec := f.message("m")
	if rec == nil {
		t.Fatal("message m is not in the read model")
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
	f := newDeliveries(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.ThreadCreated{ThreadID: "u", ProjectID: "p"},
		domain.TurnStarted{ThreadID: "t", TurnID: "tu", MessageID: "q", Text: "question"},
		domain.ThreadStatusChanged{ThreadID: "t", Status: domain.StatusRunning},
		domain.TurnStarted{ThreadID: "u", TurnID: "uu", MessageID: "q", Text: "other"},
	)
	cons := f.consumer("catalog")
	msgs := f.fetch(cons, 6)
	r := f.runner(readmodel.Catalog, cons, 1)
	if err := r.process(ctx, msgs[:3]); err != nil {
		t.Fatal(err)
	}
	// The delivery of 4 is lost in transit: it comes back after its ack wait.
	if err := msgs[3].Nak(); err != nil {
		t.Fatal(err)
	}
	late := f.fetch(cons, 1)[0]
	if meta, _ := late.Metadata(); meta.Sequence.Stream != 4 || meta.NumDelivered != 2 {
		t.Fatalf("redelivered %d (delivery %d), want 4 delivered twice", meta.Sequence.Stream, meta.NumDelivered)
	}
	if err := r.process(ctx, []jetstream.Msg{msgs[4], msgs[5], late}); err != nil {
		t.Fatal(err)
	}

	e, err := f.kv[readmodel.BucketsV(1).Threads].Get(ctx, "t")
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
