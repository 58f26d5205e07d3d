package simulator

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"golang.org/x/sync/errgroup"
)

// Config is a simulation: how many threads, how many turns, what script.
type Config struct {
	Threads int
	// Turns per thread; 0 runs until ctx is done.
	Turns  int
	Script Script
	// ProjectPath is the project the threads live in (created if needed).
	ProjectPath string
	// ApproveAfter is how long the simulated user takes to approve.
	ApproveAfter time.Duration
	// Progress, if set, is called after every finished turn, from the
	// threads' goroutines (concurrently).
	Progress func(thread string, turns int)
}

// Run creates a project and cfg.Threads threads, serves them as the agent
// and drives them as the user, until the turns are played or ctx is done.
func Run(ctx context.Context, nc *nats.Conn, cfg Config) error {
	if cfg.Threads <= 0 {
		cfg.Threads = 1
	}
	if cfg.ProjectPath == "" {
		cfg.ProjectPath = fmt.Sprintf("/sim/%d", time.Now().UnixNano())
	}
	c := client.New(nc, domain.MessagePack)
	p, err := c.Send(ctx, domain.CreateProject{Name: "simulation", Path: cfg.ProjectPath})
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	agent, err := NewAgent(nc, cfg.Script, domain.MessagePack)
	if err != nil {
		return err
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	defer stopServing()
	g, gctx := errgroup.WithContext(ctx)
	for i := range cfg.Threads {
		th, err := c.Send(ctx, domain.CreateThread{ProjectID: p.ProjectID, Title: fmt.Sprintf("simulated thread %d", i), Model: "sim-1"})
		if err != nil {
			return fmt.Errorf("create thread: %w", err)
		}
		// The agent must be listening before the user starts a turn: it
		// learns of turns from live events only.
		stop, err := agent.Follow(serveCtx, th.ThreadID)
		if err != nil {
			return fmt.Errorf("follow thread: %w", err)
		}
		defer func() { _ = stop() }()
		g.Go(func() error { return drive(gctx, nc, c, th.ThreadID, cfg) })
	}
	return g.Wait()
}

// drive plays the user of one thread: start a turn, approve what is asked,
// wait for the end, record a checkpoint, again.
func drive(ctx context.Context, nc *nats.Conn, c *client.Client, threadID string, cfg Config) error {
	ended := make(chan domain.Event, 16)
	sub, err := nc.Subscribe(contract.ThreadFilter(threadID), func(m *nats.Msg) {
		e, err := domain.DecodeEvent(m.Data, domain.EncodingOf(m.Header.Get(contract.HeaderContentType)))
		if err != nil {
			return
		}
		switch ev := e.(type) {
		case domain.TurnCompleted, domain.TurnFailed, domain.TurnInterrupted:
			ended <- e
		case domain.PendingActionRequested:
			go func() {
				time.Sleep(cfg.ApproveAfter)
				approve(ctx, c, domain.ApprovePendingAction{ThreadID: threadID, RequestID: ev.RequestID})
			}()
		}
	})
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
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
