package decider_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// send retries transient failures (contention, unavailable) as a client
// should, and returns the final outcome.
func send(ctx context.Context, c *client.Client, cmd domain.Command) (contract.CommandReply, error) {
	for {
		r, err := c.Send(ctx, cmd)
		var ce *client.Error
		if errors.As(err, &ce) && ce.Transient() && ctx.Err() == nil {
			continue
		}
		return r, err
	}
}

// TestRaceCreateProjectSamePath: many clients, three instances, one path:
// exactly one project is created.
func TestRaceCreateProjectSamePath(t *testing.T) {
	h := start(t, 3, decider.Config{}, eventstore.DefaultStreamConfig())
	for round := range 5 {
		var ok, dup atomic.Int32
		parallel(16, func(i int) {
			_, err := send(context.Background(), h.client(domain.MessagePack),
				domain.CreateProject{ProjectID: fmt.Sprintf("r%d-p%d", round, i), Name: "x", Path: fmt.Sprintf("/race/%d", round)})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, domain.ErrDuplicateProjectPath):
				dup.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		})
		if ok.Load() != 1 || dup.Load() != 15 {
			t.Fatalf("round %d: %d created, %d duplicate", round, ok.Load(), dup.Load())
		}
	}
	active := map[string]int{}
	for _, p := range h.model(t).Projects {
		if !p.Deleted {
			active[p.Path]++
		}
	}
	for path, n := range active {
		if n != 1 {
			t.Fatalf("%d active projects at %s", n, path)
		}
	}
}

// TestRaceStartTurn: many clients start a turn on one thread through three
// instances: exactly one turn starts.
func TestRaceStartTurn(t *testing.T) {
	h := start(t, 3, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.JSON)
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "a", Path: "/a"})).ProjectID
	for round := range 5 {
		th := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p})).ThreadID
		var ok, busy atomic.Int32
		parallel(16, func(i int) {
			_, err := send(ctx, h.client(domain.MessagePack), domain.StartTurn{ThreadID: th, Text: fmt.Sprint(i)})
			switch {
			case err == nil:
				ok.Add(1)
			case errors.Is(err, domain.ErrThreadBusy):
				busy.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		})
		if ok.Load() != 1 || busy.Load() != 15 {
			t.Fatalf("round %d: %d started, %d busy", round, ok.Load(), busy.Load())
		}
		if turns := len(h.model(t).Threads[th].Turns); turns != 1 {
			t.Fatalf("round %d: %d turns stored", round, turns)
		}
	}
}

// TestRaceCreateThreadVersusDeleteProject: threads being created while the
// project is force-deleted never survive as live threads of a deleted project.
func TestRaceCreateThreadVersusDeleteProject(t *testing.T) {
	h := start(t, 3, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	for round := range 8 {
		p := must(t)(h.client(domain.JSON).Send(ctx, domain.CreateProject{Name: "a", Path: fmt.Sprintf("/del/%d", round)})).ProjectID
		var created, notFound atomic.Int32
		parallel(9, func(i int) {
			c := h.client(domain.MessagePack)
			if i == 0 {
				must(t)(send(ctx, c, domain.DeleteProject{ProjectID: p, Force: true}))
				return
			}
			_, err := send(ctx, c, domain.CreateThread{ProjectID: p})
			switch {
			case err == nil:
				created.Add(1)
			case errors.Is(err, domain.ErrProjectNotFound):
				notFound.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		})
		m := h.model(t)
		if !m.Projects[p].Deleted {
			t.Fatalf("round %d: project not deleted", round)
		}
		for _, th := range m.Threads {
			if th.ProjectID == p && !th.Deleted {
				t.Fatalf("round %d: live thread %s in deleted project (%d created, %d refused)", round, th.ID, created.Load(), notFound.Load())
			}
		}
	}
}

// TestCancelledCommandsAreNeverHalfAppended cancels multi-event commands at
// random moments, on several instances at once. Every command that reached
// the stream is there whole: its events have consecutive sequences, a
// TurnStarted always comes with its status change, and the folded state is
// consistent.
func TestCancelledCommandsAreNeverHalfAppended(t *testing.T) {
	h := start(t, 2, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.JSON)
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "a", Path: "/a"})).ProjectID
	var threads []string
	for range 6 {
		threads = append(threads, must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p})).ThreadID)
	}
	parallel(6, func(i int) {
		svc := h.instances[i%len(h.instances)]
		th := threads[i]
		for k := range 40 {
			cctx, cancel := context.WithTimeout(ctx, time.Duration(rand.IntN(1500))*time.Microsecond)
			var cmd domain.Command = domain.StartTurn{ThreadID: th, Text: "go"}
			if k%2 == 1 {
				// Ends the turn with several events when one is running.
				cmd = domain.DeleteThread{ThreadID: th}
				if k < 39 {
					cmd = domain.InterruptTurn{ThreadID: th}
				}
			}
			_, _ = svc.Execute(cctx, cmd)
			cancel()
		}
	})
	byCommand := map[string][]eventstore.Record{}
	for _, r := range h.history(t) {
		byCommand[r.CommandID] = append(byCommand[r.CommandID], r)
	}
	for id, recs := range byCommand {
		for i, r := range recs {
			if r.Sequence != recs[0].Sequence+uint64(i) {
				t.Fatalf("command %s: events not contiguous: %d after %d", id, r.Sequence, recs[0].Sequence)
			}
		}
		if first, ok := recs[0].Event.(domain.TurnStarted); ok && len(recs) != 2 {
			t.Fatalf("command %s: TurnStarted for %s without its status change", id, first.ThreadID)
		}
	}
	for _, th := range h.model(t).Threads {
		active := th.ActiveTurnID != ""
		if active != (th.Status == domain.StatusRunning) {
			t.Fatalf("thread %s: status %s with active turn %q", th.ID, th.Status, th.ActiveTurnID)
		}
	}
}
