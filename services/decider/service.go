package decider

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/internal/lru"
	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Service is one decider instance.
type Service struct {
	cfg   Config
	nc    *nats.Conn
	js    jetstream.JetStream
	store *eventstore.Store
	// commandIDs is BucketCommandIDs (see claim), opened on first use.
	commandIDsMu sync.Mutex
	commandIDs   jetstream.KeyValue
	// appends go through the committer, which stores the multi-event
	// commands that are ready at once as one atomic batch.
	committer *eventstore.Committer
	log       *slog.Logger
	replies   *microreply.Replier
	cache     *lru.Cache[*aggregate]
	locks     *keyLocks
	// work bounds the commands in flight; inflight lets shutdown wait for
	// them. Once closed (under closing) no new command starts, so no
	// inflight.Add can follow the shutdown's Wait.
	work     chan struct{}
	inflight sync.WaitGroup
	closing  sync.RWMutex
	closed   bool

	loads, conflicts atomic.Int64
	// routed counts the commands received on a partition's subject;
	// ownedPartitions is how many partitions the instance serves.
	routed, ownedPartitions atomic.Int64
	// handled counts the requests answered; kvRequests the requests made to
	// the command-id bucket (the event store counts its own).
	handled, kvRequests atomic.Int64
	// ready is signalled once the endpoints serve.
	ready lifecycle.Ready
}

// New returns a decider over nc. The event stream must exist.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("decider config: %w", err)
	}
	cfg = cfg.withDefaults()
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	store := eventstore.New(js)
	return &Service{
		cfg: cfg, nc: nc, js: js, store: store, committer: eventstore.NewCommitter(store), log: log,
		replies: microreply.New(nc, log),
		cache:   lru.New[*aggregate](cfg.CacheEntries, cfg.CacheBytes), locks: newKeyLocks(),
		work: make(chan struct{}, cfg.Concurrency),
	}, nil
}

// Stats is what an instance reports about itself.
type Stats struct {
	CachedAggregates int   `json:"cached_aggregates"`
	CachedBytes      int64 `json:"cached_bytes"`
	Loads            int64 `json:"aggregate_loads"`
	Conflicts        int64 `json:"conflicts"`
	// AppendGroups counts the atomic batches that held several commands,
	// GroupedCommands the commands they held.
	AppendGroups    int64 `json:"append_groups"`
	GroupedCommands int64 `json:"grouped_commands"`
	// Commands counts the command requests this instance has handled
	// (answered, whatever the answer), JetStreamRequests the requests it
	// made to JetStream for them, each a round trip (appends, reads, the
	// command-id claims): their ratio is the round trips per command.
	Commands          int64 `json:"commands_handled"`
	JetStreamRequests int64 `json:"jetstream_requests"`
	// RoutedCommands counts the commands received on a partition's subject
	// (the rest came on the plain subjects); OwnedPartitions is how many of
	// the contract's command partitions the instance serves now.
	RoutedCommands  int64 `json:"routed_commands"`
	OwnedPartitions int64 `json:"owned_partitions"`
}

// Stats returns the instance's counters.
func (s *Service) Stats() Stats {
	n, b := s.cache.Len()
	groups, grouped := s.committer.Stats()
	return Stats{CachedAggregates: n, CachedBytes: b, Loads: s.loads.Load(), Conflicts: s.conflicts.Load(),
		AppendGroups: groups, GroupedCommands: grouped,
		Commands: s.handled.Load(), JetStreamRequests: s.store.Requests() + s.kvRequests.Load(),
		RoutedCommands: s.routed.Load(), OwnedPartitions: s.ownedPartitions.Load()}
}

// EndpointStats is what a command endpoint reports in its micro stats: the
// instance's counters and the endpoint's replies.
type EndpointStats struct {
	Stats
	Replies microreply.EndpointStats `json:"replies"`
}

// Ready is closed once the instance serves commands.
func (s *Service) Ready() <-chan struct{} { return s.ready.Done() }

// Run serves commands until ctx is done, then stops taking requests, lets
// the ones in flight finish and returns.
func (s *Service) Run(ctx context.Context) error {
	if _, err := eventstore.CheckStream(ctx, s.js); err != nil {
		return err
	}
	if _, err := s.commandIDBucket(ctx); err != nil {
		return err
	}
	svc, err := micro.AddService(s.nc, micro.Config{
		Name:        contract.DeciderService,
		Version:     contract.ServiceVersion,
		Description: "Peon commands: validates and appends events to " + contract.EventStream,
		QueueGroup:  contract.CommandQueue,
		Metadata:    map[string]string{"instance": s.cfg.Instance, metaPartitions: strconv.Itoa(contract.CommandPartitions)},
		StatsHandler: func(e *micro.Endpoint) any {
			return EndpointStats{Stats: s.Stats(), Replies: s.replies.Stats(e.Subject)}
		},
	})
	if err != nil {
		return fmt.Errorf("register %s: %w", contract.DeciderService, err)
	}
	group := svc.AddGroup(contract.CommandPrefix)
	for _, spec := range domain.Commands() {
		name := strings.ReplaceAll(spec.Endpoint, ".", "-")
		if err := group.AddEndpoint(name, s.handler(ctx, spec.Type), micro.WithEndpointSubject(spec.Endpoint)); err != nil {
			_ = svc.Stop()
			return fmt.Errorf("add endpoint %s: %w", spec.Endpoint, err)
		}
	}
	// Every partition until the first probe has found the peers (see
	// partitions.go); set flushes, so once it returns the server has the
	// endpoints' subscriptions and a command sent from then on is served.
	parts := &partitions{nc: s.nc, handler: s.routedHandler(ctx), subs: map[int]*nats.Subscription{}}
	all := make([]int, contract.CommandPartitions)
	for k := range all {
		all[k] = k
	}
	if err := parts.set(all); err != nil {
		parts.stopAll()
		_ = svc.Stop()
		return fmt.Errorf("register %s: %w", contract.DeciderService, err)
	}
	s.ownedPartitions.Store(int64(parts.owned()))
	s.ready.Signal()
	s.log.Info("decider serving", "subjects", contract.CommandPrefix+".>", "instance", s.cfg.Instance)
	following := make(chan struct{})
	go func() {
		defer close(following)
		s.followPartitions(ctx, parts, svc.Info().ID)
	}()
	<-ctx.Done()
	<-following
	parts.stopAll()  // what the partitions received is still handled
	err = svc.Stop() // drains the endpoint subscriptions: no new requests
	s.closing.Lock()
	s.closed = true // a request still handed over now is refused, not started
	s.closing.Unlock()
	s.inflight.Wait()
	s.log.Info("decider stopped", "instance", s.cfg.Instance)
	return err
}

// handler serves a plain command endpoint.
func (s *Service) handler(ctx context.Context, commandType string) micro.HandlerFunc {
	return func(req micro.Request) {
		s.dispatch(ctx, commandType, req, nats.Header(req.Headers()), req.Data())
	}
}

// dispatch hands each request to its own goroutine, bounded by
// Concurrency, so one instance decides many aggregates at once. The
// goroutine answers through the Replier, never through the request
// itself: micro reads a request's state once its handler returns.
func (s *Service) dispatch(ctx context.Context, commandType string, req microreply.Request, header nats.Header, data []byte) {
	s.closing.RLock()
	if s.closed {
		s.closing.RUnlock()
		s.replies.Respond(req, domain.RequestEncoding(header.Get(contract.HeaderContentType), data), nil, errStopping)
		return
	}
	s.inflight.Add(1)
	s.closing.RUnlock()
	s.work <- struct{}{}
	go func() {
		defer func() { <-s.work; s.inflight.Done() }()
		// In-flight work finishes even when ctx is cancelled for shutdown.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.cfg.RequestTimeout)
		defer cancel()
		enc := domain.RequestEncoding(header.Get(contract.HeaderContentType), data)
		deadline, err := requestDeadline(header.Get(contract.HeaderDeadline), time.Now())
		var cmd domain.Command
		if err == nil {
			cmd, err = domain.DecodeCommand(commandType, data, enc, s.cfg.MaxBodyBytes)
		}
		var reply contract.CommandReply
		if err == nil {
			if !deadline.IsZero() {
				var cancelDeadline context.CancelFunc
				wctx, cancelDeadline = context.WithDeadline(wctx, deadline)
				defer cancelDeadline()
			}
			reply, err = s.Execute(wctx, cmd)
		}
		s.handled.Add(1) // before the reply: a client reading stats after it sees the command
		s.replies.Respond(req, enc, reply, err)
	}()
}

// errStopping answers a command that arrives while the instance stops:
// unavailable, so its sender sends it again (another instance decides it).
var errStopping = domain.Errorf(contract.CodeUnavailable, "this decider instance is stopping; send the command again")

// commandIDBucket returns BucketCommandIDs, looking it up once.
func (s *Service) commandIDBucket(ctx context.Context) (jetstream.KeyValue, error) {
	s.commandIDsMu.Lock()
	defer s.commandIDsMu.Unlock()
	if s.commandIDs != nil {
		return s.commandIDs, nil
	}
	s.kvRequests.Add(1)
	var kv jetstream.KeyValue
	err := retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
		kv, err = s.js.KeyValue(ctx, contract.BucketCommandIDs)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w (run `peon setup`)", contract.BucketCommandIDs, err)
	}
	s.commandIDs = kv
	return kv, nil
}

// requestDeadline reads the sender's deadline (contract.HeaderDeadline):
// zero when there is none, ErrDeadlinePassed when it is before now.
func requestDeadline(header string, now time.Time) (time.Time, error) {
	if header == "" {
		return time.Time{}, nil
	}
	deadline, err := time.Parse(time.RFC3339Nano, header)
	if err != nil {
		return time.Time{}, domain.Errorf(domain.CodeBadRequest, "header %s %q is not an RFC 3339 time", contract.HeaderDeadline, header)
	}
	if !deadline.After(now) {
		return time.Time{}, microreply.ErrDeadlinePassed
	}
	return deadline, nil
}
