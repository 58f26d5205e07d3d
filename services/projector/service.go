package projector

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/pkg/contract"
	"golang.org/x/sync/errgroup"
)

// ConsumerConfig is the durable consumer of a projection, created by the
// admin step.
func ConsumerConfig(p Projection, version int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        p.ConsumerName(version),
		Description:    "Peon " + p.Name + " projection",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  20_000,
		FilterSubject:  contract.EventSubjects,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PriorityGroup},
		// How long a silent instance keeps the projection before another
		// takes over.
		PinnedTTL: 10 * time.Second,
	}
}

// EnsureConsumers creates the projections' durable consumers (admin step; idempotent).
func EnsureConsumers(ctx context.Context, js jetstream.JetStream, version int, ps ...Projection) error {
	for _, p := range ps {
		if _, err := js.CreateOrUpdateConsumer(ctx, contract.EventStream, ConsumerConfig(p, version)); err != nil {
			return fmt.Errorf("ensure consumer %s: %w", p.ConsumerName(version), err)
		}
	}
	return nil
}

// Service runs the projections in this instance.
type Service struct {
	mu          sync.Mutex
	runners     []*runner // of the version running now
	cfg         Config
	follow      bool
	js          jetstream.JetStream
	log         *slog.Logger
	projections []Projection
}

// New returns a projector running the given projections (All if none).
func New(nc *nats.Conn, cfg Config, log *slog.Logger, projections ...Projection) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("projector config: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	if len(projections) == 0 {
		projections = All
	}
	return &Service{cfg: cfg.withDefaults(), follow: cfg.Version == 0, js: js, log: log, projections: projections}, nil
}

// Stats is what an instance reports about itself (nats micro stats peon-projector).
type Stats struct {
	Runners []RunnerStats `json:"projections"`
}

// RunnerStats is one projection's progress in this instance.
type RunnerStats struct {
	Projection    string `json:"projection"`
	LastFolded    int64  `json:"last_folded"`
	Parked        int64  `json:"parked"`
	Loads         int64  `json:"thread_loads"`
	CachedThreads int    `json:"cached_threads"`
	CachedBytes   int64  `json:"cached_bytes"`
}

// Stats returns the instance's counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out Stats
	for _, r := range s.runners {
		n, b := r.threads.Len()
		out.Runners = append(out.Runners, RunnerStats{Projection: r.p.Key(r.cfg.Version), LastFolded: r.lastFolded.Load(),
			Parked: r.parked.Load(), Loads: r.loads.Load(), CachedThreads: n, CachedBytes: b})
	}
	return out
}

// Run folds until ctx is done. With Config.Version 0 the instance follows
// the live version: when a rebuild switches it, the instance moves to the
// new version's consumers. The instance registers as micro service
// peon-projector (no endpoints: discovery and stats).
func (s *Service) Run(ctx context.Context) error {
	svc, err := micro.AddService(s.js.Conn(), micro.Config{Name: "peon-projector", Version: contract.ServiceVersion,
		Description: "Peon projector (stats only)", Metadata: map[string]string{"instance": s.cfg.Instance},
		StatsHandler: func(*micro.Endpoint) any { return s.Stats() }})
	if err != nil {
		return fmt.Errorf("register peon-projector: %w", err)
	}
	defer func() { _ = svc.Stop() }()
	if s.follow {
		return s.runFollowing(ctx)
	}
	return s.runVersion(ctx, s.cfg.Version)
}

func (s *Service) runFollowing(ctx context.Context) error {
	for {
		v, err := CurrentVersion(ctx, s.js)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		vctx, switchVersion := context.WithCancel(ctx)
		go func() {
			_ = WatchVersion(vctx, s.js, func(nv int) {
				if nv != v {
					s.log.Info("read model version switched", "from", v, "to", nv)
					switchVersion()
				}
			})
		}()
		err = s.runVersion(vctx, v)
		switchVersion()
		if ctx.Err() != nil || err != nil {
			return err
		}
	}
}

func (s *Service) runVersion(ctx context.Context, version int) error {
	cfg := s.cfg
	cfg.Version = version
	b := BucketsV(version)
	s.mu.Lock()
	s.runners = nil
	s.mu.Unlock()
	kv, err := openBuckets(ctx, s.js, append(b.all(), contract.BucketMeta)...)
	if ctx.Err() != nil {
		return nil // stopped while starting
	}
	if err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	for _, p := range s.projections {
		cons, err := s.js.Consumer(ctx, contract.EventStream, p.ConsumerName(version))
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("consumer %s: %w (run `peon setup`)", p.ConsumerName(version), err)
		}
		r := newRunner(p, cfg, s.js, kv, s.log.With("instance", s.cfg.Instance))
		s.mu.Lock()
		s.runners = append(s.runners, r)
		s.mu.Unlock()
		g.Go(func() error { return r.run(ctx, cons) })
	}
	s.log.Info("projector running", "instance", s.cfg.Instance, "version", version)
	return g.Wait()
}
