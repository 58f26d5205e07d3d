package simulator

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Script shapes the turns the agent plays.
type Script struct {
	// Deltas is how many text deltas a turn streams.
	Deltas int
	// Rate bounds deltas per second per thread; 0 streams as fast as it can.
	Rate float64
	// ApprovalEvery makes every Nth turn ask for approval (0: never).
	ApprovalEvery int
	// ErrorEvery makes every Nth turn fail (0: never).
	ErrorEvery int
}

// words the agent "writes".
var words = strings.Fields("Let me look at the failing test first. The handler reads the body twice, " +
	"so the second read sees EOF. I will buffer it once and pass the bytes down. Running the suite again.")

// Agent plays the provider side for a set of threads.
type Agent struct {
	nc     *nats.Conn
	js     jetstream.JetStream
	script Script
	enc    domain.Encoding

	mu      sync.Mutex
	turns   map[string]int                    // turns played per thread
	waiting map[string]chan domain.Resolution // request id -> resolution
	cancel  map[string]context.CancelFunc     // thread -> running turn
	playing sync.WaitGroup                    // turns being played
	closed  bool                              // Wait was called: start no more turns
}

// NewAgent returns an agent publishing with enc.
func NewAgent(nc *nats.Conn, script Script, enc domain.Encoding) (*Agent, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if script.Deltas <= 0 {
		script.Deltas = 40
	}
	return &Agent{nc: nc, js: js, script: script, enc: enc, turns: map[string]int{},
		waiting: map[string]chan domain.Resolution{}, cancel: map[string]context.CancelFunc{}}, nil
}

// Follow subscribes to threadID's events and plays its turns from then on,
// until ctx is done or stop is called. The subscription is registered with
// the server before Follow returns, so a turn started afterwards is seen.
func (a *Agent) Follow(ctx context.Context, threadID string) (stop func() error, err error) {
	sub, err := a.nc.Subscribe(contract.ThreadFilter(threadID), func(m *nats.Msg) {
		e, err := domain.DecodeEvent(m.Data, domain.EncodingOf(m.Header.Get(contract.HeaderContentType)))
		if err != nil {
			return
		}
		a.react(ctx, threadID, e)
	})
	if err != nil {
		return nil, err
	}
	fctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := a.nc.FlushWithContext(fctx); err != nil {
		_ = sub.Unsubscribe()
		return nil, err
	}
	return sub.Unsubscribe, nil
}

// Wait returns once every turn the agent started has ended: call it after
// the context given to Follow is done, or once the turns are played.
func (a *Agent) Wait() {
	a.mu.Lock()
	a.closed = true // under mu, so no turn starts once Wait waits
	a.mu.Unlock()
	a.playing.Wait()
}

// Serve follows threadID (see Follow) until ctx is done.
func (a *Agent) Serve(ctx context.Context, threadID string) error {
	stop, err := a.Follow(ctx, threadID)
	if err != nil {
		return err
	}
	<-ctx.Done()
	return stop()
}

func (a *Agent) react(ctx context.Context, threadID string, e domain.Event) {
	a.mu.Lock()
	defer a.mu.Unlock()
	switch ev := e.(type) {
	case domain.TurnStarted:
		if a.closed {
			return
		}
		a.turns[threadID]++
		tctx, cancel := context.WithCancel(ctx)
		a.cancel[threadID] = cancel
		n := a.turns[threadID]
		a.playing.Go(func() {
			defer cancel()
			a.play(tctx, threadID, ev.TurnID, n)
		})
	case domain.TurnInterrupted, domain.ThreadDeleted:
		if cancel, ok := a.cancel[threadID]; ok {
			cancel()
			delete(a.cancel, threadID)
		}
	case domain.PendingActionResolved:
		if ch, ok := a.waiting[ev.RequestID]; ok {
			ch <- ev.Resolution
			delete(a.waiting, ev.RequestID)
		}
	}
}

// play streams one turn (see Play), publishing what it reports.
func (a *Agent) play(ctx context.Context, threadID, turnID string, n int) {
	pub := &publisher{a: a, ctx: ctx, thread: threadID, turn: turnID}
	Play(ctx, a.script, turnID, n, pub.send, func(ctx context.Context, req domain.AwaitingApproval) (domain.Resolution, bool) {
		ch := make(chan domain.Resolution, 1)
		a.mu.Lock()
		a.waiting[req.RequestID] = ch
		a.mu.Unlock()
		pub.send(req)
		select {
		case res := <-ch:
			return res, true
		case <-ctx.Done():
			return "", false
		}
	})
}

// publisher numbers and publishes one turn's provider events.
type publisher struct {
	a      *Agent
	ctx    context.Context
	thread string
	turn   string
	n      int
}

func (p *publisher) send(e domain.ProviderEvent) {
	if p.ctx.Err() != nil {
		return
	}
	p.n++
	id := fmt.Sprintf("%s-%d", p.turn, p.n)
	body, err := domain.Marshal(p.a.enc, contract.ProviderMessage{TurnID: p.turn, ProviderEventID: id,
		Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
	if err != nil {
		return
	}
	m := &nats.Msg{Subject: contract.ProviderSubject(p.thread), Data: body, Header: nats.Header{}}
	m.Header.Set(contract.HeaderMsgID, p.thread+":"+id)
	m.Header.Set(contract.HeaderContentType, p.a.enc.ContentType())
	// Synchronous, retried until stored: a lost event would leave the turn
	// hanging, and the message id makes a retry harmless.
	for p.ctx.Err() == nil {
		if _, err := p.a.js.PublishMsg(p.ctx, m); err == nil {
			return
		}
		select {
		case <-time.After(50 * time.Millisecond):
		case <-p.ctx.Done():
		}
	}
}
