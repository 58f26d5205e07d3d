package simulator_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/simulator"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

// TestApprovalPausesTheTurn: a simulated turn asks for approval and waits;
// nothing more streams until action.approve arrives.
func TestApprovalPausesTheTurn(t *testing.T) {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	agent, err := simulator.NewAgent(s.NC, simulator.Script{Deltas: 20, ApprovalEvery: 1}, domain.JSON)
	if err != nil {
		t.Fatal(err)
	}
	p := s.Send(t, domain.CreateProject{Name: "p", Path: "/sim"}).ProjectID
	thread := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	if _, err := agent.Follow(ctx, thread); err != nil {
		t.Fatal(err)
	}
	s.Send(t, domain.StartTurn{ThreadID: thread, Text: "go"})

	th := waitFor(t, s, thread, func(th *domain.ThreadState) bool { return th.Status == domain.StatusAwaitingApproval })
	req := th.PendingActions[0].RequestID
	seqWhileWaiting := th.Seq
	time.Sleep(300 * time.Millisecond)
	var again contract.ThreadReply
	s.Query(t, contract.ThreadGet{ThreadID: thread}, &again)
	if again.Thread.Status != domain.StatusAwaitingApproval || again.Thread.Seq != seqWhileWaiting {
		t.Fatalf("the turn moved on without approval: %s seq %d (was %d)", again.Thread.Status, again.Thread.Seq, seqWhileWaiting)
	}
	s.Send(t, domain.ApprovePendingAction{ThreadID: thread, RequestID: req})
	th = waitFor(t, s, thread, func(th *domain.ThreadState) bool { return th.ActiveTurnID == "" })
	if th.Turns[0].Status != domain.TurnStatusCompleted || th.ToolCalls[0].Status != domain.ToolCallSucceeded {
		t.Fatalf("after approval: %+v", th)
	}
}

// TestSimulationRuns plays a few turns on a few threads end to end.
func TestSimulationRuns(t *testing.T) {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var turns atomic.Int32
	sim, err := simulator.New(s.NC, simulator.Config{Threads: 3, Turns: 2, Script: simulator.Script{Deltas: 30, ApprovalEvery: 2, ErrorEvery: 3},
		Progress: func(string, int) { turns.Add(1) }})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- sim.Run(ctx) }()
	select {
	case <-sim.Ready():
	case err := <-done:
		t.Fatalf("returned before ready: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := turns.Load(); n != 6 {
		t.Fatalf("%d turns played, want 6", n)
	}
}

func waitFor(t *testing.T, s *peontest.Stack, thread string, ok func(*domain.ThreadState) bool) *domain.ThreadState {
	t.Helper()
	for range 1000 {
		var r contract.ThreadReply
		if err := s.Client.Query(context.Background(), contract.ThreadGet{ThreadID: thread}, &r); err == nil && ok(r.Thread) {
			return r.Thread
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("condition never met")
	return nil
}

// TestValidateReportsEveryProblem: one error names every bad field; the
// defaults are valid.
func TestValidateReportsEveryProblem(t *testing.T) {
	if err := simulator.DefaultConfig().Validate(); err != nil {
		t.Fatalf("defaults: %v", err)
	}
	err := simulator.Config{Threads: 0, Turns: -1, Script: simulator.Script{Deltas: 0, Rate: -1, ApprovalEvery: -1, ErrorEvery: -1},
		ApproveAfter: -time.Second}.Validate()
	for _, want := range []string{"threads 0", "turns -1", "deltas 0", "rate -1", "approval every -1", "error every -1", "approve after -1s"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error lacks %q: %v", want, err)
		}
	}
}
