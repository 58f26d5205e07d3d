package query

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Config tunes a query instance.
type Config struct {
	Instance string
	// Version is the read model version read (1: the plain bucket names);
	// 0 follows the live version named in peon_meta.
	Version int
	// MaxWait bounds how long a query waits for min_sequence.
	MaxWait time.Duration
	// MaxBodyBytes bounds a query body.
	MaxBodyBytes int
}

// Service is one query instance.
type Service struct {
	cfg      Config
	nc       *nats.Conn
	js       jetstream.JetStream
	store    *eventstore.Store
	log      *slog.Logger
	progress *progress
	replies  *microreply.Replier

	mu      sync.RWMutex // guards the version being read
	version int
	kv      map[string]jetstream.KeyValue
	buckets readmodel.Buckets
}

// New returns a query service over nc.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Service, error) {
	if cfg.MaxWait == 0 {
		cfg.MaxWait = 5 * time.Second
	}
	if cfg.MaxBodyBytes == 0 {
		cfg.MaxBodyBytes = 64 << 10
	}
	if cfg.Version < 0 || cfg.MaxWait < 0 || cfg.MaxBodyBytes < 0 {
		return nil, errors.New("query config: version, max wait and max body must not be negative")
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg, nc: nc, js: js, store: eventstore.New(js), log: log, progress: newProgress(), replies: microreply.New(nc, log)}, nil
}

// use opens the buckets of read-model version v and reads from them.
func (s *Service) use(ctx context.Context, v int) error {
	b := readmodel.BucketsV(v)
	kv := map[string]jetstream.KeyValue{}
	for _, name := range []string{b.Projects, b.Threads, b.Messages, contract.BucketMeta} {
		bucket, err := s.js.KeyValue(ctx, name)
		if err != nil {
			return fmt.Errorf("bucket %s: %w (run `peon setup`)", name, err)
		}
		kv[name] = bucket
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

// Run serves queries until ctx is done.
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
	followCtx, stopFollowing := context.WithCancel(ctx)
	defer stopFollowing()
	_, _, kv := s.reading()
	go func() {
		if err := s.progress.follow(followCtx, kv[contract.BucketMeta]); err != nil {
			s.log.Error("following projection progress", "err", err)
		}
	}()
	if s.cfg.Version == 0 {
		go func() {
			_ = readmodel.WatchVersion(followCtx, s.js, func(nv int) {
				if err := s.use(followCtx, nv); err != nil {
					s.log.Error("switching read model version", "to", nv, "err", err)
					return
				}
				s.log.Info("reading read model version", "version", nv)
			})
		}()
	}
	svc, err := micro.AddService(s.nc, micro.Config{
		Name: contract.QueryService, Version: contract.ServiceVersion, QueueGroup: contract.QueryService,
		Description: "Peon read model queries", Metadata: map[string]string{"instance": s.cfg.Instance},
		StatsHandler: s.replies.StatsHandler,
	})
	if err != nil {
		return fmt.Errorf("register %s: %w", contract.QueryService, err)
	}
	g := svc.AddGroup(contract.QueryPrefix)
	endpoints := map[string]micro.HandlerFunc{
		contract.QueryProjectGet:     handle(s, readsCatalog, s.projectGet),
		contract.QueryProjectList:    handle(s, readsCatalog, s.projectList),
		contract.QueryThreadGet:      handle(s, readsCatalog, s.threadGet),
		contract.QueryThreadList:     handle(s, readsCatalog, s.threadList),
		contract.QueryThreadMessages: handle(s, readsTranscript, s.threadMessages),
		contract.QueryEventsSince:    handle(s, readsStream, s.eventsSince),
		contract.QueryStatus:         handle(s, readsStream, s.status),
		contract.QueryTurnDiff:       handle(s, readsStream, s.turnDiff),
	}
	for token, h := range endpoints {
		if err := g.AddEndpoint(strings.ReplaceAll(token, ".", "-"), h, micro.WithEndpointSubject(token)); err != nil {
			_ = svc.Stop()
			return err
		}
	}
	s.log.Info("query serving", "subjects", contract.QueryPrefix+".>", "instance", s.cfg.Instance)
	<-ctx.Done()
	return svc.Stop()
}

// reads says what a query reads, so it waits for min_sequence on that.
type reads int

const (
	readsStream     reads = iota // the stream itself: waits for every projection
	readsCatalog                 // the catalog buckets
	readsTranscript              // a thread's transcript: its partition
)

// handle decodes a request, waits for min_sequence on the projection the
// query reads, runs fn and replies. Each request runs on its own goroutine.
func handle[Req contract.Query](s *Service, what reads, fn func(context.Context, Req) (any, error)) micro.HandlerFunc {
	return func(req micro.Request) {
		go func() {
			ctx, cancel := context.WithTimeout(context.Background(), s.cfg.MaxWait+5*time.Second)
			defer cancel()
			enc := domain.RequestEncoding(req.Headers().Get(contract.HeaderContentType), req.Data())
			var r Req
			err := domain.DecodeRequest(enc, req.Data(), &r, s.cfg.MaxBodyBytes)
			var reply any
			if err == nil && what != readsStream {
				err = s.progress.wait(ctx, func() (string, bool) { return s.progressKey(what, r) }, r.AtLeast(), s.cfg.MaxWait)
			} else if err == nil && r.AtLeast() > 0 {
				err = s.waitAll(ctx, r.AtLeast())
			}
			if err == nil {
				reply, err = fn(ctx, r)
			}
			s.replies.Respond(req, enc, reply, err)
		}()
	}
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
		if err := s.progress.wait(ctx, key, min, s.cfg.MaxWait); err != nil {
			return err
		}
	}
	layout, _ := s.progress.layout(v)
	for _, p := range layout {
		if err := s.progress.wait(ctx, func() (string, bool) { return p.Key(v), true }, min, s.cfg.MaxWait); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) projectGet(ctx context.Context, r contract.ProjectGet) (any, error) {
	var p domain.ProjectState
	_, b, _ := s.reading()
	if err := s.get(ctx, b.Projects, r.ProjectID, &p); err != nil {
		return nil, notFound(err, domain.CodeProjectNotFound, "project", r.ProjectID)
	}
	return contract.ProjectReply{Project: &p}, nil
}

func (s *Service) projectList(ctx context.Context, _ contract.ProjectList) (any, error) {
	out := []*domain.ProjectState{}
	_, b, _ := s.reading()
	err := s.each(ctx, b.Projects, ">", func(_ string, data []byte) error {
		var p domain.ProjectState
		if err := domain.Unmarshal(domain.MessagePack, data, &p); err != nil {
			return err
		}
		out = append(out, &p)
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return contract.ProjectsReply{Projects: out}, err
}

func (s *Service) threadGet(ctx context.Context, r contract.ThreadGet) (any, error) {
	var t domain.ThreadState
	_, b, _ := s.reading()
	if err := s.get(ctx, b.Threads, r.ThreadID, &t); err != nil {
		return nil, notFound(err, domain.CodeThreadNotFound, "thread", r.ThreadID)
	}
	return contract.ThreadReply{Thread: &t}, nil
}

func (s *Service) threadList(ctx context.Context, r contract.ThreadList) (any, error) {
	out := []*domain.ThreadState{}
	_, b, _ := s.reading()
	err := s.each(ctx, b.Threads, ">", func(_ string, data []byte) error {
		var t domain.ThreadState
		if err := domain.Unmarshal(domain.MessagePack, data, &t); err != nil {
			return err
		}
		if r.ProjectID == "" || t.ProjectID == r.ProjectID {
			out = append(out, &t)
		}
		return nil
	})
	sort.Slice(out, func(i, j int) bool { return out[i].CreatedAt.Before(out[j].CreatedAt) })
	return contract.ThreadsReply{Threads: out}, err
}

func (s *Service) threadMessages(ctx context.Context, r contract.ThreadMessages) (any, error) {
	if !domain.ValidID(r.ThreadID) {
		return nil, domain.Errorf(domain.CodeInvalidCommand, "thread_id %q is not a valid id", r.ThreadID)
	}
	limit := r.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	var all []contract.MessageRecord
	segments := map[string][]contract.MessageSegment{}
	_, b, _ := s.reading()
	err := s.each(ctx, b.Messages, r.ThreadID+".>", func(key string, data []byte) error {
		if isSegmentKey(key) {
			var seg contract.MessageSegment
			if err := domain.Unmarshal(domain.MessagePack, data, &seg); err != nil {
				return err
			}
			segments[seg.MessageID] = append(segments[seg.MessageID], seg)
			return nil
		}
		var m contract.MessageRecord
		if err := domain.Unmarshal(domain.MessagePack, data, &m); err != nil {
			return err
		}
		if m.CreatedSeq > r.After {
			all = append(all, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range all {
		all[i] = assemble(all[i], segments[all[i].MessageID])
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedSeq < all[j].CreatedSeq })
	reply := contract.MessagesReply{Messages: all}
	if len(all) > limit {
		reply.Messages = all[:limit]
		reply.Next = all[limit-1].CreatedSeq
	}
	if reply.Messages == nil {
		reply.Messages = []contract.MessageRecord{}
	}
	return reply, nil
}

func (s *Service) eventsSince(ctx context.Context, r contract.EventsSince) (any, error) {
	limit := r.Limit
	if limit <= 0 || limit > 1000 {
		limit = 100
	}
	reply := contract.EventsReply{Events: []contract.StoredEventJSON{}}
	errFull := errors.New("page full")
	_, err := s.store.Load(ctx, contract.EventSubjects, r.AfterSequence, func(rec eventstore.Record) error {
		if len(reply.Events) == limit {
			reply.Next = reply.Events[limit-1].Sequence
			return errFull
		}
		reply.Events = append(reply.Events, contract.StoredEventJSON{Sequence: rec.Sequence, StoredAt: rec.StoredAt,
			Subject: rec.Subject, Type: rec.Event.EventType(), Event: rec.Event})
		return nil
	})
	if errors.Is(err, errFull) {
		err = nil
	}
	return reply, err
}

func (s *Service) status(ctx context.Context, _ contract.StatusQuery) (any, error) {
	stream, err := s.js.Stream(ctx, contract.EventStream)
	if err != nil {
		return nil, err
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return nil, err
	}
	reply := contract.StatusReply{Projections: map[string]contract.ProjectionStatus{}}
	v, _, _ := s.reading()
	layout, known := s.progress.layout(v)
	if !known {
		layout = readmodel.All
	}
	for _, p := range layout {
		rec, _ := s.progress.get(p.Key(v))
		st := contract.ProjectionStatus{LastFolded: rec.LastFolded, StreamLast: info.State.LastSeq, Parked: rec.Parked, Degraded: rec.Parked > 0}
		if st.StreamLast > st.LastFolded {
			st.Lag = st.StreamLast - st.LastFolded
		}
		reply.Projections[p.Name] = st
	}
	return reply, nil
}

// get decodes the value at key.
func (s *Service) get(ctx context.Context, bucket, key string, v any) error {
	if !validKey(key) {
		return jetstream.ErrKeyNotFound
	}
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

func validKey(key string) bool { return domain.ValidID(key) }

func notFound(err error, code domain.Code, what, id string) error {
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.Errorf(code, "%s %q not found", what, id)
	}
	return err
}

// isSegmentKey reports whether a peon_messages key holds a text segment
// (<thread>.<message>/<n>) rather than a message's head record.
func isSegmentKey(key string) bool {
	i := strings.LastIndexByte(key, '/')
	if i < 0 || i == len(key)-1 {
		return false
	}
	for _, c := range key[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// assemble appends a message's further segments to its first, in order,
// as far as they are contiguous and as new as the head record.
func assemble(m contract.MessageRecord, segs []contract.MessageSegment) contract.MessageRecord {
	if m.Segments == 0 {
		return m
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Index < segs[j].Index })
	var text strings.Builder
	text.WriteString(m.Text)
	for i, seg := range segs {
		if seg.Index != i+1 || seg.Index > m.Segments {
			break
		}
		text.WriteString(seg.Text)
	}
	m.Text, m.Segments = text.String(), 0
	return m
}
