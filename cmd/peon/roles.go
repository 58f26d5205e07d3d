package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// roleFlags are the tuning flags of the services.
type roleFlags struct {
	cacheEntries     int
	cacheMB          int64
	maxBodyKB        int
	concurrency      int
	workers          int
	projectorVersion int
}

func addRoleFlags(fs *flag.FlagSet) *roleFlags {
	r := &roleFlags{}
	fs.IntVar(&r.cacheEntries, "cache-entries", 10_000, "aggregates (decider) or threads (projector) kept in memory")
	fs.Int64Var(&r.cacheMB, "cache-mb", 256, "memory budget of that cache, MiB")
	fs.IntVar(&r.maxBodyKB, "max-body-kb", 256, "largest command body accepted, KiB")
	fs.IntVar(&r.concurrency, "concurrency", 128, "commands one decider works on at once")
	fs.IntVar(&r.workers, "workers", 64, "threads one provider-ingest instance handles in parallel")
	fs.IntVar(&r.projectorVersion, "read-model-version", 0, "read model version the projector writes and queries read (0: follow the live one)")
	return r
}

func (r *roleFlags) validate() error {
	if r.cacheEntries < 1 || r.cacheMB < 1 || r.maxBodyKB < 1 || r.concurrency < 1 || r.workers < 1 || r.projectorVersion < 0 {
		return usagef("cache, body, concurrency and workers flags must be positive, the version not negative")
	}
	return nil
}

// service is any role's blocking loop.
type service interface{ Run(context.Context) error }

// newService builds the service of a role over nc.
func newService(role string, nc *nats.Conn, c *connFlags, r *roleFlags, log *slog.Logger) (service, error) {
	switch role {
	case "decider":
		return decider.New(nc, decider.Config{Instance: c.instance, CacheEntries: r.cacheEntries, CacheBytes: r.cacheMB << 20,
			MaxBodyBytes: r.maxBodyKB << 10, Concurrency: r.concurrency}, log)
	case "projector":
		return projector.New(nc, projector.Config{Instance: c.instance, Version: r.projectorVersion,
			CacheEntries: r.cacheEntries, CacheBytes: r.cacheMB << 20}, log)
	case "query":
		return query.New(nc, query.Config{Instance: c.instance, Version: r.projectorVersion}, log)
	case "provider-ingest":
		return ingest.New(nc, ingest.Config{Instance: c.instance, Workers: r.workers}, log)
	}
	return nil, usagef("unknown role %q", role)
}

// runRole runs one service against a NATS server until interrupted.
func runRole(ctx context.Context, env *environment, role string, args []string) error {
	fs := newFlags(role)
	c := env.addConnFlags(fs)
	r := addRoleFlags(fs)
	if err := parse(fs, args, env.stderr); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if err := r.validate(); err != nil {
		return err
	}
	log := c.logger(env.stderr).With("role", role)
	nc, err := c.connect(role)
	if err != nil {
		return err
	}
	defer drain(nc)
	svc, err := newService(role, nc, c, r, log)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}

// drain flushes and closes a connection, bounded.
func drain(nc *nats.Conn) {
	done := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(done) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		nc.Close()
	}
}

// runSetup provisions streams, buckets and consumers.
func runSetup(ctx context.Context, env *environment, args []string) error {
	fs := newFlags("setup")
	c := env.addConnFlags(fs)
	replicas := fs.Int("replicas", 1, "replicas of every stream and bucket (3 on a cluster)")
	partitions := fs.Int("transcript-partitions", 1, "split the transcript projection this many ways, so as many projector instances share it")
	if err := parse(fs, args, env.stderr); err != nil {
		return err
	}
	var problems []string
	if err := c.validate(); err != nil {
		problems = append(problems, err.Error())
	}
	if *replicas != 1 && *replicas != 3 && *replicas != 5 {
		problems = append(problems, "--replicas must be 1, 3 or 5")
	}
	if *partitions < 1 || *partitions > readmodel.MaxTranscriptPartitions {
		problems = append(problems, fmt.Sprintf("--transcript-partitions must be within 1..%d", readmodel.MaxTranscriptPartitions))
	}
	if len(problems) > 0 {
		return usagef("%s", strings.Join(problems, "; "))
	}
	nc, js, err := c.connectJS("setup")
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := provision.Run(ctx, js, provision.Options{Replicas: *replicas, TranscriptPartitions: *partitions}); err != nil {
		return err
	}
	fmt.Fprintf(env.stdout, "streams, buckets and consumers are in place (replicas %d, transcript partitions %d)\n", *replicas, *partitions)
	return nil
}
