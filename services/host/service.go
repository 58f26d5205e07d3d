package host

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/nats-io/nuid"
	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// ServiceName is the micro service every host instance registers.
const ServiceName = contract.HostService

// LostTurnError is the message of the error a host records for a turn
// that was running on an instance that is gone.
const LostTurnError = "the host stopped while this turn ran (a restart, a crash or a handover to a standby); " +
	"the agent is gone — send the message again"

// Service is one host instance.
type Service struct {
	cfg       Config
	nc        *nats.Conn
	js        jetstream.JetStream
	log       *slog.Logger
	providers map[string]agent.Provider
	kinds     map[string]string // provider name -> kind
	pub       publisher

	ready  lifecycle.Ready
	active atomic.Bool

	mu      sync.Mutex
	running map[string]*running // by thread id
	turns   sync.WaitGroup
}

// New returns a host instance over nc. It validates cfg and builds its
// providers; it connects nothing.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("host config: %w", err)
	}
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	s := &Service{cfg: cfg, nc: nc, js: js, log: log.With("host", cfg.Name), providers: map[string]agent.Provider{},
		pub: publisher{js: js, host: cfg.Name}, running: map[string]*running{}, kinds: map[string]string{}}
	for _, spec := range cfg.Providers {
		s.kinds[spec.Name] = spec.Kind
		p, err := spec.build(cfg.IdleTimeout)
		if err != nil {
			return nil, err
		}
		if p != nil {
			s.providers[spec.Name] = p
		}
	}
	return s, nil
}

// Ready is closed once the instance has folded the event stream as it was
// when it started (it then serves as the active instance or stands by).
func (s *Service) Ready() <-chan struct{} { return s.ready.Done() }

// Active reports whether this instance holds its name's lease and runs agents.
func (s *Service) Active() bool { return s.active.Load() }

// Status reports whether the instance is active and the turns it runs.
func (s *Service) Status() contract.HostStatus {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := contract.HostStatus{Host: s.cfg.Name, Active: s.active.Load(), Sessions: []contract.HostSession{}}
	for _, r := range s.running {
		if r.provider == External {
			continue // an outside adapter runs it
		}
		st.Sessions = append(st.Sessions, contract.HostSession{ProjectID: r.info.ProjectID, ThreadID: r.info.ThreadID, TurnID: r.info.TurnID, Provider: r.provider})
	}
	sort.Slice(st.Sessions, func(i, j int) bool { return st.Sessions[i].ThreadID < st.Sessions[j].ThreadID })
	return st
}

// loop is the state of Run's event loop, owned by its goroutine.
type loop struct {
	st         *state
	folded     uint64 // stream sequence of the last event folded
	readyAt    uint64 // the stream's last sequence when Run started
	activateAt uint64 // once folded reaches it, the lease holder activates
	pending    bool   // the lease is held, activation waits for the fold
	agentCtx   context.Context
	stopAgents context.CancelFunc
	pubCtx     context.Context
}

// Run folds the event stream and, while this instance holds the lease,
// plays the turns of its threads, until ctx is done. Then it stops its
// agents, publishes how their turns ended (bounded by StopGrace),
// releases the lease and returns.
func (s *Service) Run(ctx context.Context) error {
	var kv jetstream.KeyValue
	err := retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
		kv, err = s.js.KeyValue(ctx, provision.BucketHosts)
		return err
	})
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("bucket %s: %w (run `peon setup`)", provision.BucketHosts, err)
	}
	stream, err := s.js.Stream(ctx, contract.EventStream)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w (run `peon setup`)", contract.EventStream, err)
	}
	info, err := stream.Info(ctx)
	if ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return fmt.Errorf("stream %s: %w", contract.EventStream, err)
	}
	cons, err := stream.OrderedConsumer(ctx, jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverAllPolicy})
	if err != nil {
		return fmt.Errorf("follow %s: %w", contract.EventStream, err)
	}
	it, err := cons.Messages()
	if err != nil {
		return fmt.Errorf("follow %s: %w", contract.EventStream, err)
	}
	msgs := make(chan jetstream.Msg, 256)
	readerDone := make(chan struct{})
	var readerErr error // set before readerDone closes
	go func() {
		defer close(readerDone)
		for {
			m, err := it.Next()
			if err != nil {
				readerErr = err
				return
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	defer func() { it.Stop(); <-readerDone }()

	svc, err := micro.AddService(s.nc, micro.Config{
		Name: ServiceName, Version: contract.ServiceVersion, Description: "Peon host: runs coding agents",
		Metadata: map[string]string{"host": s.cfg.Name, "instance": s.cfg.Instance, "providers": strings.Join(providerNames(s.cfg.Providers), ","),
			"default_provider": s.cfg.DefaultProvider},
		StatsHandler: func(*micro.Endpoint) any { return s.Status() },
	})
	if err != nil {
		return err
	}
	defer func() { _ = svc.Stop() }()
	// The status endpoint answers per instance, so each one says whether it
	// is active and what it runs.
	if err := svc.AddEndpoint("status", micro.HandlerFunc(func(r micro.Request) {
		_ = r.RespondJSON(s.Status())
	}), micro.WithEndpointSubject(contract.HostStatusSubject(s.cfg.Name, nuid.Next()))); err != nil {
		return err
	}

	value, _ := json.Marshal(map[string]any{"host": s.cfg.Name, "instance": s.cfg.Instance, "providers": providerNames(s.cfg.Providers)})
	l := &lease{kv: kv, key: s.cfg.Name, value: value, ttl: s.cfg.LeaseTTL, log: s.log}
	leaseChanges := make(chan bool, 16)
	leaseCtx, stopLease := context.WithCancel(context.WithoutCancel(ctx))
	leaseDone := make(chan struct{})
	go func() {
		defer close(leaseDone)
		l.run(leaseCtx, func(held bool) {
			select {
			case leaseChanges <- held:
			case <-leaseCtx.Done(): // stopping: nobody reads any more
			}
		})
	}()

	pubCtx, stopPublishing := context.WithCancel(context.WithoutCancel(ctx))
	lp := &loop{st: newState(), readyAt: info.State.LastSeq, pubCtx: pubCtx}
	lp.agentCtx, lp.stopAgents = context.WithCancel(ctx)
	if lp.readyAt == 0 {
		s.ready.Signal()
	}
	s.log.Info("host following the event stream", "instance", s.cfg.Instance, "providers", providerNames(s.cfg.Providers),
		"default_provider", s.cfg.DefaultProvider, "events", lp.readyAt)

	var runErr error
serve:
	for {
		select {
		case <-ctx.Done():
			break serve
		case <-readerDone:
			// The ordered consumer recovers from what it can; this is
			// fatal (the connection is closed): stop, releasing the lease.
			if ctx.Err() == nil {
				runErr = fmt.Errorf("following %s stopped: %w", contract.EventStream, readerErr)
			}
			break serve
		case held := <-leaseChanges:
			s.leaseChanged(ctx, lp, stream, held)
		case m := <-msgs:
			s.handle(lp, m)
		}
	}

	// Stop: the agents end (each adapter reports a cancelled turn, which
	// is still published), then publishing stops, then the lease goes.
	s.active.Store(false)
	lp.stopAgents()
	if !waitTimeout(&s.turns, s.cfg.StopGrace) {
		s.log.Warn("agents still ending after the stop grace; their turns are ended by the next active instance")
	}
	stopPublishing()
	s.turns.Wait()
	stopLease()
	<-leaseDone
	return runErr
}

func waitTimeout(wg *sync.WaitGroup, d time.Duration) bool {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(d):
		return false
	}
}

// leaseChanged activates (once the fold has caught up with the stream as
// it is now) or deactivates the instance.
func (s *Service) leaseChanged(ctx context.Context, lp *loop, stream jetstream.Stream, held bool) {
	if !held {
		lp.pending = false
		if s.active.Swap(false) {
			s.log.Warn("host lease lost: stopping the agents; the active instance ends their turns")
			lp.stopAgents()
			lp.agentCtx, lp.stopAgents = context.WithCancel(ctx)
		}
		return
	}
	info, err := stream.Info(ctx)
	if err != nil {
		// Without the stream's position, activate after what has been
		// folded so far and whatever arrives next (the sweep then misses
		// nothing that is folded before it).
		s.log.Warn("stream info on taking the lease", "err", err)
		lp.activateAt = lp.folded
	} else {
		lp.activateAt = info.State.LastSeq
	}
	lp.pending = true
	s.maybeActivate(lp)
}

// maybeActivate turns a held lease into an active instance once the fold
// has reached the stream's position at the time the lease was taken: the
// turns the fold then shows running belong to an instance that is gone.
func (s *Service) maybeActivate(lp *loop) {
	if !lp.pending || lp.folded < lp.activateAt {
		return
	}
	lp.pending = false
	s.active.Store(true)
	s.log.Info("host active", "instance", s.cfg.Instance)
	var lost []*thread
	for _, t := range lp.st.threads {
		if t.activeTurn == "" {
			continue
		}
		if _, ok := lp.st.serves(s.cfg.Name, t); !ok || s.providerOf(t) == External {
			continue // not ours, or an outside adapter's to finish
		}
		s.mu.Lock()
		r := s.running[t.id]
		s.mu.Unlock()
		if r != nil && r.info.TurnID == t.activeTurn {
			continue // still ours: it publishes its own end
		}
		lost = append(lost, t)
	}
	if len(lost) == 0 {
		return
	}
	// Their agents may still run here (a host killed with SIGKILL runs no
	// cleanup): stop them, in one look at the process table, before the
	// turns are declared over.
	turns := make([]string, len(lost))
	for i, t := range lost {
		turns[i] = t.activeTurn
	}
	killed := agent.KillLeftovers(turns...)
	for _, t := range lost {
		s.log.Warn("ending a turn left running by a host instance that is gone", "thread", t.id, "turn", t.activeTurn)
		if err := s.pub.publish(lp.pubCtx, t.id, t.activeTurn, EventID(t.activeTurn, "lost"),
			domain.ProviderError{Message: LostTurnError, Retryable: true}); err != nil {
			s.log.Error("recording a lost turn", "thread", t.id, "turn", t.activeTurn, "err", err)
		}
	}
	if killed > 0 {
		s.log.Warn("killed what agents of lost turns left running", "processes", killed)
	}
}

// handle folds one event and, when active, acts on it.
func (s *Service) handle(lp *loop, m jetstream.Msg) {
	meta, err := m.Metadata()
	if err != nil {
		return
	}
	seq := meta.Sequence.Stream
	defer func() {
		lp.folded = seq
		if seq >= lp.readyAt {
			s.ready.Signal()
		}
		s.maybeActivate(lp)
	}()
	if typ := m.Headers().Get(contract.HeaderEventType); typ != "" && !folded[typ] {
		return
	}
	e, err := domain.DecodeEvent(m.Data(), domain.EncodingOf(m.Headers().Get(contract.HeaderContentType)))
	if err != nil {
		s.log.Warn("skipping an event this build cannot read", "seq", seq, "err", err)
		return
	}
	lp.st.apply(e)
	if !s.active.Load() {
		return
	}
	t := lp.st.threadOf(e)
	switch e := e.(type) {
	case domain.TurnStarted:
		if p, ok := lp.st.serves(s.cfg.Name, t); ok {
			s.startTurn(lp, t, p, e)
		}
	case domain.TurnInterrupted:
		if r := s.runningTurn(e.ThreadID, e.TurnID); r != nil {
			r.interrupt()
			r.turnEnded()
		}
	case domain.TurnCompleted, domain.TurnFailed:
		// The turn ended in the domain (its terminal event, or an error
		// recorded by someone else): the agent has nothing more to say.
		if te, ok := e.(domain.ThreadEvent); ok {
			s.mu.Lock()
			r := s.running[te.EventThreadID()]
			s.mu.Unlock()
			if r != nil && (t == nil || t.activeTurn != r.info.TurnID) {
				if !r.terminated() {
					r.interrupt()
				}
				r.turnEnded()
			}
		}
	case domain.ThreadDeleted:
		s.mu.Lock()
		r := s.running[e.ThreadID]
		s.mu.Unlock()
		if r != nil {
			r.interrupt()
			r.turnEnded()
		}
	case domain.ProjectDeleted:
		s.mu.Lock()
		for _, r := range s.running {
			if r.info.ProjectID == e.ProjectID {
				r.interrupt()
			}
		}
		s.mu.Unlock()
	case domain.PendingActionResolved:
		s.mu.Lock()
		r := s.running[e.ThreadID]
		s.mu.Unlock()
		if r != nil {
			r.respond(e)
		}
	}
}

func (s *Service) runningTurn(threadID, turnID string) *running {
	s.mu.Lock()
	defer s.mu.Unlock()
	if r := s.running[threadID]; r != nil && r.info.TurnID == turnID {
		return r
	}
	return nil
}

// providerOf is the provider that plays a thread's turns.
func (s *Service) providerOf(t *thread) string {
	if t.provider != "" {
		return t.provider
	}
	return s.cfg.DefaultProvider
}

// startTurn plays a turn with the thread's provider. Every turn, whoever
// plays it, goes through play, so the workspace hears of each one.
func (s *Service) startTurn(lp *loop, t *thread, p *project, e domain.TurnStarted) {
	name := s.providerOf(t)
	info := TurnInfo{ProjectID: t.projectID, ThreadID: t.id, TurnID: e.TurnID, Dir: p.path, First: t.turns == 1}
	r := &running{info: info, provider: name, pub: s.pub, pubCtx: lp.pubCtx, done: make(chan struct{}),
		endedInDomain: make(chan struct{}), background: &s.turns,
		onError: func(err error) { s.log.Warn("turn", "thread", t.id, "turn", e.TurnID, "err", err) }}
	s.mu.Lock()
	old := s.running[t.id]
	if old != nil {
		old.interrupt() // ended in the domain already: a new turn has started
	}
	s.running[t.id] = r
	s.mu.Unlock()
	mode := agent.ApprovalRequired
	if t.mode == domain.RuntimeFullAccess {
		mode = agent.FullAccess
	}
	req := agent.TurnRequest{ThreadID: t.id, TurnID: e.TurnID, Prompt: e.Text, Dir: p.path, Model: t.model, SessionID: t.sessionID, Mode: mode}
	agentCtx := lp.agentCtx
	s.turns.Add(1)
	go func() {
		defer s.turns.Done()
		defer func() {
			s.mu.Lock()
			if s.running[t.id] == r {
				delete(s.running, t.id)
			}
			s.mu.Unlock()
			close(r.done)
		}()
		if old != nil {
			// The previous turn's agent is still going away (an
			// interrupt's grace period): its AfterTurn comes first.
			select {
			case <-old.done:
			case <-agentCtx.Done():
			}
		}
		s.play(agentCtx, r, req)
	}()
}

// play runs one turn to its end, with the workspace told before and after:
// an agent of the host's, an outside adapter's turn (provider external:
// play waits for the turn to end in the domain), or an unknown provider
// (the turn fails at once).
func (s *Service) play(ctx context.Context, r *running, req agent.TurnRequest) {
	ws := s.cfg.Workspace
	if ws != nil {
		if err := ws.BeforeTurn(r.pubCtx, r.info); err != nil {
			s.log.Warn("workspace before the turn", "thread", r.info.ThreadID, "turn", r.info.TurnID, "err", err)
		}
	}
	after := func() {
		if ws != nil {
			if err := ws.AfterTurn(r.pubCtx, r.info); err != nil {
				s.log.Warn("workspace after the turn", "thread", r.info.ThreadID, "turn", r.info.TurnID, "err", err)
			}
		}
	}
	if r.provider == External {
		select {
		case <-r.endedInDomain:
			after()
		case <-ctx.Done():
			// Stopping: the turn goes on without this host.
		}
		return
	}
	defer after()
	prov, ok := s.providers[r.provider]
	if !ok {
		r.fail(fmt.Sprintf("host %s has no provider %q (it has: %s); configure the thread with one of those",
			s.cfg.Name, r.provider, strings.Join(providerNames(s.cfg.Providers), ", ")), false)
		return
	}
	if s.kinds[r.provider] != KindSimulator {
		// A program started in a missing directory fails as if the
		// program were missing; say what is wrong instead.
		if fi, err := os.Stat(req.Dir); err != nil || !fi.IsDir() {
			why := "not a directory"
			if err != nil {
				why = err.Error()
			}
			r.fail(fmt.Sprintf("the project's path %s is not a directory on host %s (%s); provider %s was not started",
				req.Dir, s.cfg.Name, why, r.provider), false)
			return
		}
	}
	turn, err := prov.Start(ctx, req, r.emit)
	if err != nil {
		r.fail(fmt.Sprintf("provider %s could not start: %v", r.provider, err), false)
		return
	}
	r.setTurn(turn)
	<-turn.Done()
	if !r.terminated() {
		if ctx.Err() != nil {
			r.fail("the host stopped the agent: "+context.Cause(ctx).Error(), true)
		} else {
			r.fail(fmt.Sprintf("provider %s ended without ending the turn", r.provider), true)
		}
	}
}
