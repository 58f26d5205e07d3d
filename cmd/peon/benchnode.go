package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// benchNodeCmd is one nats-server of `peon bench --cluster`, run from a
// nats-server configuration file in a process of its own. It is the
// server module this binary embeds (the version `peon version` names), so
// the cluster needs nothing installed. It serves until interrupted.
type benchNodeCmd struct {
	Config string `required:"" placeholder:"FILE" help:"nats-server configuration file"`
}

func (c *benchNodeCmd) Run(ctx context.Context, env *environment) error {
	opts, err := server.ProcessConfigFile(c.Config)
	if err != nil {
		return usagef("--config %s: %v", c.Config, err)
	}
	opts.NoSigs = true // the context below is how a signal stops it
	srv, err := server.NewServer(opts)
	if err != nil {
		return fmt.Errorf("nats-server: %w", err)
	}
	srv.ConfigureLogger()
	srv.Start()
	defer func() { srv.Shutdown(); srv.WaitForShutdown() }()
	if !srv.ReadyForConnections(30 * time.Second) {
		return errors.New("nats-server: not ready for connections after 30s")
	}
	<-ctx.Done()
	return nil
}
