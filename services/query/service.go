package query

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"golang.org/x/sync/errgroup"
)

// Service is one query instance.
type Service struct {
	cfg      Config
	nc       *nats.Conn
	js       jetstream.JetStream
	store    *eventstore.Store
	log      *slog.Logger
	progress *progress
	replies  *microreply.Replier
	ready    lifecycle.Ready
	// inFlight holds a token per query being answered (at most
	// Config.MaxInFlight); requests wait for one in the subscription.
	inFlight chan struct{}
	// requests counts the queries being answered, waited for on shutdown;
	// once stopping is set no request is added (under stopMu).
	requests sync.WaitGroup
	stopMu   sync.RWMutex
	stopping bool

	// diffs is the peon_diffs object store, opened on first use (diffStore).
	diffsMu sync.Mutex
	diffs   jetstream.ObjectStore

	// knownLast is the highest stream sequence seen (see fromThisStream).
	knownLast atomic.Uint64

	mu      sync.RWMutex // guards the version being read
	version int
	kv      map[string]jetstream.KeyValue
	buckets readmodel.Buckets
}

// New returns a query service over nc; it connects nothing until Run.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("query config: %w", err)
	}
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, nc: nc, js: js, store: eventstore.New(js), log: log,
		progress: newProgress(), inFlight: make(chan struct{}, cfg.MaxInFlight), replies: microreply.New(nc, log)}, nil
}

// Ready is closed once the instance answers queries.
func (s *Service) Ready() <-chan struct{} { return s.ready.Done() }

// use opens the buckets of read-model version v and reads from them.
func (s *Service) use(ctx context.Context, v int) error {
	b := readmodel.BucketsV(v)
	kv, err := readmodel.OpenBuckets(ctx, s.js, b.Projects, b.Threads, b.Messages, contract.BucketMeta)
	if err != nil {
		return err
	}
	s.mu.Lock()
	s.version, s.buckets, s.kv = v, b, kv
	s.mu.Unlock()
	return nil
}

// reading returns the buckets of the version being read.
func (s *Service) reading() (int, readmodel.Buckets, map[string]jetstream.KeyValue) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.version, s.buckets, s.kv
}

// Run serves queries until ctx is done, then stops taking requests and
// waits for the ones in flight before it returns.
func (s *Service) Run(ctx context.Context) error {
	v := s.cfg.Version
	if v == 0 {
		var err error
		if v, err = readmodel.CurrentVersion(ctx, s.js); err != nil {
			return fmt.Errorf("read model version: %w", err)
		}
	}
	if err := s.use(ctx, v); err != nil {
		return err
	}
	g, gctx := errgroup.WithContext(ctx)
	_, _, kv := s.reading()
	g.Go(func() error {
		if err := s.progress.follow(gctx, kv[contract.BucketMeta]); err != nil && gctx.Err() == nil {
			return fmt.Errorf("following projection progress: %w", err)
		}
		return nil
	})
	if s.cfg.Version == 0 {
		g.Go(func() error {
			err := readmodel.WatchVersion(gctx, s.js, func(nv int) {
				if err := s.use(gctx, nv); err != nil {
					s.log.Error("switching read model version", "to", nv, "err", err)
					return
				}
				s.log.Info("reading read model version", "version", nv)
			})
			if err != nil && gctx.Err() == nil {
				return fmt.Errorf("following the read model version: %w", err)
			}
			return nil
		})
	}
	svc, err := s.register()
	if err != nil {
		return err
	}
	// Ready means a request sent now is answered: the server must have
	// the endpoints' subscriptions, which the client sends asynchronously.
	if err := s.nc.FlushTimeout(10 * time.Second); err != nil && gctx.Err() == nil {
		_ = svc.Stop()
		return fmt.Errorf("register %s: %w", contract.QueryService, err)
	}
	s.log.Info("query serving", "subjects", contract.QueryPrefix+".>", "instance", s.cfg.Instance)
	s.ready.Signal()
	<-gctx.Done()
	// Stop unsubscribes the endpoints: no new request arrives. Those
	// already taken are answered before Run returns; those still queued in
	// the subscription are answered unavailable, so their senders retry
	// another instance at once.
	stopErr := svc.Stop()
	s.stopMu.Lock()
	s.stopping = true
	s.stopMu.Unlock()
	s.requests.Wait()
	if err := g.Wait(); err != nil {
		return err
	}
	return stopErr
}

// register adds the micro service and its endpoints.
func (s *Service) register() (micro.Service, error) {
	svc, err := micro.AddService(s.nc, micro.Config{
		Name: contract.QueryService, Version: contract.ServiceVersion, QueueGroup: contract.QueryService,
		Description: "Peon read model queries", Metadata: map[string]string{"instance": s.cfg.Instance},
		StatsHandler: s.replies.StatsHandler,
	})
	if err != nil {
		return nil, fmt.Errorf("register %s: %w", contract.QueryService, err)
	}
	g := svc.AddGroup(contract.QueryPrefix)
	endpoints := map[string]micro.HandlerFunc{
		contract.QueryProjectGet:     handle(s, readsCatalog, s.projectGet),
		contract.QueryProjectList:    handle(s, readsCatalog, s.projectList),
		contract.QueryThreadGet:      handle(s, readsCatalog, s.threadGet),
		contract.QueryThreadList:     handle(s, readsCatalog, s.threadList),
		contract.QueryThreadMessages: handle(s, readsTranscript, s.threadMessages),
		contract.QueryThreadToolCall: handle(s, readsCatalog, s.threadToolCall),
		contract.QueryEventsSince:    handle(s, readsStream, s.eventsSince),
		contract.QueryStatus:         handle(s, readsStream, s.status),
		contract.QueryTurnDiff:       handle(s, readsStream, s.turnDiff),
	}
	for token, h := range endpoints {
		if err := g.AddEndpoint(strings.ReplaceAll(token, ".", "-"), h, micro.WithEndpointSubject(token)); err != nil {
			_ = svc.Stop()
			return nil, err
		}
	}
	return svc, nil
}

// reads says what a query reads, so it waits for min_sequence on that.
type reads int

const (
	readsStream     reads = iota // the stream itself: waits for every projection
	readsCatalog                 // the catalog buckets
	readsTranscript              // a thread's transcript: its partition
)

// request is what every query handler is given besides its request: the
// encoding the reply is sent in, for measuring pages.
type request struct {
	enc domain.Encoding
}

// handle decodes a request, waits for min_sequence on the projection the
// query reads, runs fn and replies. Each request runs on its own
// goroutine, at most Config.MaxInFlight at once: the handler waits for a
// token first, so a burst queues in the subscription instead of spawning
// without bound.
func handle[Req contract.Query](s *Service, what reads, fn func(context.Context, request, Req) (any, error)) micro.HandlerFunc {
	return func(req micro.Request) {
		enc := domain.RequestEncoding(req.Headers().Get(contract.HeaderContentType), req.Data())
		s.stopMu.RLock()
		if s.stopping {
			s.stopMu.RUnlock()
			s.replies.Respond(req, enc, nil, errStopping)
			return
		}
		s.requests.Add(1)
		s.stopMu.RUnlock()
		s.inFlight <- struct{}{}
		go func() {
			defer func() { <-s.inFlight; s.requests.Done() }()
			// Not the service's context: a request taken is answered even
			// while the service stops.
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.MaxWait+5*time.Second)
			defer cancel()
			var r Req
			err := domain.DecodeRequest(enc, req.Data(), &r, s.cfg.MaxBodyBytes)
			if err == nil {
				err = checkSequence("min_sequence", r.AtLeast())
			}
			var reply any
			if err == nil && what != readsStream {
				err = s.progress.wait(ctx, func() (string, bool) { return s.progressKey(what, r) }, r.AtLeast(), s.cfg.MaxWait, s.fromThisStream(ctx))
			} else if err == nil && r.AtLeast() > 0 {
				err = s.waitAll(ctx, r.AtLeast())
			}
			if err == nil {
				reply, err = fn(ctx, request{enc: enc}, r)
			}
			s.replies.Respond(req, enc, reply, err)
		}()
	}
}

// errStopping answers a request that arrives while the instance stops.
var errStopping = fmt.Errorf("query instance stopping: %w", nats.ErrConnectionClosed)

// newPage is an empty page of a reply in rq's encoding.
func (s *Service) newPage(rq request) *page {
	return &page{enc: rq.enc, budget: int(s.nc.MaxPayload()) - replyHeadroom}
}

// progressKey names the progress record of the projection a request reads
// (false while the layout is unknown).
func (s *Service) progressKey(what reads, r any) (string, bool) {
	v, _, _ := s.reading()
	if what == readsCatalog {
		return readmodel.Catalog.Key(v), true
	}
	layout, ok := s.progress.layout(v)
	if !ok {
		return "", false
	}
	thread := ""
	if t, ok := r.(contract.ThreadScoped); ok {
		thread = t.ScopeThread()
	}
	return readmodel.TranscriptOf(layout, thread).Key(v), true
}

// waitAll waits until every projection of the live version has folded
// min: the catalog, then one transcript partition (which makes the layout
// known), then each of them.
func (s *Service) waitAll(ctx context.Context, min uint64) error {
	v, _, _ := s.reading()
	keys := []func() (string, bool){
		func() (string, bool) { return s.progressKey(readsCatalog, nil) },
		func() (string, bool) { return s.progressKey(readsTranscript, nil) },
	}
	for _, key := range keys {
		if err := s.progress.wait(ctx, key, min, s.cfg.MaxWait, s.fromThisStream(ctx)); err != nil {
			return err
		}
	}
	layout, _ := s.progress.layout(v)
	for _, p := range layout {
		if err := s.progress.wait(ctx, func() (string, bool) { return p.Key(v), true }, min, s.cfg.MaxWait, s.fromThisStream(ctx)); err != nil {
			return err
		}
	}
	return nil
}

// fromThisStream refuses to answer min_sequence from a projection whose
// progress is past the stream's end: it was folded from another stream
// (a data directory shared by two servers, a stream recreated under an old
// read model), so "folded up to N" does not mean this stream's N. The
// stream's last sequence is read again only when a record passes the one
// last seen, so a healthy projection costs no request.
func (s *Service) fromThisStream(ctx context.Context) func(contract.ProgressRecord) error {
	return func(rec contract.ProgressRecord) error {
		if rec.LastFolded <= s.knownLast.Load() {
			return nil
		}
		last, err := s.streamLast(ctx)
		if err != nil {
			return err
		}
		for {
			known := s.knownLast.Load()
			if last <= known || s.knownLast.CompareAndSwap(known, last) {
				break
			}
		}
		if rec.LastFolded > last {
			return domain.Errorf(contract.CodeUnavailable, "projection %s: %s", rec.Projection, pastStreamEnd(rec, last))
		}
		return nil
	}
}

// get decodes the value at key.
func (s *Service) get(ctx context.Context, bucket, key string, v any) error {
	_, _, kv := s.reading()
	e, err := kv[bucket].Get(ctx, key)
	if err != nil {
		return err
	}
	return domain.Unmarshal(domain.MessagePack, e.Value(), v)
}

// each calls fn with every key matching filter and its value.
func (s *Service) each(ctx context.Context, bucket, filter string, fn func(key string, value []byte) error) error {
	_, _, kv := s.reading()
	w, err := kv[bucket].Watch(ctx, filter, jetstream.IgnoreDeletes())
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for e := range w.Updates() {
		if e == nil {
			return nil // caught up: every current value was delivered
		}
		if err := fn(e.Key(), e.Value()); err != nil {
			return err
		}
	}
	return ctx.Err()
}
