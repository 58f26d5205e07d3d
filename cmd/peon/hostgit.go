package main

import (
	"context"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/services/gitwork"
	"github.com/peonhq/peon/services/host"
	"golang.org/x/sync/errgroup"
)

// The host role is two services over one connection: services/host runs
// the agents, services/gitwork the git work (checkpoints around each turn,
// and the git operations users ask for). They meet here: the checkpointer
// is the host's workspace hook, and neither service imports the other.

// hostRole runs a host's agents and its git executor together.
type hostRole struct {
	agents *host.Service
	git    *gitwork.Executor
	ready  chan struct{}
}

// newHostRole builds both halves of a host over nc: the agents with
// automatic checkpoints, the executor for the same host name.
func newHostRole(ctx context.Context, nc *nats.Conn, cfg host.Config, git gitwork.Config, log *slog.Logger) (*hostRole, error) {
	cp, err := gitwork.NewCheckpointer(ctx, nc)
	if err != nil {
		return nil, err
	}
	cfg.Workspace = cp
	agents, err := host.New(nc, cfg, log)
	if err != nil {
		return nil, err
	}
	git.Host = cfg.Name
	exec, err := gitwork.New(nc, git, log.With("part", "git"))
	if err != nil {
		return nil, err
	}
	return &hostRole{agents: agents, git: exec, ready: make(chan struct{})}, nil
}

// Ready is closed once both halves are ready.
func (h *hostRole) Ready() <-chan struct{} { return h.ready }

// Run runs both until ctx ends or either fails.
func (h *hostRole) Run(ctx context.Context) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { return h.agents.Run(gctx) })
	g.Go(func() error { return h.git.Run(gctx) })
	g.Go(func() error {
		for _, r := range []<-chan struct{}{h.agents.Ready(), h.git.Ready()} {
			select {
			case <-r:
			case <-gctx.Done():
				return nil
			}
		}
		close(h.ready)
		return nil
	})
	return g.Wait()
}
