package projector

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/handover"
	"github.com/peonhq/peon/internal/lru"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
)

// runner runs one projection in this instance.
type runner struct {
	p        readmodel.Projection
	cfg      Config
	js       jetstream.JetStream
	store    *eventstore.Store
	log      *slog.Logger
	buckets  readmodel.Buckets
	kv       map[string]jetstream.KeyValue
	threads  *lru.Cache[*threadAgg]
	projects *lru.Cache[*projectEntry]
	// selected is the selected thread as far as this runner has folded;
	// unknown after a start or a gap until read from the bucket.
	selected      contract.SelectedRecord
	selectedKnown bool
	metaRevs      revisions

	// floor is a sequence at or below the consumer's ack floor: every event
	// up to it has been written. delivered is the highest sequence this
	// runner has seen. Both belong to the consuming goroutine.
	floor, delivered uint64
	cons             jetstream.Consumer
	// late is set while an event below delivered is folded (a redelivery):
	// state loaded for it is not cached, see fold.
	late bool

	lastFolded, parked, loads atomic.Int64
}

func newRunner(p readmodel.Projection, cfg Config, js jetstream.JetStream, kv map[string]jetstream.KeyValue, log *slog.Logger) *runner {
	return &runner{
		p: p, cfg: cfg, js: js, store: eventstore.New(js), kv: kv,
		log:      log.With("projection", p.Key(cfg.Version)),
		buckets:  readmodel.BucketsV(cfg.Version),
		threads:  lru.New[*threadAgg](cfg.CacheEntries, cfg.CacheBytes),
		projects: lru.New[*projectEntry](cfg.CacheEntries, cfg.CacheBytes/8),
	}
}

// run consumes until ctx is done. A batch that fails is given back
// (nak'ed), the in-memory state is dropped, and consumption restarts from
// the consumer's ack floor: order per aggregate is never broken.
func (r *runner) run(ctx context.Context, cons jetstream.Consumer) error {
	for {
		err := r.consume(ctx, cons)
		if ctx.Err() != nil {
			return nil
		}
		r.log.Warn("projection restarts after a failed batch", "err", err)
		r.forget()
		r.metaRevs = revisions{}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.cfg.RetryDelay):
		}
	}
}

// forget drops the folded state; it is folded again from the stream as
// events arrive.
func (r *runner) forget() {
	r.threads = lru.New[*threadAgg](r.cfg.CacheEntries, r.cfg.CacheBytes)
	r.projects = lru.New[*projectEntry](r.cfg.CacheEntries, r.cfg.CacheBytes/8)
	r.selectedKnown = false
}

// consume pulls messages in the pinned priority group and processes them in
// batches, until ctx is done or a batch fails.
func (r *runner) consume(ctx context.Context, cons jetstream.Consumer) error {
	info, err := cons.Info(ctx)
	if err != nil {
		return fmt.Errorf("consumer %s: %w", r.p.ConsumerName(r.cfg.Version), err)
	}
	r.cons = cons
	r.floor = max(r.floor, info.AckFloor.Stream)
	incoming := make(chan jetstream.Msg, 2*r.cfg.BatchSize)
	cc, err := cons.Consume(func(m jetstream.Msg) { incoming <- m },
		jetstream.PullPriorityGroup(readmodel.PriorityGroup), jetstream.PullMaxMessages(r.cfg.BatchSize))
	if err != nil {
		return fmt.Errorf("consume %s: %w", r.p.ConsumerName(r.cfg.Version), err)
	}
	var returns handover.Returns
	defer func() {
		// Drain delivers what the client buffered into incoming; all of it
		// is given back in order, then a standby can take over at once.
		cc.Drain()
		given := make(chan struct{})
		go func() {
			for m := range incoming {
				returns.Add(m)
			}
			close(given)
		}()
		<-cc.Closed()
		close(incoming)
		<-given
		hctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := returns.GiveBack(hctx, r.js.Conn()); err != nil {
			r.log.Warn("giving back unfolded events", "err", err)
			return
		}
		// Unpin even when nothing was received: the server may have pinned
		// this instance with messages still in flight. Should another
		// instance hold the pin, it loses it for one pull; the projection
		// does not depend on delivery order (state is folded from the
		// stream, writes are guarded by sequence), so that is harmless.
		if err := handover.Unpin(hctx, r.js, contract.EventStream, r.p.ConsumerName(r.cfg.Version), readmodel.PriorityGroup); err != nil {
			r.log.Debug("unpin", "err", err)
		}
	}()
	ticker := time.NewTicker(r.cfg.LogEvery)
	defer ticker.Stop()
	// After a handover, events folded elsewhere leave the floor behind what
	// this runner has folded until the consumer's ack floor catches up.
	behind := time.NewTicker(time.Second)
	defer behind.Stop()
	for {
		var first jetstream.Msg
		select {
		case <-ctx.Done():
			return nil
		case <-ticker.C:
			r.logLag(ctx, cons)
			continue
		case <-behind.C:
			if r.delivered > r.floor {
				if err := r.syncFloor(ctx); err != nil {
					return err
				}
			}
			continue
		case first = <-incoming:
		}
		batch := []jetstream.Msg{first}
	fill:
		for len(batch) < r.cfg.BatchSize {
			select {
			case m := <-incoming:
				batch = append(batch, m)
			default:
				break fill
			}
		}
		if err := r.process(ctx, batch); err != nil {
			returns.Add(batch...)
			return err
		}
	}
}

// process folds a batch, writes what it changed, records progress, then
// acks: the checkpoint never runs ahead of the writes.
func (r *runner) process(ctx context.Context, batch []jetstream.Msg) error {
	d := newDirty()
	var poison []jetstream.Msg
	var last uint64
	seqs := make([]uint64, 0, len(batch))
	for _, m := range batch {
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		seq := meta.Sequence.Stream
		last = seq
		seqs = append(seqs, seq)
		if seq > r.delivered+1 {
			// A gap: another instance folded what lies between, so what this
			// one has cached may be behind the buckets. Fold afresh.
			r.log.Debug("gap in deliveries: cached state dropped", "delivered", r.delivered, "seq", seq, "floor", r.floor)
			r.forget()
		}
		r.delivered = max(r.delivered, seq)
		rec, err := eventstore.DecodeRecord(m.Subject(), seq, meta.Timestamp, m.Headers(), m.Data())
		if err != nil {
			if perr := r.park(ctx, seq, m.Subject(), err); perr != nil {
				return perr
			}
			poison = append(poison, m)
			continue
		}
		if err := r.fold(ctx, rec, d); err != nil {
			return fmt.Errorf("fold %d: %w", seq, err)
		}
	}
	if err := r.flush(ctx, d); err != nil {
		return fmt.Errorf("write batch ending at %d: %w", last, err)
	}
	// Progress is the floor: every event up to it is folded and written.
	// A batch that continues it in order raises it before the acks; one
	// that does not (redeliveries after a handover) is acked first, then
	// the floor is read back from the consumer.
	before := r.floor
	inOrder := r.raiseFloor(seqs)
	if inOrder && r.floor > before {
		if err := r.recordProgress(ctx, r.floor); err != nil {
			return err
		}
	}
	for i, m := range batch {
		var err error
		switch {
		case containsMsg(poison, m):
			err = m.Term() // parked: never redeliver
		case (!inOrder || r.delivered > r.floor) && i == len(batch)-1:
			err = m.DoubleAck(ctx) // acks are handled in order: all of the batch's are in
		default:
			err = m.Ack()
		}
		if err != nil {
			return err
		}
	}
	// Events above the floor were folded (here, or elsewhere and acked):
	// the consumer's ack floor tells how far the floor can move now.
	if !inOrder || r.delivered > r.floor {
		if err := r.syncFloor(ctx); err != nil {
			return err
		}
	}
	r.lastFolded.Store(int64(r.floor))
	return nil
}

// syncFloor raises the floor to the consumer's ack floor and records the
// progress when it moved.
func (r *runner) syncFloor(ctx context.Context) error {
	info, err := r.cons.Info(ctx)
	if err != nil {
		return err
	}
	if info.AckFloor.Stream <= r.floor {
		return nil
	}
	r.log.Debug("floor raised to the consumer's ack floor", "from", r.floor, "to", info.AckFloor.Stream, "delivered", r.delivered)
	r.floor = info.AckFloor.Stream
	r.lastFolded.Store(int64(r.floor))
	return r.recordProgress(ctx, r.floor)
}

// raiseFloor moves the floor past a batch this runner is about to ack and
// reports whether the batch continued the floor without a hole.
func (r *runner) raiseFloor(seqs []uint64) bool {
	slices.Sort(seqs)
	for _, seq := range seqs {
		switch {
		case seq <= r.floor:
		case seq == r.floor+1:
			r.floor = seq
		default:
			return false
		}
	}
	return true
}

func containsMsg(list []jetstream.Msg, m jetstream.Msg) bool {
	for _, x := range list {
		if x == m {
			return true
		}
	}
	return false
}

// park records an event the projection cannot fold.
func (r *runner) park(ctx context.Context, seq uint64, subject string, reason error) error {
	r.parked.Add(1)
	r.log.Error("parked an event it cannot fold", "seq", seq, "subject", subject, "reason", reason)
	key := contract.MetaParkedPrefix + r.p.Key(r.cfg.Version) + "." + strconv.FormatUint(seq, 10)
	var revs revisions
	return r.put(ctx, contract.BucketMeta, key,
		contract.ParkedRecord{Projection: r.p.Name, Sequence: seq, Subject: subject, Reason: reason.Error(), Seq: seq}, seq, &revs)
}

func (r *runner) recordProgress(ctx context.Context, last uint64) error {
	rec := contract.ProgressRecord{Projection: r.p.Key(r.cfg.Version), LastFolded: last, Parked: r.parked.Load(),
		Partitions: r.p.Partitions, At: time.Now().UTC(), Seq: last}
	return r.put(ctx, contract.BucketMeta, contract.MetaProgressPrefix+r.p.Key(r.cfg.Version), rec, last, &r.metaRevs)
}

func (r *runner) logLag(ctx context.Context, cons jetstream.Consumer) {
	info, err := cons.Info(ctx)
	if err != nil {
		r.log.Warn("consumer info", "err", err)
		return
	}
	if info.AckFloor.Stream > r.floor && r.cons != nil {
		if err := r.syncFloor(ctx); err != nil {
			r.log.Warn("progress", "err", err)
		}
	}
	threads, bytes := r.threads.Len()
	r.log.Info("projection", "last_folded", r.lastFolded.Load(), "pending", info.NumPending,
		"ack_pending", info.NumAckPending, "parked", r.parked.Load(), "cached_threads", threads, "cached_bytes", bytes)
}
