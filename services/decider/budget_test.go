package decider_test

import (
	"context"
	"errors"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// TestConflictBudgetIsMaxAttempts: MaxAttempts is the number of appends a
// command may have refused by conflicting writers, exactly. Instance a
// decides on its cached state, which instance b has moved past: a's first
// append conflicts. With one attempt that is contention; with two, a
// catches up and answers from the new state.
func TestConflictBudgetIsMaxAttempts(t *testing.T) {
	for _, c := range []struct {
		maxAttempts    int
		wantContention bool
	}{{1, true}, {2, false}} {
		h := start(t, 2, decider.Config{MaxAttempts: c.maxAttempts}, eventstore.DefaultStreamConfig())
		ctx := context.Background()
		a, b := h.instances[0], h.instances[1]
		p := must(t)(a.Execute(ctx, domain.CreateProject{Name: "p", Path: "/p"}))
		th := must(t)(a.Execute(ctx, domain.CreateThread{ProjectID: p.ProjectID}))
		must(t)(a.Execute(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"})) // a caches a running turn
		must(t)(b.Execute(ctx, domain.InterruptTurn{ThreadID: th.ThreadID}))         // b ends it
		before := len(h.history(t))

		_, err := a.Execute(ctx, domain.InterruptTurn{ThreadID: th.ThreadID})
		if got := a.Stats().Conflicts; got != 1 {
			t.Fatalf("max attempts %d: %d conflicts, want 1", c.maxAttempts, got)
		}
		if c.wantContention && !errors.Is(err, decider.ErrContention) {
			t.Fatalf("max attempts %d: err %v, want contention", c.maxAttempts, err)
		}
		if !c.wantContention && !errors.Is(err, domain.ErrNoActiveTurn) {
			t.Fatalf("max attempts %d: err %v, want no_active_turn decided on the caught-up state", c.maxAttempts, err)
		}
		if n := len(h.history(t)); n != before {
			t.Fatalf("max attempts %d: %d events appended", c.maxAttempts, n-before)
		}
	}
}
