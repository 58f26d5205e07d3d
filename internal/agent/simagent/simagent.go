// Package simagent is the built-in fake agent as a provider (kind
// `simulator`): each turn plays the scripted turn `peon simulate` plays
// (internal/simulator.Play) in-process — thinking, streamed text, a tool
// call and its result, an approval request every few turns when the
// thread's runtime mode asks for approvals — and runs no program. It is
// what `peon dev` answers every new thread with.
package simagent

import (
	"context"
	"fmt"
	"sync"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/internal/simulator"
	"github.com/peonhq/peon/pkg/domain"
)

// DefaultScript streams a short answer at a readable pace and asks for
// approval every third turn of a thread.
var DefaultScript = simulator.Script{Deltas: 30, Rate: 30, ApprovalEvery: 3}

// New returns the simulator provider playing script (zero: DefaultScript).
func New(script simulator.Script) agent.Provider {
	if script.Deltas == 0 {
		script = DefaultScript
	}
	return &provider{script: script, turns: map[string]int{}}
}

type provider struct {
	script simulator.Script

	mu    sync.Mutex
	turns map[string]int // turns played per thread, for ApprovalEvery/ErrorEvery
}

// SessionID is the fake session a thread's turns report: the one to
// resume, or one named after the thread.
func SessionID(req agent.TurnRequest) string {
	if req.SessionID != "" {
		return req.SessionID
	}
	return "sim-" + req.ThreadID
}

// Start plays the turn on its own goroutine; see agent.Provider.
func (p *provider) Start(ctx context.Context, req agent.TurnRequest, emit agent.Emit) (agent.Turn, error) {
	p.mu.Lock()
	p.turns[req.ThreadID]++
	n := p.turns[req.ThreadID]
	p.mu.Unlock()
	tctx, cancel := context.WithCancel(ctx)
	t := &turn{cancel: cancel, done: make(chan struct{}), waiting: map[string]chan domain.Resolution{}}
	var ask simulator.Ask
	if req.Mode != agent.FullAccess {
		ask = t.ask(emit)
	}
	go func() {
		defer close(t.done)
		defer cancel()
		emit(domain.SessionStarted{SessionID: SessionID(req), Model: req.Model})
		simulator.Play(tctx, p.script, req.TurnID, n, func(e domain.ProviderEvent) {
			if tctx.Err() == nil {
				emit(e)
			}
		}, ask)
		if tctx.Err() != nil && ctx.Err() != nil && !t.interrupted() {
			emit(domain.ProviderError{Message: "the turn was cancelled: " + ctx.Err().Error(), Retryable: true})
		}
	}()
	return t, nil
}

type turn struct {
	cancel context.CancelFunc
	done   chan struct{}

	mu      sync.Mutex
	stopped bool
	waiting map[string]chan domain.Resolution
}

func (t *turn) ask(emit agent.Emit) simulator.Ask {
	return func(ctx context.Context, req domain.AwaitingApproval) (domain.Resolution, bool) {
		ch := make(chan domain.Resolution, 1)
		t.mu.Lock()
		t.waiting[req.RequestID] = ch
		t.mu.Unlock()
		emit(req)
		select {
		case res := <-ch:
			return res, true
		case <-ctx.Done():
			return "", false
		}
	}
}

func (t *turn) interrupted() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.stopped
}

// Respond answers the turn's approval request.
func (t *turn) Respond(requestID string, d agent.Decision) error {
	t.mu.Lock()
	ch, ok := t.waiting[requestID]
	delete(t.waiting, requestID)
	t.mu.Unlock()
	if !ok {
		return fmt.Errorf("simulator: no permission request %q awaits an answer", requestID)
	}
	res := domain.ResolutionRejected
	if d.Allow {
		res = domain.ResolutionApproved
	}
	ch <- res
	return nil
}

// Interrupt stops the turn at once; nothing more is emitted.
func (t *turn) Interrupt() {
	t.mu.Lock()
	t.stopped = true
	t.mu.Unlock()
	t.cancel()
}

// Done is closed once the turn has ended.
func (t *turn) Done() <-chan struct{} { return t.done }
