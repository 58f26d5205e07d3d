package ingest

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"log/slog"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/internal/statsendpoint"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"golang.org/x/sync/errgroup"
)

// pullSize is how many provider events an instance keeps in flight (see
// provision.IngestPullSize).
const pullSize = provision.IngestPullSize

// Stats counts what an instance did.
type Stats struct {
	Applied  int64 `json:"applied"`
	Commands int64 `json:"commands"`
	Rejected int64 `json:"rejected"`
	Retries  int64 `json:"retries"`
}

// Service is one provider-ingest instance.
type Service struct {
	cfg        Config
	nc         *nats.Conn
	js         jetstream.JetStream
	commands   *client.Client
	log        *slog.Logger
	rejections jetstream.KeyValue

	ready lifecycle.Ready

	applied, commandsSent, rejected, retries atomic.Int64
}

// New returns an ingest instance over nc. It validates cfg and connects
// nothing else: Run finds the consumer and serves.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Service, error) {
	if err := cfg.Validate(); err != nil {
		return nil, fmt.Errorf("ingest config: %w", err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Service{cfg: cfg.withDefaults(), nc: nc, js: js, commands: client.New(nc, domain.MessagePack), log: log}, nil
}

// Ready is closed once the instance consumes provider events.
func (s *Service) Ready() <-chan struct{} { return s.ready.Done() }

// LogValue renders the counters as fields, so text logs show
// applied=… commands=… rather than a Go struct.
func (st Stats) LogValue() slog.Value {
	return slog.GroupValue(slog.Int64("applied", st.Applied), slog.Int64("commands", st.Commands),
		slog.Int64("rejected", st.Rejected), slog.Int64("retries", st.Retries))
}

// Stats returns the instance's counters.
func (s *Service) Stats() Stats {
	return Stats{Applied: s.applied.Load(), Commands: s.commandsSent.Load(), Rejected: s.rejected.Load(), Retries: s.retries.Load()}
}

// item is one delivered provider event, decoded once.
type item struct {
	msg      jetstream.Msg
	seq      uint64
	threadID string
	body     contract.ProviderMessage
	err      error // malformed: recorded and terminated
}

func (it item) terminal() bool {
	switch it.body.Event.ProviderEvent.(type) {
	case domain.TurnComplete, domain.ProviderError:
		return true
	}
	return false
}

// Run ingests until ctx is done, then stops pulling and waits for its
// workers: what they had not sent stays unacknowledged (see handle). Every
// worker it starts is waited for (as are the settle gate's goroutines); in flight are at most
// Workers commands and pullSize events per worker.
func (s *Service) Run(ctx context.Context) error {
	var cons jetstream.Consumer
	err := retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
		cons, err = s.js.Consumer(ctx, contract.ProviderStream, provision.IngestConsumer)
		return err
	})
	if ctx.Err() != nil {
		return nil // stopped while starting
	}
	if err != nil {
		return fmt.Errorf("consumer %s: %w (run `peon setup`)", provision.IngestConsumer, err)
	}
	if err = retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
		s.rejections, err = s.js.KeyValue(ctx, contract.BucketIngestRejections)
		return err
	}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("bucket %s: %w (run `peon setup`)", contract.BucketIngestRejections, err)
	}
	svc, err := micro.AddService(s.nc, micro.Config{
		Name: contract.IngestService, Version: contract.ServiceVersion,
		Description: "Peon provider-ingest (stats only)", Metadata: map[string]string{"instance": s.cfg.Instance},
		StatsHandler: func(*micro.Endpoint) any { return s.Stats() },
	})
	if err != nil {
		return err
	}
	defer func() { _ = svc.Stop() }()
	if err := statsendpoint.Add(svc, contract.IngestService, func() any { return s.Stats() }); err != nil {
		return fmt.Errorf("register %s: %w", contract.IngestService, err)
	}

	var workers errgroup.Group
	queues := make([]chan item, s.cfg.Workers)
	for i := range queues {
		queues[i] = make(chan item, pullSize)
		workers.Go(func() error {
			s.work(ctx, queues[i])
			return nil
		})
	}
	// The queues close only after the workers' producers (consumer and
	// gate) have stopped, whatever path Run leaves by.
	stopWorkers := func() {
		for _, q := range queues {
			close(q)
		}
		_ = workers.Wait()
	}
	dispatch := func(it item) {
		h := fnv.New32a()
		_, _ = h.Write([]byte(it.threadID))
		queues[h.Sum32()%uint32(len(queues))] <- it
	}
	ackFloor := func() (uint64, error) {
		info, err := cons.Info(ctx)
		if err != nil {
			return 0, err
		}
		return info.AckFloor.Stream, nil
	}
	gate := newSettleGate(cons.CachedInfo().Config.AckWait, dispatch, ackFloor)
	cc, err := cons.Consume(func(m jetstream.Msg) { gate.receive(decode(m)) },
		jetstream.PullPriorityGroup(provision.IngestPriorityGroup), jetstream.PullMaxMessages(pullSize))
	if err != nil {
		gate.stop()
		stopWorkers()
		return fmt.Errorf("consume %s: %w", provision.IngestConsumer, err)
	}
	s.log.Info("provider-ingest running", "instance", s.cfg.Instance, "workers", s.cfg.Workers)
	s.ready.Signal()
	defer func() { s.log.Info("provider-ingest stopped", "instance", s.cfg.Instance, "stats", s.Stats()) }()
	<-ctx.Done()
	cc.Stop()
	<-cc.Closed()
	gate.stop()
	stopWorkers()
	// The pin is left to expire (see Timing): what is still in flight to
	// this instance must be redelivered before anything newer.
	return nil
}

func decode(m jetstream.Msg) item {
	it := item{msg: m}
	if meta, err := m.Metadata(); err == nil {
		it.seq = meta.Sequence.Stream
	}
	thread, ok := contract.ProviderThread(m.Subject())
	if !ok || !domain.ValidID(thread) {
		it.err = domain.Errorf(domain.CodeBadRequest, "subject %q does not name a thread", m.Subject())
		return it
	}
	it.threadID = thread
	enc := domain.EncodingOf(m.Headers().Get(contract.HeaderContentType))
	it.err = domain.DecodeRequest(enc, m.Data(), &it.body, 1<<20)
	return it
}

// work handles one queue. Events redelivered after this worker already
// applied them (their ack wait ran out while they queued) are acked and
// skipped without a command. It takes whatever is waiting (up to a few
// batches), groups it by thread — keeping each thread's order — and sends
// each thread's run of events of one turn as one command. Threads sharing a
// worker therefore still coalesce even when their events interleave.
func (s *Service) work(ctx context.Context, queue chan item) {
	applied := map[string]uint64{} // thread -> highest stream sequence acked here
	for {
		first, ok := <-queue
		if !ok {
			return
		}
		waiting := []item{first}
	gather:
		for len(waiting) < pullSize {
			select {
			case it, ok := <-queue:
				if !ok {
					break gather
				}
				waiting = append(waiting, it)
			default:
				break gather
			}
		}
		if ctx.Err() != nil {
			continue // leave it unacknowledged: see handle
		}
		fresh := waiting[:0]
		for _, it := range waiting {
			if it.err == nil && it.seq <= applied[it.threadID] {
				_ = it.msg.Ack() // a late copy of something already applied
				continue
			}
			fresh = append(fresh, it)
		}
		for _, run := range runs(fresh, s.cfg.MaxBatch) {
			if ctx.Err() != nil {
				break
			}
			if s.handle(ctx, run) {
				last := run[len(run)-1]
				applied[last.threadID] = max(applied[last.threadID], last.seq)
			}
		}
	}
}

// runs splits waiting items into commands: per thread in arrival order,
// consecutive events of one turn, at most max, ending at a turn's end. A
// malformed item is a run of its own.
func runs(waiting []item, max int) [][]item {
	var order []string
	byThread := map[string][]item{}
	for _, it := range waiting {
		if _, seen := byThread[it.threadID]; !seen {
			order = append(order, it.threadID)
		}
		byThread[it.threadID] = append(byThread[it.threadID], it)
	}
	var out [][]item
	for _, thread := range order {
		var run []item
		for _, it := range byThread[thread] {
			if len(run) > 0 && (it.err != nil || run[0].err != nil || it.body.TurnID != run[0].body.TurnID ||
				len(run) == max || run[len(run)-1].terminal()) {
				out = append(out, run)
				run = nil
			}
			run = append(run, it)
		}
		if len(run) > 0 {
			out = append(out, run)
		}
	}
	return out
}

// handle sends one batch until it is answered: applied (ack), rejected
// (record and ack; a batch is split to find the event at fault) or, on a
// transient failure, retried with backoff until ctx is done. It reports
// whether the batch was answered (acked).
//
// What is not sent when the instance stops stays unacknowledged, not
// nak'ed: a nak queues a message for redelivery at once, ahead of older
// messages still in flight to this instance that come back only at the ack
// wait, and that would reorder a thread's events. Left alone, everything
// the instance held is redelivered when its ack wait expires, in order.
func (s *Service) handle(ctx context.Context, batch []item) bool {
	if batch[0].err != nil {
		s.reject(ctx, batch[0], batch[0].err)
		_ = batch[0].msg.Term()
		return false
	}
	cmd := command(batch)
	for attempt := 0; ; attempt++ {
		cctx, cancel := context.WithTimeout(ctx, s.cfg.CommandTimeout)
		_, err := s.commands.Send(cctx, cmd)
		cancel()
		s.commandsSent.Add(1)
		var rejected *client.Error
		switch {
		case err == nil:
			for _, it := range batch {
				_ = it.msg.Ack()
			}
			s.applied.Add(int64(len(batch)))
			return true
		case errors.As(err, &rejected) && !rejected.Transient():
			if len(batch) > 1 {
				answered := true
				for _, it := range batch {
					answered = s.handle(ctx, []item{it}) && answered
				}
				return answered
			}
			s.reject(ctx, batch[0], rejected)
			_ = batch[0].msg.Ack()
			return true
		}
		if ctx.Err() != nil {
			return false // unsent: left unacknowledged (see handle)
		}
		s.retries.Add(1)
		for _, it := range batch {
			_ = it.msg.InProgress() // still working on it: do not redeliver yet
		}
		if err := s.backoff().Wait(ctx, attempt+1); err != nil {
			return false // unsent: left unacknowledged (see handle)
		}
	}
}

// backoff is the pause between sends of a batch that failed for a
// transient reason: 20 ms doubling to MaxBackoff.
func (s *Service) backoff() retry.Policy {
	return retry.Policy{First: 20 * time.Millisecond, Max: s.cfg.MaxBackoff}
}

// command builds the IngestProviderEvent for a batch. Its command id is
// derived from the provider event ids it carries, so a redelivery of the
// same batch is recognised by the decider as a retry.
func command(batch []item) domain.IngestProviderEvent {
	first, last := batch[0].body, batch[len(batch)-1].body
	id := uuid.NewSHA1(ingestNamespace, []byte(batch[0].threadID+"\x00"+first.ProviderEventID+"\x00"+
		last.ProviderEventID+"\x00"+strconv.Itoa(len(batch)))).String()
	cmd := domain.IngestProviderEvent{CommandID: id, ThreadID: batch[0].threadID, TurnID: first.TurnID}
	if len(batch) == 1 {
		cmd.ProviderEventID = first.ProviderEventID
		ev := first.Event
		cmd.Event = &ev
		return cmd
	}
	cmd.Events = make([]domain.ProviderEventBatchItem, len(batch))
	for i, it := range batch {
		cmd.Events[i] = domain.ProviderEventBatchItem{ProviderEventID: it.body.ProviderEventID, Event: it.body.Event}
	}
	return cmd
}

var ingestNamespace = uuid.MustParse("2b1f4c7e-9d0a-4e53-8f6b-61c2a9d4e8f3")

// reject counts and records a provider event that will not be applied.
func (s *Service) reject(ctx context.Context, it item, why error) {
	s.rejected.Add(1)
	code, msg := string(domain.CodeBadRequest), why.Error()
	var ce *client.Error
	var de *domain.DeciderError
	switch {
	case errors.As(why, &ce):
		code, msg = string(ce.Code), ce.Message
	case errors.As(why, &de):
		code, msg = string(de.Code), de.Message
	}
	key := it.threadID + "." + it.body.ProviderEventID
	if it.threadID == "" || !domain.ValidID(it.body.ProviderEventID) {
		key = "malformed." + strconv.FormatUint(it.seq, 10)
	}
	rec := contract.RejectionRecord{ThreadID: it.threadID, TurnID: it.body.TurnID, ProviderEventID: it.body.ProviderEventID,
		Sequence: it.seq, Code: code, Message: msg, At: time.Now().UTC()}
	body, err := domain.Marshal(domain.MessagePack, rec)
	if err == nil {
		_, err = s.rejections.Put(ctx, key, body)
	}
	s.log.Warn("provider event rejected", "thread", it.threadID, "provider_event_id", it.body.ProviderEventID,
		"code", code, "message", msg, "record_err", err)
}
