package projector

import (
	"errors"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// TestRestoredMessageIdUsedAgainIsWritten: one batch drops a long
// message with a restore and makes a shorter one under the same id (the
// decider checks ids against the current state only). The old message's
// keys are deleted before the new one is written: the deletion and the
// write do not race, and no segment of the old text is left behind or
// kept over the new one's (a longer stored segment wins the segment guard).
func TestRestoredMessageIdUsedAgainIsWritten(t *testing.T) {
	long := strings.Repeat("a", 150<<10)    // head and two segments
	shorter := strings.Repeat("b", 100<<10) // head and one segment
	f := newDeliveries(t,
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
	cons := f.consumer("transcript")
	r := f.runner(readmodel.Transcript, cons, 1)
	msgs := f.fetch(cons, 9)
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

// TestFailedLoadLeavesTheSelectionAsItWas: a thread load that a replica
// still catching up cuts short is tried again; the selection its history
// moved must be as it was for the next attempt, or that attempt would find
// it moved already and mark nothing, and the selection would never be
// written.
func TestFailedLoadLeavesTheSelectionAsItWas(t *testing.T) {
	f := newDeliveries(t,
		domain.ProjectCreated{ProjectID: "p", Name: "p", Path: "/p"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p"},
		domain.ThreadSelected{ThreadID: "t"},
		domain.ThreadStatusChanged{ThreadID: "t", Status: domain.StatusRunning},
	)
	r := f.runner(readmodel.Catalog, f.consumer("catalog"), 0)
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
