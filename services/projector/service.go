package projector

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/internal/statsendpoint"
	"github.com/peonhq/peon/pkg/contract"
)

// Service runs the projections in this instance.
type Service struct {
	mu          sync.Mutex
	runners     []*runner // of the version running now
	cfg         Config
	follow      bool
	js          jetstream.JetStream
	log         *slog.Logger
	projections []readmodel.Projection
	ready       lifecycle.Ready
	// kvRequests counts the requests made to the read-model buckets (the
	// runners' event stores count their own reads).
	kvRequests atomic.Int64
	// storeRequests keeps the reads of runners no longer running.
	storeRequests atomic.Int64
}

// Ready is closed once the instance runs its projections (its share, or
// all of those it was given).
func (s *Service) Ready() <-chan struct{} { return s.ready.Done() }

// New returns a projector running the given projections, or, when none
// are given, its share of the layout the admin step created.
func New(nc *nats.Conn, cfg Config, log *slog.Logger, projections ...readmodel.Projection) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("projector config: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg.withDefaults(), follow: cfg.Version == 0, js: js, log: log, projections: projections}, nil
}

// Stats is what an instance reports about itself (nats micro stats peon-projector).
type Stats struct {
	Runners []RunnerStats `json:"projections"`
	// JetStreamRequests counts the requests this instance made to
	// JetStream while folding, each a round trip: bucket reads and writes
	// (records, progress, parked events) and event reads (thread and
	// project loads). Acks and the consumers' pulls are not among them.
	JetStreamRequests int64 `json:"jetstream_requests"`
}

// RunnerStats is one projection's progress in this instance.
type RunnerStats struct {
	Projection    string `json:"projection"`
	LastFolded    int64  `json:"last_folded"`
	Parked        int64  `json:"parked"`
	Loads         int64  `json:"thread_loads"`
	CachedThreads int    `json:"cached_threads"`
	CachedBytes   int64  `json:"cached_bytes"`
	Failures      int64  `json:"failures"`
}

// Stats returns the instance's counters.
func (s *Service) Stats() Stats {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := Stats{JetStreamRequests: s.kvRequests.Load() + s.storeRequests.Load()}
	for _, r := range s.runners {
		out.JetStreamRequests += r.store.Requests()
		n, b := r.threads.Len()
		out.Runners = append(out.Runners, RunnerStats{Projection: r.p.Key(r.cfg.Version), LastFolded: r.lastFolded.Load(),
			Parked: r.parked.Load(), Loads: r.loads.Load(), CachedThreads: n, CachedBytes: b, Failures: r.failures.Load()})
	}
	return out
}

// Run folds until ctx is done. With Config.Version 0 the instance follows
// the live version: when a rebuild switches it, the instance moves to the
// new version's consumers. The instance registers as micro service
// peon-projector (no endpoints: discovery, stats, and how instances find
// each other to share the projections; see assign.go).
func (s *Service) Run(ctx context.Context) error {
	if s.follow {
		return s.runFollowing(ctx)
	}
	return s.runVersion(ctx, s.cfg.Version)
}

func (s *Service) runFollowing(ctx context.Context) error {
	for {
		v, err := readmodel.CurrentVersion(ctx, s.js)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return err
		}
		vctx, switchVersion := context.WithCancel(ctx)
		watched := make(chan struct{})
		go func() {
			defer close(watched)
			_ = readmodel.WatchVersion(vctx, s.js, func(nv int) {
				if nv != v {
					s.log.Info("read model version switched", "from", v, "to", nv)
					switchVersion()
				}
			})
		}()
		err = s.runVersion(vctx, v)
		switchVersion()
		<-watched // nothing outlives Run
		if ctx.Err() != nil || err != nil {
			return err
		}
	}
}

// runVersion folds into read model version until ctx is done. An
// instance created without an explicit list of projections runs its share
// of the version's layout, as found from the consumers, and follows the
// membership; one given a list (a rebuild) runs all of it.
func (s *Service) runVersion(ctx context.Context, version int) error {
	cfg := s.cfg
	cfg.Version = version
	s.setRunners(nil)
	kv, err := readmodel.OpenBuckets(ctx, s.js, append(readmodel.BucketsV(version).All(), contract.BucketMeta)...)
	kv = counted(kv, &s.kvRequests)
	if ctx.Err() != nil {
		return nil // stopped while starting
	}
	if err != nil {
		return err
	}
	layout, assigning := s.projections, s.projections == nil
	if assigning {
		if layout, err = readmodel.DiscoverLayout(ctx, s.js, version); err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
	}
	consumers := map[string]jetstream.Consumer{}
	for _, p := range layout {
		var cons jetstream.Consumer
		err := retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
			cons, err = s.js.Consumer(ctx, p.Stream(version), p.ConsumerName(version))
			return err
		})
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("consumer %s: %w (run `peon setup`)", p.ConsumerName(version), err)
		}
		consumers[p.Name] = cons
	}
	metadata := map[string]string{"instance": s.cfg.Instance}
	if assigning {
		metadata[metaAssigning] = strconv.Itoa(version)
	}
	svc, err := micro.AddService(s.js.Conn(), micro.Config{Name: serviceName, Version: contract.ServiceVersion,
		Description: "Peon projector (stats only)", Metadata: metadata,
		StatsHandler: func(*micro.Endpoint) any { return s.Stats() }})
	if err != nil {
		return fmt.Errorf("register %s: %w", serviceName, err)
	}
	defer func() { _ = svc.Stop() }()
	if err := statsendpoint.Add(svc, serviceName, func() any { return s.Stats() }); err != nil {
		return fmt.Errorf("register %s: %w", serviceName, err)
	}

	units := &units{ctx: ctx, s: s, cfg: cfg, kv: kv, layout: layout, consumers: consumers, running: map[int]*unit{},
		failed: make(chan error, 1)}
	defer units.stopAll()
	if !assigning {
		units.set(units.all())
		return units.wait(ctx)
	}
	return units.follow(ctx, svc.Info().ID)
}

func (s *Service) setRunners(rs []*runner) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, old := range s.runners {
		if !slices.Contains(rs, old) {
			s.storeRequests.Add(old.store.Requests()) // its reads stay counted
		}
	}
	s.runners = rs
}
