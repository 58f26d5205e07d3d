package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
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

	// ledger is what is folded and written (see ledger); it belongs to
	// the consuming goroutine, like progress.
	ledger   ledger
	progress progressWriter
	cons     jetstream.Consumer

	// lastMapped serves a split transcript (split.go).
	lastMapped struct{ split, event uint64 }

	lastFolded, parked, loads, failures atomic.Int64
}

func newRunner(p readmodel.Projection, cfg Config, js jetstream.JetStream, kv map[string]jetstream.KeyValue, log *slog.Logger) *runner {
	r := &runner{
		p: p, cfg: cfg, js: js, store: eventstore.New(js), kv: kv,
		log:      log.With("projection", p.Key(cfg.Version)),
		buckets:  readmodel.BucketsV(cfg.Version),
		threads:  lru.New[*threadAgg](cfg.CacheEntries, cfg.CacheBytes),
		projects: lru.New[*projectEntry](cfg.CacheEntries, cfg.CacheBytes/8),
	}
	r.progress = progressWriter{kv: kv[contract.BucketMeta], key: contract.MetaProgressPrefix + p.Key(cfg.Version),
		projection: p.Key(cfg.Version), partitions: p.Partitions}
	return r
}

// run consumes until ctx is done. A batch that fails is given back
// (nak'ed), the in-memory state is dropped, and consumption restarts from
// the consumer's ack floor: order per aggregate is never broken. Every
// failure is logged, counted, and recorded in the projection's progress
// as the reason it is degraded, until a batch is written again. A failure
// no retry can mend (the consumer or a bucket is gone) ends run with it.
func (r *runner) run(ctx context.Context, cons jetstream.Consumer) error {
	for {
		err := r.consume(ctx, cons)
		if ctx.Err() != nil {
			return nil
		}
		n := r.failures.Add(1)
		if permanent(err) && r.consumerGone(ctx, cons) {
			r.log.Error("projection stops: its consumer or buckets are gone", "err", err)
			return fmt.Errorf("projection %s: %w", r.p.Key(r.cfg.Version), err)
		}
		r.log.Error("projection failed a batch; it is given back and consumed again", "err", err, "failures", n)
		if derr := r.progress.degrade(ctx, err.Error()); derr != nil {
			r.log.Error("recording the projection degraded", "err", derr)
		}
		r.forget()
		r.metaRevs = revisions{}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(r.cfg.RetryDelay):
		}
	}
}

// consumerGone asks the server again whether the consumer exists: a
// cluster electing a new consumer leader can say "not found" for a moment.
func (r *runner) consumerGone(ctx context.Context, cons jetstream.Consumer) bool {
	_, err := cons.Info(ctx)
	return permanent(err)
}

// permanent reports whether a consume failure cannot be mended by trying
// again: what the projection reads or writes no longer exists (a `peon
// setup` is needed).
func permanent(err error) bool {
	return errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrConsumerDeleted) ||
		errors.Is(err, jetstream.ErrBucketNotFound) || errors.Is(err, jetstream.ErrStreamNotFound)
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
	ackDelivery, ackEvent, err := r.ackFloor(ctx, info)
	if err != nil {
		return err
	}
	r.ledger.acked(ackDelivery, ackEvent)
	r.log.Debug("consuming", "ack_delivery", ackDelivery, "ack_event", ackEvent, "floor", r.ledger.floor,
		"delivered", r.ledger.delivered, "last_delivery", r.ledger.lastDelivery, "chain", r.ledger.chain, "chain_known", r.ledger.chainKnown)
	if err := r.resume(ctx); err != nil {
		return err
	}
	incoming := make(chan jetstream.Msg, 2*r.cfg.BatchSize)
	// The client reports what goes wrong with the pull only to this
	// handler and goes on trying; a consumer that is gone is the end of
	// this consumption, and must not pass for a quiet stream.
	gone := make(chan error, 1)
	onErr := jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
		if permanent(err) {
			select {
			case gone <- err:
			default:
			}
		}
	})
	cc, err := cons.Consume(func(m jetstream.Msg) { incoming <- m }, r.consumeOptions(onErr)...)
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
		if err := handover.Unpin(hctx, r.js, r.p.Stream(r.cfg.Version), r.p.ConsumerName(r.cfg.Version), readmodel.PriorityGroup); err != nil {
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
			if r.ledger.behind() {
				if err := r.syncFloor(ctx); err != nil {
					return err
				}
			} else if r.p.Split() && len(incoming) == 0 {
				// An idle check: one that fails (a leader election) is
				// tried again at the next tick, not a reason to restart
				// consuming and drop the caches.
				if err := r.keepPace(ctx); err != nil {
					r.log.Warn("keeping pace with the stream", "err", err)
				}
			}
			continue
		case err := <-gone:
			return fmt.Errorf("consume %s: %w", r.p.ConsumerName(r.cfg.Version), err)
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
	parked := false
	positions := make([]position, 0, len(batch))
	for _, m := range batch {
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		seq, subject, err := r.eventAt(m, meta)
		if err != nil {
			return err
		}
		last = seq
		at := position{stream: seq, delivery: meta.Sequence.Consumer, first: meta.NumDelivered == 1}
		positions = append(positions, at)
		dl := r.ledger.deliver(at)
		if dl.gap {
			// Another instance folded what lies between, so what this one
			// has cached may be behind the buckets. Fold afresh.
			r.log.Debug("gap in deliveries: cached state dropped", "seq", seq, "floor", r.ledger.floor)
			r.forget()
		}
		rec, err := eventstore.DecodeRecord(subject, seq, meta.Timestamp, m.Headers(), m.Data())
		if err != nil {
			if perr := r.park(ctx, seq, subject, err); perr != nil {
				return perr
			}
			poison = append(poison, m)
			parked = true
			continue
		}
		if err := r.fold(ctx, rec, d, dl); err != nil {
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
	before := r.ledger.floor
	inOrder := r.ledger.raise(positions)
	if r.log.Enabled(ctx, slog.LevelDebug) {
		r.log.Debug("batch folded", "positions", describePositions(positions), "in_order", inOrder,
			"floor_before", before, "floor", r.ledger.floor, "delivered", r.ledger.delivered, "chain", r.ledger.chain, "chain_known", r.ledger.chainKnown)
	}
	if inOrder && (r.ledger.floor > before || parked || r.progress.degraded()) {
		if err := r.recordProgress(ctx); err != nil {
			return err
		}
	}
	for i, m := range batch {
		var err error
		switch {
		case slices.Contains(poison, m):
			err = m.Term() // parked: never redeliver
		case (!inOrder || r.ledger.behind()) && i == len(batch)-1:
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
	if !inOrder || r.ledger.behind() {
		if err := r.syncFloor(ctx); err != nil {
			return err
		}
	}
	r.lastFolded.Store(int64(r.ledger.floor))
	return nil
}

// syncFloor raises the floor to the consumer's ack floor and records the
// progress when it moved. Another instance may have folded up to it (a
// handover), and parked events on the way: the count is taken again.
func (r *runner) syncFloor(ctx context.Context) error {
	info, err := r.cons.Info(ctx)
	if err != nil {
		return err
	}
	from := r.ledger.floor
	ackDelivery, ackEvent, err := r.ackFloor(ctx, info)
	if err != nil {
		return err
	}
	if !r.ledger.acked(ackDelivery, ackEvent) {
		return nil
	}
	r.log.Debug("floor raised to the consumer's ack floor", "from", from, "to", r.ledger.floor, "delivered", r.ledger.delivered,
		"ack_delivery", ackDelivery, "chain", r.ledger.chain, "chain_known", r.ledger.chainKnown)
	r.lastFolded.Store(int64(r.ledger.floor))
	if err := r.countParked(ctx); err != nil {
		return err
	}
	return r.recordProgress(ctx)
}

// keepPace raises a transcript partition's floor while its threads are
// quiet: its consumer sees only its share of the stream, so without this
// its progress would stand at its last own event, and a read asking for a
// later sequence (or a rebuild waiting for the stream's end) would wait
// for the next event of one of its threads. When every event the
// consumer delivered is acked, and the split stream's leader (asked last,
// so it knows at least what the consumer's leader knew) holds none of the
// partition's events after the last delivered one, every event of the
// partition up to the stream's last is folded. The consumer's own
// pending count would not do: its leader may not hold the newest
// messages yet, and counts nothing for them.
func (r *runner) keepPace(ctx context.Context) error {
	info, err := r.cons.Info(ctx)
	if err != nil || info.NumAckPending != 0 {
		return err
	}
	last, err := r.leaderGet(ctx, map[string]any{"last_by_subj": readmodel.SplitSubjects})
	if err != nil || last == nil {
		return err // nothing sourced yet
	}
	if last.seq > info.Delivered.Stream {
		next, err := r.leaderGet(ctx, map[string]any{"seq": info.Delivered.Stream + 1, "next_by_subj": readmodel.SplitFilter(r.p.Partition)})
		if err != nil || next != nil {
			return err // one of its own events is on its way
		}
	}
	if !r.ledger.idle(last.event) {
		return nil
	}
	r.lastFolded.Store(int64(r.ledger.floor))
	return r.recordProgress(ctx)
}

// resume takes up the projection where its progress record stands, when
// the runner starts consuming (at start, after a failure, on taking over
// from another instance): the parked events are counted from their
// records, so the count survives restarts and handovers, and progress past
// the stream's end is caught.
func (r *runner) resume(ctx context.Context) error {
	rec, err := r.progress.load(ctx)
	if err != nil {
		return err
	}
	if err := r.countParked(ctx); err != nil {
		return err
	}
	r.lastFolded.Store(int64(r.ledger.floor))
	// js.Stream fetches the stream's info: CachedInfo is that answer.
	stream, err := r.js.Stream(ctx, contract.EventStream)
	if err != nil {
		return err
	}
	info := stream.CachedInfo()
	if rec.PastStreamEnd {
		return nil
	}
	if rec.LastFolded <= info.State.LastSeq {
		// A partition's consumer can be younger than its progress (moved to
		// the split stream by an upgrade): what the record says is folded
		// is, and is skipped.
		if r.p.Split() && r.ledger.recorded(rec.LastFolded) {
			r.lastFolded.Store(int64(r.ledger.floor))
		}
		return nil
	}
	// The read model was folded from events this stream does not hold
	// (two servers on one data directory, a stream recreated under an
	// old read model): what it says about sequences cannot be trusted
	// until it is rebuilt from this stream. Queries refuse min_sequence
	// on it; the mark stays on this version's progress for good.
	r.log.Error("projection progress is past the stream's end: rebuild the read model",
		"last_folded", rec.LastFolded, "stream_last", info.State.LastSeq)
	return r.progress.markPastStreamEnd(ctx, info.State.LastSeq)
}

// park records an event the projection cannot fold. Each is counted once,
// from its record, however often it is delivered.
func (r *runner) park(ctx context.Context, seq uint64, subject string, reason error) error {
	r.log.Error("parked an event it cannot fold", "seq", seq, "subject", subject, "reason", reason)
	var revs revisions
	rec := contract.ParkedRecord{Projection: r.p.Name, Sequence: seq, Subject: subject, Reason: reason.Error(), Seq: seq}
	if err := r.put(ctx, contract.BucketMeta, r.parkedPrefix()+strconv.FormatUint(seq, 10), rec, seq, &revs); err != nil {
		return err
	}
	return r.countParked(ctx)
}

func (r *runner) parkedPrefix() string {
	return contract.MetaParkedPrefix + r.p.Key(r.cfg.Version) + "."
}

// countParked counts the projection's parked records.
func (r *runner) countParked(ctx context.Context) error {
	keys, err := r.kv[contract.BucketMeta].ListKeysFiltered(ctx, r.parkedPrefix()+"*")
	if err != nil {
		return err
	}
	defer func() { _ = keys.Stop() }() // it stops by itself once every key is listed
	var n int64
	for range keys.Keys() {
		n++
	}
	r.parked.Store(n)
	return nil
}

// recordProgress writes the floor as the projection's progress, which
// also clears a degraded reason: the projection writes again.
func (r *runner) recordProgress(ctx context.Context) error {
	return r.progress.record(ctx, r.ledger.floor, r.parked.Load())
}

func (r *runner) logLag(ctx context.Context, cons jetstream.Consumer) {
	info, err := cons.Info(ctx)
	if err != nil {
		r.log.Warn("consumer info", "err", err)
		return
	}
	if _, acked, err := r.ackFloor(ctx, info); err == nil && acked > r.ledger.floor && r.cons != nil {
		if err := r.syncFloor(ctx); err != nil {
			r.log.Warn("progress", "err", err)
		}
	}
	threads, bytes := r.threads.Len()
	r.log.Info("projection", "last_folded", r.lastFolded.Load(), "pending", info.NumPending,
		"ack_pending", info.NumAckPending, "parked", r.parked.Load(), "cached_threads", threads, "cached_bytes", bytes)
}

// describePositions is a batch's positions for a debug line: stream
// sequence, delivery sequence, and "r" for a redelivery.
func describePositions(ps []position) string {
	var b strings.Builder
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%d@%d", p.stream, p.delivery)
		if !p.first {
			b.WriteByte('r')
		}
	}
	return b.String()
}
