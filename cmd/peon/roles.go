package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// Each role's tuning flags, built from its configuration: a role gets its
// own flags and no other's.

// deciderFlags tune a decider.
type deciderFlags struct {
	CacheEntries int   `default:"${decider_cache_entries}" group:"Decider" help:"aggregates (threads) kept in memory"`
	CacheMB      int64 `name:"cache-mb" default:"${decider_cache_mb}" group:"Decider" help:"memory budget of that cache, MiB"`
	MaxBodyKB    int   `name:"max-body-kb" default:"${decider_max_body_kb}" group:"Decider" help:"largest command body, KiB; larger is payload_too_large"`
	Concurrency  int   `default:"${decider_concurrency}" group:"Decider" help:"commands one instance works on at once"`
}

func (f deciderFlags) config(instance string) decider.Config {
	c := deciderDefaults()
	c.Instance, c.CacheEntries, c.CacheBytes, c.MaxBodyBytes, c.Concurrency = instance, f.CacheEntries, f.CacheMB<<20, f.MaxBodyKB<<10, f.Concurrency
	return c
}

// check lists the problems the flags have beyond what the service checks
// (its zero values mean defaults, a flag's must not).
func (f deciderFlags) check() []error {
	var errs []error
	for _, v := range []struct {
		flag  string
		value int64
	}{{"--cache-entries", int64(f.CacheEntries)}, {"--cache-mb", f.CacheMB}, {"--max-body-kb", int64(f.MaxBodyKB)}, {"--concurrency", int64(f.Concurrency)}} {
		if v.value < 1 {
			errs = append(errs, fmt.Errorf("%s %d must be at least 1", v.flag, v.value))
		}
	}
	return append(errs, f.config("").Validate())
}

// projectorFlags tune a projector.
type projectorFlags struct {
	CacheEntries     int   `default:"${projector_cache_entries}" group:"Projector" help:"threads and projects kept in memory"`
	CacheMB          int64 `name:"cache-mb" default:"${projector_cache_mb}" group:"Projector" help:"memory budget of that cache, MiB"`
	ReadModelVersion int   `default:"${projector_version}" group:"Projector" help:"read model version written; 0 follows the live one"`
}

func (f projectorFlags) config(instance string) projector.Config {
	c := projectorDefaults()
	c.Instance, c.CacheEntries, c.CacheBytes, c.Version = instance, f.CacheEntries, f.CacheMB<<20, f.ReadModelVersion
	return c
}

func (f projectorFlags) check() []error {
	var errs []error
	if f.CacheEntries < 1 {
		errs = append(errs, fmt.Errorf("--cache-entries %d must be at least 1", f.CacheEntries))
	}
	if f.CacheMB < 1 {
		errs = append(errs, fmt.Errorf("--cache-mb %d must be at least 1", f.CacheMB))
	}
	return append(errs, f.config("").Validate())
}

// queryFlags tune a query instance.
type queryFlags struct {
	ReadModelVersion int `default:"${query_version}" group:"Query" help:"read model version read; 0 follows the live one"`
}

func (f queryFlags) config(instance string) query.Config {
	c := queryDefaults()
	c.Instance, c.Version = instance, f.ReadModelVersion
	return c
}

func (f queryFlags) check() []error {
	if f.ReadModelVersion < 0 {
		return []error{fmt.Errorf("--read-model-version %d is negative", f.ReadModelVersion)}
	}
	return nil
}

// ingestFlags tune provider-ingest.
type ingestFlags struct {
	Workers int `default:"${ingest_workers}" group:"Provider-ingest" help:"threads one instance ingests in parallel"`
}

func (f ingestFlags) config(instance string) ingest.Config {
	c := ingest.DefaultConfig()
	c.Instance, c.Workers = instance, f.Workers
	return c
}

func (f ingestFlags) check() []error {
	if f.Workers < 1 { // 0 would mean the default to the service
		return []error{fmt.Errorf("--workers %d must be at least 1", f.Workers)}
	}
	return []error{f.config("").Validate()}
}

// service is any role's blocking loop. Readiness, for the roles that have
// Ready, is asked for with lifecycle.Service (see waitServing).
type service interface{ Run(context.Context) error }

// roleCmd is what every service role shares: where NATS is, how to log,
// which instance this is.
type roleCmd struct {
	NATS natsFlags    `embed:""`
	Log  logFlags     `embed:""`
	Inst instanceFlag `embed:""`
}

// serve runs one service over its own connection until ctx ends.
func (r *roleCmd) serve(ctx context.Context, env *environment, role string, flagProblems []error, build func(*nats.Conn, *slog.Logger) (service, error)) error {
	if err := problems(append(append(r.NATS.check(), r.Log.check()...), flagProblems...)...); err != nil {
		return err
	}
	log := r.Log.logger(env).With("role", role)
	nc, err := r.NATS.connect(role, r.Inst.Instance)
	if err != nil {
		return err
	}
	defer drain(nc)
	svc, err := build(nc, log)
	if err != nil {
		return err
	}
	return svc.Run(ctx)
}

type deciderCmd struct {
	Role    roleCmd      `embed:""`
	Decider deciderFlags `embed:""`
}

func (c *deciderCmd) Run(ctx context.Context, env *environment) error {
	return c.Role.serve(ctx, env, "decider", c.Decider.check(), func(nc *nats.Conn, log *slog.Logger) (service, error) {
		return decider.New(nc, c.Decider.config(c.Role.Inst.Instance), log)
	})
}

type projectorRunCmd struct {
	Role      roleCmd        `embed:""`
	Projector projectorFlags `embed:""`
}

func (c *projectorRunCmd) Run(ctx context.Context, env *environment) error {
	return c.Role.serve(ctx, env, "projector", c.Projector.check(), func(nc *nats.Conn, log *slog.Logger) (service, error) {
		return projector.New(nc, c.Projector.config(c.Role.Inst.Instance), log)
	})
}

type queryCmd struct {
	Role  roleCmd    `embed:""`
	Query queryFlags `embed:""`
}

func (c *queryCmd) Run(ctx context.Context, env *environment) error {
	return c.Role.serve(ctx, env, "query", c.Query.check(), func(nc *nats.Conn, log *slog.Logger) (service, error) {
		return query.New(nc, c.Query.config(c.Role.Inst.Instance), log)
	})
}

type ingestCmd struct {
	Role   roleCmd     `embed:""`
	Ingest ingestFlags `embed:""`
}

func (c *ingestCmd) Run(ctx context.Context, env *environment) error {
	return c.Role.serve(ctx, env, "provider-ingest", c.Ingest.check(), func(nc *nats.Conn, log *slog.Logger) (service, error) {
		return ingest.New(nc, c.Ingest.config(c.Role.Inst.Instance), log)
	})
}

// readyOf returns a service's readiness signal, if it has one.
func readyOf(s service) (<-chan struct{}, bool) {
	if l, ok := s.(lifecycle.Service); ok {
		return l.Ready(), true
	}
	return nil, false
}
