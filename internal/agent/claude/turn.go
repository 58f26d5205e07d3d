package claude

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// Ids of the control requests the adapter sends; one of each per process.
const (
	initializeID = "peon_initialize"
	interruptID  = "peon_interrupt"
)

// turn is one Claude Code process playing one turn. Its reader goroutine
// is the only one that emits; Respond and Interrupt only write to stdin.
type turn struct {
	ctx  context.Context
	cfg  Config
	req  agent.TurnRequest
	p    *agent.Process
	emit agent.Emit
	tr   *translator
	done chan struct{}

	// interrupted silences the turn: after Interrupt nothing more is
	// emitted (the turn has already ended in the domain).
	interrupted atomic.Bool
	// ended is set by the reader once the terminal event is out.
	ended bool

	mu sync.Mutex
	// pending holds the permission requests awaiting an answer, by the
	// request_id they were reported under.
	pending map[string]pendingRequest
	closed  bool
}

type pendingRequest struct {
	cliID string
	input map[string]any
}

func newTurn(ctx context.Context, cfg Config, req agent.TurnRequest, p *agent.Process, emit agent.Emit) *turn {
	t := &turn{ctx: ctx, cfg: cfg, req: req, p: p, emit: emit, done: make(chan struct{}), pending: map[string]pendingRequest{}}
	t.tr = newTranslator(t.send)
	return t
}

func (t *turn) start() {
	t.p.Watch(true)
	// A failed write means the process is already gone; the reader
	// reports how it ended.
	_ = t.p.WriteLine(controlRequest(initializeID, map[string]any{"subtype": "initialize", "hooks": nil}))
	go t.run()
}

// Done is closed once the last event is out and the process is gone.
func (t *turn) Done() <-chan struct{} { return t.done }

func (t *turn) send(ev domain.ProviderEvent) {
	if t.interrupted.Load() {
		return
	}
	t.emit(ev)
}

// fatalError ends the turn from the reader: output that is not the
// protocol, or a refused handshake.
type fatalError struct{ msg string }

func (e *fatalError) Error() string { return e.msg }

func (t *turn) run() {
	defer close(t.done)
	err := t.p.ReadLines(t.line)
	var lineErr *LineError
	var fatal *fatalError
	switch {
	case t.ended:
	case errors.As(err, &lineErr), errors.Is(err, agent.ErrLineTooLong):
		t.p.Kill()
		t.send(domain.ProviderError{Message: agent.Truncate("Claude Code wrote output that is not its protocol: "+err.Error(), maxErrorBytes)})
	case errors.As(err, &fatal):
		t.p.Kill()
		t.send(domain.ProviderError{Message: agent.Truncate(fatal.msg, maxErrorBytes)})
	default:
		t.exited(t.waitExit())
	}
	t.closePending()
	<-t.p.Exited()
}

// waitExit waits, after the end of stdout, for the process to end, and
// kills it when it does not within the grace period.
func (t *turn) waitExit() agent.Exit {
	select {
	case <-t.p.Exited():
	case <-time.After(t.cfg.Grace):
		t.p.Kill()
	}
	return t.p.Wait()
}

// exited reports a process that ended before its result.
func (t *turn) exited(exit agent.Exit) {
	switch {
	case t.interrupted.Load():
	case t.ctx.Err() != nil:
		t.send(domain.ProviderError{Message: "Claude Code stopped: the turn was cancelled (" + t.ctx.Err().Error() + ")", Retryable: true})
	case exit.Idle:
		t.send(domain.ProviderError{
			Message:   fmt.Sprintf("Claude Code wrote nothing for %s (idle timeout) and was killed", t.cfg.IdleTimeout),
			Retryable: true,
		})
	default:
		why := agent.Truncate(exit.Error(), maxErrorBytes)
		t.send(domain.SessionExited{ExitCode: exit.Code, Error: why})
		t.send(domain.ProviderError{Message: agent.Truncate("Claude Code ended without a result: "+why, maxErrorBytes), Retryable: true})
	}
}

// line handles one line of output.
func (t *turn) line(b []byte) error {
	if t.ended {
		return nil // the turn is over: drain until the process exits
	}
	m, err := DecodeLine(b)
	if err != nil {
		return err
	}
	switch m.Type {
	case "":
	case TypeControlResponse:
		return t.controlResponse(&m)
	case TypeControlRequest:
		t.controlRequest(&m)
	case TypeControlCancel:
		t.cancel(m.RequestID)
	case TypeResult:
		t.result(&m)
	default:
		t.tr.handle(&m)
	}
	return nil
}

// controlResponse completes the handshake: once Claude Code has accepted
// initialize, the prompt goes in.
func (t *turn) controlResponse(m *Message) error {
	if m.Response.RequestID != initializeID {
		return nil // the interrupt's acknowledgement
	}
	if m.Response.Subtype == "error" {
		return &fatalError{"Claude Code refused the initialize request: " + string(m.Response.Error)}
	}
	if t.interrupted.Load() {
		t.p.CloseStdin() // interrupted before the prompt: nothing to play
		return nil
	}
	// Written from its own goroutine: a long prompt can fill the pipe, and
	// the reader must go on reading meanwhile.
	prompt := userMessage(t.req.Prompt)
	go func() { _ = t.p.WriteLine(prompt) }()
	return nil
}

func (t *turn) controlRequest(m *Message) {
	r := m.Request
	if r.Subtype != "can_use_tool" {
		// Hooks and SDK MCP servers are not registered, so Claude Code
		// should not ask; if it does, it gets the SDKs' answer to an
		// unknown request.
		_ = t.p.WriteLine(controlError(m.RequestID, "unsupported control request: "+r.Subtype))
		return
	}
	if t.req.Mode == agent.FullAccess {
		_ = t.p.WriteLine(allow(m.RequestID, r.Input))
		return
	}
	if t.interrupted.Load() {
		_ = t.p.WriteLine(deny(m.RequestID, "The turn was interrupted.", true))
		return
	}
	id := safeID("req", m.RequestID)
	t.mu.Lock()
	t.pending[id] = pendingRequest{cliID: m.RequestID, input: r.Input}
	// Waiting for a person is not hanging.
	t.p.Watch(false)
	t.mu.Unlock()
	ev := domain.AwaitingApproval{RequestID: id, Kind: toolKind(r.ToolName), Description: describe(r)}
	if tc, ok := t.tr.toolCalls[r.ToolUseID]; ok {
		ev.ToolCallID = tc
	}
	t.send(ev)
}

// cancel drops a permission request Claude Code no longer waits for.
func (t *turn) cancel(cliID string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	for id, pr := range t.pending {
		if pr.cliID == cliID {
			delete(t.pending, id)
		}
	}
	if len(t.pending) == 0 && !t.closed {
		t.p.Watch(true)
	}
}

func (t *turn) result(m *Message) {
	t.ended = true
	t.send(resultEvent(m))
	t.closePending()
	// Claude Code exits at the end of its input; if it does not, it is
	// killed once the grace period has passed.
	t.p.CloseStdin()
	go func() {
		select {
		case <-t.p.Exited():
		case <-time.After(t.cfg.Grace):
			t.p.Kill()
		}
	}()
}

func (t *turn) closePending() {
	t.mu.Lock()
	t.closed = true
	clear(t.pending)
	t.mu.Unlock()
}

// Respond answers a permission request: allow with the tool's input as
// it was asked for (what the SDKs send when the input is not changed), or
// deny with the reason.
func (t *turn) Respond(requestID string, d agent.Decision) error {
	t.mu.Lock()
	pr, ok := t.pending[requestID]
	if ok {
		delete(t.pending, requestID)
		if len(t.pending) == 0 {
			t.p.Watch(true)
		}
	}
	t.mu.Unlock()
	if !ok {
		return fmt.Errorf("claude: no permission request %q awaits an answer", requestID)
	}
	if d.Allow {
		return t.p.WriteLine(allow(pr.cliID, pr.input))
	}
	reason := d.Reason
	if reason == "" {
		reason = "The user rejected this action."
	}
	return t.p.WriteLine(deny(pr.cliID, reason, false))
}

// Interrupt asks Claude Code to stop (its interrupt control request); if
// the process has not ended within the grace period it gets SIGINT, then
// SIGKILL. Nothing more is emitted.
func (t *turn) Interrupt() {
	if !t.interrupted.CompareAndSwap(false, true) {
		return
	}
	select {
	case <-t.p.Exited():
		return
	default:
	}
	_ = t.p.WriteLine(controlRequest(interruptID, map[string]any{"subtype": "interrupt"}))
	go func() {
		select {
		case <-t.p.Exited():
		case <-time.After(t.cfg.Grace):
			t.p.Interrupt()
		}
	}()
}
