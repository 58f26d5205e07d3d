package host

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// EventID is the provider_event_id of the n-th event a host publishes for
// a turn: derived from the turn and the position alone, so an event
// published twice is a duplicate the stream and the decider drop. A turn
// id too long to take the suffix is hashed.
func EventID(turnID, suffix string) string {
	id := turnID + "-" + suffix
	if domain.ValidID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(turnID))
	return "h" + hex.EncodeToString(sum[:20]) + "-" + suffix
}

// publisher publishes a thread's provider messages.
type publisher struct {
	js   jetstream.JetStream
	host string
}

// publish stores one provider event, retrying until it is stored or ctx
// is done: a lost event would leave the turn hanging, and the message id
// makes a retry harmless.
func (p publisher) publish(ctx context.Context, threadID, turnID, eventID string, e domain.ProviderEvent) error {
	body, err := domain.Marshal(domain.MessagePack, contract.ProviderMessage{TurnID: turnID, ProviderEventID: eventID,
		Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: contract.ProviderSubject(threadID), Data: body, Header: nats.Header{}}
	m.Header.Set(contract.HeaderMsgID, threadID+":"+eventID)
	m.Header.Set(contract.HeaderContentType, domain.MessagePack.ContentType())
	backoff := 50 * time.Millisecond
	for {
		if _, err = p.js.PublishMsg(ctx, m); err == nil {
			return nil
		}
		if errors.Is(err, nats.ErrConnectionClosed) {
			return err // for good: the next active instance ends the turn
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(backoff):
		}
		backoff = min(2*backoff, 2*time.Second)
	}
}

// running is a turn the host plays: the agent's turn once started, and
// what the turn has published.
type running struct {
	info     TurnInfo
	provider string
	pub      publisher
	pubCtx   context.Context
	onError  func(error)
	// background counts the goroutines Run waits for before it returns.
	background *sync.WaitGroup

	// pubMu keeps the turn's events in order while one is published;
	// mu guards the state below and is never held while publishing, so
	// the host's event loop can always interrupt.
	pubMu       sync.Mutex
	mu          sync.Mutex
	turn        agent.Turn
	n           int  // events published
	ended       bool // the terminal event is out
	interrupted bool // the turn ended in the domain: publish nothing more
	done        chan struct{}
	// endedInDomain is closed once the stream shows the turn ended (what
	// an external turn waits for).
	endedInDomain chan struct{}
	endedOnce     sync.Once
}

func (r *running) turnEnded() { r.endedOnce.Do(func() { close(r.endedInDomain) }) }

// emit publishes what the agent reports, numbered in order.
func (r *running) emit(e domain.ProviderEvent) {
	// The agent's output waits while an event is published, which is the
	// backpressure it should get.
	r.pubMu.Lock()
	defer r.pubMu.Unlock()
	r.mu.Lock()
	if r.ended || r.interrupted {
		r.mu.Unlock()
		return
	}
	if s, ok := e.(domain.SessionStarted); ok && s.Host == "" {
		s.Host = r.pub.host
		e = s
	}
	switch e.(type) {
	case domain.TurnComplete, domain.ProviderError:
		r.ended = true
	}
	r.n++
	id := EventID(r.info.TurnID, strconv.Itoa(r.n))
	r.mu.Unlock()
	if err := r.pub.publish(r.pubCtx, r.info.ThreadID, r.info.TurnID, id, e); err != nil {
		r.onError(err)
	}
}

// fail ends the turn with an error, unless it has ended already.
func (r *running) fail(message string, retryable bool) {
	r.emit(domain.ProviderError{Message: message, Retryable: retryable})
}

func (r *running) setTurn(t agent.Turn) {
	r.mu.Lock()
	r.turn = t
	interrupted := r.interrupted
	r.mu.Unlock()
	if interrupted {
		t.Interrupt()
	}
}

// interrupt stops the agent; nothing more is published for the turn.
func (r *running) interrupt() {
	r.mu.Lock()
	r.interrupted = true
	t := r.turn
	r.mu.Unlock()
	if t != nil {
		t.Interrupt()
	}
}

// respond answers the agent's permission request. It runs on its own
// goroutine: writing to an agent that does not read must not stall the
// host's event loop.
func (r *running) respond(e domain.PendingActionResolved) {
	r.mu.Lock()
	t := r.turn
	r.mu.Unlock()
	if t == nil {
		return
	}
	d := agent.Decision{Allow: e.Resolution == domain.ResolutionApproved, Reason: e.Reason}
	if !d.Allow && d.Reason == "" && e.Resolution == domain.ResolutionCancelled {
		d.Reason = "The request was cancelled."
	}
	r.background.Add(1)
	go func() {
		defer r.background.Done()
		if err := t.Respond(e.RequestID, d); err != nil {
			r.onError(err)
		}
	}()
}

// terminated reports whether the turn's end is out (or not to be sent).
func (r *running) terminated() bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ended || r.interrupted
}
