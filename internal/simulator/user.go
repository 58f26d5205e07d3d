package simulator

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"golang.org/x/sync/errgroup"
)

// Simulation plays a simulated agent and its user on a few threads. It has
// the lifecycle every Peon service has: New validates, Run blocks, Ready
// says when it plays.
type Simulation struct {
	nc    *nats.Conn
	cfg   Config
	ready lifecycle.Ready
}

// New returns a simulation over nc; it validates cfg and connects nothing.
func New(nc *nats.Conn, cfg Config) (*Simulation, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	if cfg.ProjectPath == "" {
		cfg.ProjectPath = fmt.Sprintf("/sim/%d", time.Now().UnixNano())
	}
	return &Simulation{nc: nc, cfg: cfg}, nil
}

// Ready is closed once the threads exist and the agent follows them.
func (s *Simulation) Ready() <-chan struct{} { return s.ready.Done() }

// Run creates a project and cfg.Threads threads, serves them as the agent
// and drives them as the user, until the turns are played or ctx is done.
// It returns once every goroutine it started has: the users under one
// errgroup, the agent's turns waited for by the agent.
func (s *Simulation) Run(ctx context.Context) error {
	cfg := s.cfg
	c := client.New(s.nc, domain.MessagePack)
	p, err := c.Send(ctx, domain.CreateProject{Name: "simulation", Path: cfg.ProjectPath, Host: Host})
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("create project: %w", err)
	}
	agent, err := NewAgent(s.nc, cfg.Script, domain.MessagePack)
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	defer func() {
		stopServing()
		agent.Wait()
	}()
	var threads []string
	for i := range cfg.Threads {
		th, err := c.Send(ctx, domain.CreateThread{ProjectID: p.ProjectID, Title: fmt.Sprintf("simulated thread %d", i), Model: "sim-1"})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("create thread: %w", err)
		}
		// The agent must be listening before the user starts a turn: it
		// learns of turns from live events only.
		stop, err := agent.Follow(serveCtx, th.ThreadID)
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("follow thread: %w", err)
		}
		defer func() { _ = stop() }()
		threads = append(threads, th.ThreadID)
	}
	s.ready.Signal()
	g, gctx := errgroup.WithContext(ctx)
	for _, thread := range threads {
		g.Go(func() error { return drive(gctx, s.nc, c, thread, cfg) })
	}
	return g.Wait()
}

// drive plays the user of one thread: start a turn, approve what is asked,
// wait for the end, record a checkpoint, again.
func drive(ctx context.Context, nc *nats.Conn, c *client.Client, threadID string, cfg Config) error {
	ended := make(chan domain.Event, 16)
	var approvals sync.WaitGroup // the user's pending approvals, waited for on return
	sub, err := nc.Subscribe(contract.ThreadFilter(threadID), func(m *nats.Msg) {
		e, err := domain.DecodeEvent(m.Data, domain.EncodingOf(m.Header.Get(contract.HeaderContentType)))
		if err != nil {
			return
		}
		switch ev := e.(type) {
		case domain.TurnCompleted, domain.TurnFailed, domain.TurnInterrupted:
			ended <- e
		case domain.PendingActionRequested:
			approvals.Go(func() {
				select {
				case <-time.After(cfg.ApproveAfter):
					approve(ctx, c, domain.ApprovePendingAction{ThreadID: threadID, RequestID: ev.RequestID})
				case <-ctx.Done():
				}
			})
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	defer approvals.Wait() // after the unsubscribe: no new approval starts
	for turn := 1; cfg.Turns == 0 || turn <= cfg.Turns; turn++ {
		r, err := c.Send(ctx, domain.StartTurn{ThreadID: threadID, Text: fmt.Sprintf("Simulated prompt %d: fix the failing test.", turn)})
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("start turn: %w", err)
		}
		select {
		case <-ended:
		case <-ctx.Done():
			return nil
		}
		_, _ = c.Send(ctx, domain.CreateCheckpoint{ThreadID: threadID, TurnID: r.TurnID,
			Ref: "refs/peon/sim/" + r.TurnID, Files: []domain.FileChange{
				{Path: "handler.go", Kind: domain.FileModified, Additions: 3, Deletions: 1},
				{Path: "handler_test.go", Kind: domain.FileModified, Additions: 12}}})
		if cfg.Progress != nil {
			cfg.Progress(threadID, turn)
		}
	}
	return nil
}

// approve sends cmd, retrying while the failure is transient: an approval
// that is lost leaves the turn waiting for ever.
func approve(ctx context.Context, c *client.Client, cmd domain.ApprovePendingAction) {
	for ctx.Err() == nil {
		_, err := c.Send(ctx, cmd)
		var rejected *client.Error
		if err == nil || (errors.As(err, &rejected) && !rejected.Transient()) {
			return
		}
		select {
		case <-time.After(100 * time.Millisecond):
		case <-ctx.Done():
		}
	}
}
