package main

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/embednats"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/simulator"
	"golang.org/x/sync/errgroup"
)

// runDev runs everything in one process on an embedded NATS server.
func runDev(ctx context.Context, env *environment, args []string) error {
	fs := newFlags("dev")
	c := env.addConnFlags(fs)
	r := addRoleFlags(fs)
	listen := fs.String("listen", "127.0.0.1:4222", "address of the embedded NATS server's client listener")
	cache, _ := os.UserCacheDir()
	dataDir := fs.String("data-dir", filepath.Join(cache, "peon", "dev"), "where JetStream keeps its files")
	demo := fs.Bool("demo", false, "also run simulated agents, so threads stream")
	demoThreads := fs.Int("demo-threads", 3, "threads the demo plays")
	syncAlways := fs.Bool("sync-always", false, "fsync every write before acknowledging it (as production does)")
	maxMemMB := fs.Int64("max-memory-mb", 256, "JetStream memory storage limit, MiB")
	maxStoreMB := fs.Int64("max-store-mb", 4096, "JetStream file storage limit, MiB")
	if err := parse(fs, args, env.stderr); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if err := r.validate(); err != nil {
		return err
	}
	host, portText, err := net.SplitHostPort(*listen)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil || port < -1 || port > 65535 {
		return usagef("--listen %q is not host:port", *listen)
	}
	if *demoThreads < 1 || *maxMemMB < 1 || *maxStoreMB < 1 {
		return usagef("--demo-threads, --max-memory-mb and --max-store-mb must be positive")
	}
	if err := os.MkdirAll(*dataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	log := c.logger(env.stderr)
	srv, err := embednats.Start(embednats.Config{Host: host, Port: port, StoreDir: *dataDir, Name: "peon-dev",
		SyncAlways: *syncAlways, MaxMemory: *maxMemMB << 20, MaxStore: *maxStoreMB << 20})
	if err != nil {
		return unavailableError{err}
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
		log.Info("embedded NATS server stopped; data kept", "data_dir", *dataDir)
	}()
	c.url = srv.ClientURL()

	admin, js, err := c.connectJS("setup")
	if err != nil {
		return err
	}
	// One process hands over to nobody: a short ack wait keeps the wait
	// for a previous run's unacked provider events (see provision.IngestTiming) short.
	err = provision.Run(ctx, js, provision.Options{IngestTiming: provision.IngestTiming{AckWait: time.Second, PinnedTTL: 1500 * time.Millisecond}})
	admin.Close()
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	var conns []*nats.Conn
	defer func() {
		for _, nc := range conns {
			drain(nc)
		}
	}()
	for _, role := range []string{"decider", "projector", "query", "provider-ingest"} {
		nc, err := c.connect(role)
		if err != nil {
			return err
		}
		conns = append(conns, nc)
		svc, err := newService(role, nc, c, r, log.With("role", role))
		if err != nil {
			return err
		}
		g.Go(func() error { return svc.Run(gctx) })
	}
	if *demo {
		nc, err := c.connect("simulate")
		if err != nil {
			return err
		}
		conns = append(conns, nc)
		g.Go(func() error {
			time.Sleep(300 * time.Millisecond) // let the services register
			err := simulator.Run(gctx, nc, simulator.Config{Threads: *demoThreads,
				Script:       simulator.Script{Deltas: 60, Rate: 15, ApprovalEvery: 3, ErrorEvery: 7},
				ApproveAfter: 2 * time.Second, ProjectPath: fmt.Sprintf("/demo/%d", time.Now().Unix())})
			if gctx.Err() != nil {
				return nil
			}
			return err
		})
	}
	fmt.Fprintf(env.stderr, `
  Peon is running on an embedded NATS server at %s (data in %s).
  Try, in another terminal:
    go run ./cmd/peon cmd project.create name=demo path=/tmp/demo
    go run ./cmd/peon projects list
    go run ./cmd/peon events tail
  Ctrl-C stops it; run it again to resume with the same state.

`, srv.ClientURL(), *dataDir)
	return g.Wait()
}
