package decider_test

import (
	"context"
	"reflect"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// TestRetryAppendsNothing: a retried command id gets the original outcome
// with duplicate=true — from the same instance, from another instance with
// a cold cache, and after the stream's duplicate window has passed.
func TestRetryAppendsNothing(t *testing.T) {
	stream := eventstore.DefaultStreamConfig()
	stream.DuplicateWindow = time.Second
	h := start(t, 1, decider.Config{}, stream)
	ctx := context.Background()
	c := h.client(domain.JSON)
	p := must(t)(c.Send(ctx, domain.CreateProject{CommandID: "create-p", Name: "a", Path: "/a"}))
	th := must(t)(c.Send(ctx, domain.CreateThread{CommandID: "create-t", ProjectID: p.ProjectID}))
	first := must(t)(c.Send(ctx, domain.StartTurn{CommandID: "start-1", ThreadID: th.ThreadID, Text: "go"}))
	events := len(h.history(t))

	check := func(name string, cmd domain.Command, want contract.CommandReply) {
		t.Helper()
		again := must(t)(c.Send(ctx, cmd))
		want.Duplicate = true
		if !reflect.DeepEqual(again, want) {
			t.Fatalf("%s: retry reply\n got %+v\nwant %+v", name, again, want)
		}
		if n := len(h.history(t)); n != events {
			t.Fatalf("%s: retry appended %d events", name, n-events)
		}
	}
	check("same instance", domain.StartTurn{CommandID: "start-1", ThreadID: th.ThreadID, Text: "go"}, first)
	check("create project", domain.CreateProject{CommandID: "create-p", Name: "a", Path: "/a"}, p)
	check("create thread", domain.CreateThread{CommandID: "create-t", ProjectID: p.ProjectID}, th)

	// A second instance with an empty cache answers the same, and so does
	// anyone after the duplicate window, from the receipts in the headers.
	h.addInstance(t, decider.Config{}, 1)
	time.Sleep(1500 * time.Millisecond) // let the stream's duplicate window pass
	for range 4 {                       // the queue group spreads these over both instances
		check("after the window", domain.StartTurn{CommandID: "start-1", ThreadID: th.ThreadID, Text: "go"}, first)
	}

	// The same id with another body is refused.
	_, err := c.Send(ctx, domain.StartTurn{CommandID: "start-1", ThreadID: th.ThreadID, Text: "something else"})
	wantCode(t, err, contract.CodeCommandIDReused, 409)
	_, err = c.Send(ctx, domain.RenameProject{CommandID: "create-p", ProjectID: p.ProjectID, Name: "b"})
	wantCode(t, err, contract.CodeCommandIDReused, 409)
}

// TestConcurrentRetriesAppendOnce sends one command id from many clients at
// once to three instances: exactly one set of events is stored.
func TestConcurrentRetriesAppendOnce(t *testing.T) {
	h := start(t, 3, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.MessagePack)
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "a", Path: "/a"})).ProjectID
	th := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p})).ThreadID
	before := len(h.history(t))
	replies := make([]contract.CommandReply, 24)
	parallel(len(replies), func(i int) {
		replies[i] = must(t)(h.client(domain.MessagePack).Send(ctx, domain.StartTurn{CommandID: "once", ThreadID: th, Text: "go"}))
	})
	originals := 0
	for _, r := range replies {
		if !r.Duplicate {
			originals++
		}
		if !reflect.DeepEqual(r.Events, replies[0].Events) {
			t.Fatalf("replies disagree: %+v vs %+v", r.Events, replies[0].Events)
		}
	}
	if originals != 1 {
		t.Fatalf("%d replies claim to be the original", originals)
	}
	if n := len(h.history(t)) - before; n != 2 {
		t.Fatalf("%d events appended, want 2 (TurnStarted, ThreadStatusChanged)", n)
	}
}

// TestCommandIDReusedOnAnotherAggregate: a command id used on one aggregate
// and then for a command on another is refused command_id_reused, within
// the stream's duplicate window and after it, by the instance that took
// the first and by one with a cold cache; the second command never appends,
// and a retry of the first still gets its original reply.
func TestCommandIDReusedOnAnotherAggregate(t *testing.T) {
	stream := eventstore.DefaultStreamConfig()
	stream.DuplicateWindow = time.Second
	h := start(t, 1, decider.Config{}, stream)
	ctx := context.Background()
	c := h.client(domain.JSON)
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "a", Path: "/a"}))
	th := must(t)(c.Send(ctx, domain.CreateThread{CommandID: "X", ProjectID: p.ProjectID}))
	other := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p.ProjectID}))
	turn := must(t)(c.Send(ctx, domain.StartTurn{CommandID: "Y", ThreadID: th.ThreadID, Text: "go"}))
	events := len(h.history(t))

	refused := func(when string) {
		t.Helper()
		for _, cmd := range []domain.Command{
			domain.CreateProject{CommandID: "X", Name: "b", Path: "/b"},
			domain.RenameProject{CommandID: "X", ProjectID: p.ProjectID, Name: "b"},
			domain.StartTurn{CommandID: "X", ThreadID: other.ThreadID, Text: "go"},
			domain.StartTurn{CommandID: "Y", ThreadID: other.ThreadID, Text: "go"},
		} {
			_, err := c.Send(ctx, cmd)
			if err == nil {
				t.Fatalf("%s: %s with a used command_id accepted", when, cmd.CommandType())
			}
			wantCode(t, err, contract.CodeCommandIDReused, 409)
		}
		if n := len(h.history(t)); n != events {
			t.Fatalf("%s: a reused command_id appended %d events", when, n-events)
		}
		again := must(t)(c.Send(ctx, domain.CreateThread{CommandID: "X", ProjectID: p.ProjectID}))
		if want := th; again.ThreadID != want.ThreadID || !again.Duplicate || !reflect.DeepEqual(again.Events, want.Events) {
			t.Fatalf("%s: retry of the original got %+v, want %+v as a duplicate", when, again, want)
		}
		if again := must(t)(c.Send(ctx, domain.StartTurn{CommandID: "Y", ThreadID: th.ThreadID, Text: "go"})); !again.Duplicate || again.TurnID != turn.TurnID {
			t.Fatalf("%s: retry of the turn got %+v", when, again)
		}
	}
	refused("within the duplicate window")
	time.Sleep(1500 * time.Millisecond) // let the stream's duplicate window pass
	refused("after the duplicate window")
	h.addInstance(t, decider.Config{}, 1)
	for range 2 { // the queue group spreads these over both instances
		refused("on a cold instance")
	}
}
