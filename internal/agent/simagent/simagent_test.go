package simagent_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/internal/agent/simagent"
	"github.com/peonhq/peon/internal/simulator"
	"github.com/peonhq/peon/pkg/domain"
)

type recorder struct {
	mu     sync.Mutex
	events []domain.ProviderEvent
	asked  chan domain.AwaitingApproval
}

func newRecorder() *recorder { return &recorder{asked: make(chan domain.AwaitingApproval, 4)} }

func (r *recorder) emit(e domain.ProviderEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
	if a, ok := e.(domain.AwaitingApproval); ok {
		r.asked <- a
	}
}

func (r *recorder) all() []domain.ProviderEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]domain.ProviderEvent(nil), r.events...)
}

func start(t *testing.T, p agent.Provider, req agent.TurnRequest) (*recorder, agent.Turn) {
	t.Helper()
	rec := newRecorder()
	turn, err := p.Start(context.Background(), req, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	return rec, turn
}

func wait(t *testing.T, turn agent.Turn) {
	t.Helper()
	select {
	case <-turn.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the turn did not end")
	}
}

// A full-access turn names its session first, streams, runs its tool
// without asking and completes; the next turn resumes the session.
func TestFullAccessTurn(t *testing.T) {
	p := simagent.New(simulator.Script{Deltas: 6, ApprovalEvery: 1})
	rec, turn := start(t, p, agent.TurnRequest{ThreadID: "t1", TurnID: "u1", Mode: agent.FullAccess, Model: "m"})
	wait(t, turn)
	all := rec.all()
	if s, ok := all[0].(domain.SessionStarted); !ok || s.SessionID != "sim-t1" || s.Model != "m" {
		t.Errorf("first event = %#v, want SessionStarted sim-t1", all[0])
	}
	var text, tools, results int
	for _, e := range all {
		switch e := e.(type) {
		case domain.TextDelta:
			text++
		case domain.ToolCall:
			tools++
		case domain.ToolResult:
			if !e.IsError {
				results++
			}
		case domain.AwaitingApproval:
			t.Error("a full-access turn asked for approval")
		}
	}
	if text != 6 || tools != 1 || results != 1 {
		t.Errorf("%d deltas, %d tool calls, %d results; want 6, 1, 1", text, tools, results)
	}
	if _, ok := all[len(all)-1].(domain.TurnComplete); !ok {
		t.Errorf("last event = %#v, want TurnComplete", all[len(all)-1])
	}
	rec, turn = start(t, p, agent.TurnRequest{ThreadID: "t1", TurnID: "u2", SessionID: "sim-t1", Mode: agent.FullAccess})
	wait(t, turn)
	if s := rec.all()[0].(domain.SessionStarted); s.SessionID != "sim-t1" {
		t.Errorf("resumed session %q", s.SessionID)
	}
}

// An approval-required turn waits for the answer: approved runs the tool,
// rejected reports it refused; an unknown request id is an error.
func TestApproval(t *testing.T) {
	for _, allow := range []bool{true, false} {
		p := simagent.New(simulator.Script{Deltas: 4, ApprovalEvery: 1})
		rec, turn := start(t, p, agent.TurnRequest{ThreadID: "t1", TurnID: "u1", Mode: agent.ApprovalRequired})
		var req domain.AwaitingApproval
		select {
		case req = <-rec.asked:
		case <-time.After(10 * time.Second):
			t.Fatal("never asked")
		}
		select {
		case <-turn.Done():
			t.Fatal("ended while waiting for approval")
		case <-time.After(50 * time.Millisecond):
		}
		if err := turn.Respond("nope", agent.Decision{Allow: true}); err == nil {
			t.Error("answered a request that was never made")
		}
		if err := turn.Respond(req.RequestID, agent.Decision{Allow: allow}); err != nil {
			t.Fatal(err)
		}
		wait(t, turn)
		var result *domain.ToolResult
		for _, e := range rec.all() {
			if r, ok := e.(domain.ToolResult); ok {
				result = &r
			}
		}
		if result == nil || result.IsError == allow {
			t.Errorf("allow=%v: tool result %+v", allow, result)
		}
	}
}

// Interrupt ends the turn at once without a terminal event.
func TestInterrupt(t *testing.T) {
	p := simagent.New(simulator.Script{Deltas: 1000, Rate: 50})
	rec, turn := start(t, p, agent.TurnRequest{ThreadID: "t1", TurnID: "u1", Mode: agent.FullAccess})
	turn.Interrupt()
	wait(t, turn)
	for _, e := range rec.all() {
		switch e.(type) {
		case domain.TurnComplete, domain.ProviderError:
			t.Errorf("emitted %#v after the interrupt", e)
		}
	}
}
