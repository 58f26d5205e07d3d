package codex

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// errStop ends the read loop after output that is not the protocol.
var errStop = errors.New("stop reading")

// turn is one turn of one app-server process.
type turn struct {
	ctx  context.Context
	cfg  Config
	req  agent.TurnRequest
	emit agent.Emit
	proc *agent.Process
	done chan struct{}

	mu          sync.Mutex
	nextID      int64
	calls       map[int64]string // our requests in flight: id → method
	threadID    string
	turnID      string
	pending     map[string]json.RawMessage // request_id → the server request's JSON-RPC id
	interrupted bool
	ended       bool // the terminal event has been emitted

	// Owned by the run goroutine.
	tools   map[string]*toolState   // tool items started, by Codex item id
	streams map[string]*streamState // messages and reasoning, by Codex item id
	usage   usageTracker
}

type toolState struct {
	item threadItem
	out  headBuffer
}

type streamState struct {
	streamed bool
	section  string // the reasoning section last streamed, to separate the next
}

func newTurn(ctx context.Context, cfg Config, req agent.TurnRequest, emit agent.Emit, proc *agent.Process) *turn {
	return &turn{
		ctx: ctx, cfg: cfg, req: req, emit: emit, proc: proc,
		done:    make(chan struct{}),
		calls:   map[int64]string{},
		pending: map[string]json.RawMessage{},
		tools:   map[string]*toolState{},
		streams: map[string]*streamState{},
	}
}

// Done is closed once the last event is emitted and the process is gone.
func (t *turn) Done() <-chan struct{} { return t.done }

// Respond answers an approval request: accept, or decline (the agent goes
// on without the action). The protocol's decision carries no reason, so a
// denial's reason does not reach Codex.
func (t *turn) Respond(requestID string, d agent.Decision) error {
	t.mu.Lock()
	rpcID, ok := t.pending[requestID]
	if !ok || t.ended {
		t.mu.Unlock()
		return fmt.Errorf("codex: no pending approval %q", requestID)
	}
	delete(t.pending, requestID)
	if len(t.pending) == 0 {
		t.proc.Watch(true)
	}
	t.mu.Unlock()
	decision := "decline"
	if d.Allow {
		decision = "accept"
	}
	msg, err := response(rpcID, approvalResponse{Decision: decision})
	if err != nil {
		return err
	}
	return t.write(msg)
}

// Interrupt asks Codex to interrupt the turn (turn/interrupt; the session
// stays resumable) and signals the process when it has not ended within
// InterruptGrace. Before the turn has an id the request is sent as soon as
// it has one.
func (t *turn) Interrupt() {
	t.mu.Lock()
	if t.ended || t.interrupted {
		t.mu.Unlock()
		return
	}
	t.interrupted = true
	threadID, turnID := t.threadID, t.turnID
	t.mu.Unlock()
	if turnID != "" {
		t.call(methodTurnInterrupt, turnInterruptParams{ThreadID: threadID, TurnID: turnID})
	}
	go func() {
		select {
		case <-t.proc.Exited():
		case <-time.After(t.cfg.InterruptGrace):
			t.proc.Interrupt()
		}
	}()
}

// run drives the protocol until the process has gone.
func (t *turn) run() {
	defer close(t.done)
	t.call(methodInitialize, initializeParams{ClientInfo: clientInfo{Name: "peon", Title: "Peon", Version: t.cfg.ClientVersion}})
	err := t.proc.ReadLines(t.handleLine)
	if errors.Is(err, agent.ErrLineTooLong) && !t.isEnded() {
		t.fail(fmt.Sprintf("codex app-server wrote a line longer than %d bytes", MaxLine), false)
		t.proc.Kill()
	}
	select {
	case <-t.proc.Exited():
	case <-time.After(t.cfg.Grace):
		// stdout closed but the process lingers.
		t.proc.Kill()
		<-t.proc.Exited()
	}
	exit := t.proc.Wait()
	t.mu.Lock()
	ended, interrupted := t.ended, t.interrupted
	t.mu.Unlock()
	switch {
	case ended, interrupted:
		// Nothing more to say: the turn has its terminal event, or the
		// host interrupted it and has already ended it.
	case t.ctx.Err() != nil:
		t.fail("codex turn ended: "+t.ctx.Err().Error(), true)
	default:
		why := exit.Error()
		if exit.OK() {
			why = "codex app-server exited before the turn completed"
		}
		t.emit(domain.SessionExited{ExitCode: exit.Code, Error: why})
		t.fail(why, true)
	}
}

// handleLine decodes and dispatches one line of output. Once the turn has
// ended, output is read and dropped until the process exits.
func (t *turn) handleLine(line []byte) error {
	if t.isEnded() {
		return nil
	}
	msg, err := DecodeLine(line)
	if err != nil {
		prefix := line
		if len(prefix) > 80 {
			prefix = prefix[:80]
		}
		t.fail(fmt.Sprintf("codex app-server wrote output that is %v: %q", err, prefix), false)
		t.proc.Kill()
		return errStop
	}
	switch msg.Kind {
	case KindRequest:
		t.onRequest(msg)
	case KindNotification:
		t.onNotification(msg)
	default:
		t.onResponse(msg)
	}
	return nil
}

// call sends a request and remembers its method for the response.
func (t *turn) call(method string, params any) {
	t.mu.Lock()
	t.nextID++
	id := t.nextID
	t.calls[id] = method
	t.mu.Unlock()
	msg, err := request(id, method, params)
	if err == nil {
		err = t.write(msg)
	}
	// A failed write means the process is going: the read loop sees the
	// end of its output and reports it.
	_ = err
}

func (t *turn) notify(method string) {
	_ = t.write(Message{Kind: KindNotification, Method: method})
}

func (t *turn) write(m Message) error {
	line, err := m.Encode()
	if err != nil {
		return err
	}
	return t.proc.WriteLine(line)
}

// onResponse advances the handshake: initialize → thread/start or
// thread/resume → turn/start.
func (t *turn) onResponse(m Message) {
	id, err := strconv.ParseInt(string(m.ID), 10, 64)
	t.mu.Lock()
	method, ok := t.calls[id]
	delete(t.calls, id)
	t.mu.Unlock()
	if err != nil || !ok {
		return // not an answer to anything we asked
	}
	if m.Kind == KindError {
		if method == methodTurnInterrupt {
			return // the interrupt grace takes over
		}
		t.fail(fmt.Sprintf("codex %s failed: %v", method, m.Error), false)
		return
	}
	switch method {
	case methodInitialize:
		t.notify(methodInitialized)
		t.openThread()
	case methodThreadStart, methodThreadResume:
		var res threadResult
		if json.Unmarshal(m.Result, &res) != nil || res.Thread.ID == "" {
			t.fail(fmt.Sprintf("codex %s answered without a thread id", method), false)
			return
		}
		t.mu.Lock()
		t.threadID = res.Thread.ID
		t.mu.Unlock()
		t.send(domain.SessionStarted{SessionID: res.Thread.ID, Model: res.Model})
		t.call(methodTurnStart, turnStartParams{
			ThreadID: res.Thread.ID,
			Input:    []userInput{{Type: "text", Text: t.req.Prompt, TextElements: []any{}}},
		})
	case methodTurnStart:
		var res turnResult
		if json.Unmarshal(m.Result, &res) != nil || res.Turn.ID == "" {
			t.fail("codex turn/start answered without a turn id", false)
			return
		}
		t.setTurnID(res.Turn.ID)
	}
}

// openThread resumes the session the request names, or starts a thread,
// with the directory, model and approval policy of the turn.
func (t *turn) openThread() {
	approval, sandbox := t.cfg.policy(t.req.Mode)
	p := threadParams{Model: t.req.Model, Cwd: t.req.Dir, ApprovalPolicy: approval, Sandbox: sandbox}
	if t.req.SessionID != "" {
		p.ThreadID = t.req.SessionID
		t.call(methodThreadResume, p)
		return
	}
	t.call(methodThreadStart, p)
}

// setTurnID records the turn's id, and sends the interrupt asked for
// before it was known.
func (t *turn) setTurnID(id string) {
	t.mu.Lock()
	if t.turnID != "" {
		t.mu.Unlock()
		return
	}
	t.turnID = id
	interrupt := t.interrupted && !t.ended
	threadID := t.threadID
	t.mu.Unlock()
	if interrupt {
		t.call(methodTurnInterrupt, turnInterruptParams{ThreadID: threadID, TurnID: id})
	}
}

// ours reports whether a notification belongs to this turn's thread and
// turn (a Codex process can also carry sub-agent threads).
func (t *turn) ours(threadID, turnID string) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if threadID != "" && t.threadID != "" && threadID != t.threadID {
		return false
	}
	return turnID == "" || t.turnID == "" || turnID == t.turnID
}

func (t *turn) isEnded() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.ended
}

// send emits a non-terminal event while the turn is running.
func (t *turn) send(ev domain.ProviderEvent) {
	if !t.isEnded() {
		t.emit(ev)
	}
}

// finish emits the terminal event and shuts the process down: stdin is
// closed, which ends the app-server, and it is signalled after Grace.
func (t *turn) finish(ev domain.ProviderEvent) {
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	t.ended = true
	clear(t.pending)
	t.mu.Unlock()
	t.emit(ev)
	t.proc.CloseStdin()
	go func() {
		select {
		case <-t.proc.Exited():
		case <-time.After(t.cfg.Grace):
			t.proc.Interrupt()
		}
	}()
}

func (t *turn) fail(message string, retryable bool) {
	t.finish(domain.ProviderError{Message: message, Retryable: retryable})
}
