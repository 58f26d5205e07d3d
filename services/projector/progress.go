package projector

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// progressWriter keeps a projection's progress record (peon_meta
// progress.<projection>): how far it has folded, how many events it
// parked, and whether it is degraded. Every write is a read-modify-write
// on the record's revision, so what another instance recorded (a handover)
// is merged, never overwritten: the floor never moves back, and a mark of
// progress past the stream's end stays.
type progressWriter struct {
	kv         jetstream.KeyValue
	key        string
	projection string
	partitions int

	// rec and rev are the record as last read or written (rev 0: none
	// yet); reset to unknown when another writer is found.
	rec   contract.ProgressRecord
	rev   uint64
	known bool
}

// load reads the record as it stands.
func (w *progressWriter) load(ctx context.Context) (contract.ProgressRecord, error) {
	e, err := w.kv.Get(ctx, w.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		w.rec, w.rev = contract.ProgressRecord{}, 0
	case err != nil:
		return contract.ProgressRecord{}, err
	default:
		var rec contract.ProgressRecord
		if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
			return rec, fmt.Errorf("progress record %s: %w", w.key, err)
		}
		w.rec, w.rev = rec, e.Revision()
	}
	w.known = true
	return w.rec, nil
}

// degraded reports whether the record says the projection is degraded (a
// reason the next write clears).
func (w *progressWriter) degraded() bool { return w.known && w.rec.Degraded != "" }

// record writes that every event up to floor is folded and written, with
// the parked count, and clears the degraded reason.
func (w *progressWriter) record(ctx context.Context, floor uint64, parked int64) error {
	return w.update(ctx, func(rec *contract.ProgressRecord) {
		rec.LastFolded, rec.Seq = max(rec.LastFolded, floor), max(rec.Seq, floor)
		rec.Parked = parked
		if !rec.PastStreamEnd {
			rec.Degraded = "" // it writes again; a mark of progress past the stream's end stays
		}
	})
}

// degrade records why the projection cannot go on, leaving its progress.
func (w *progressWriter) degrade(ctx context.Context, reason string) error {
	const maxReason = 1 << 10 // a reason is a message, not a payload
	if len(reason) > maxReason {
		reason = reason[:maxReason]
	}
	return w.update(ctx, func(rec *contract.ProgressRecord) {
		if !rec.PastStreamEnd {
			rec.Degraded = reason
		}
	})
}

// markPastStreamEnd records that the progress is past the stream's end.
func (w *progressWriter) markPastStreamEnd(ctx context.Context, streamLast uint64) error {
	return w.update(ctx, func(rec *contract.ProgressRecord) {
		rec.PastStreamEnd = true
		rec.Degraded = fmt.Sprintf("progress %d is past the stream's end %d: the read model was not folded from this stream; rebuild it",
			rec.LastFolded, streamLast)
	})
}

// update applies change to the record and writes it, compare-and-set on
// its revision, reading it again when another writer got there first.
func (w *progressWriter) update(ctx context.Context, change func(*contract.ProgressRecord)) error {
	for range 10 {
		if !w.known {
			if _, err := w.load(ctx); err != nil {
				return err
			}
		}
		rec := w.rec
		change(&rec)
		rec.Projection, rec.Partitions, rec.At = w.projection, w.partitions, time.Now().UTC()
		value, err := domain.Marshal(domain.MessagePack, rec)
		if err != nil {
			return err
		}
		var rev uint64
		if w.rev == 0 {
			rev, err = w.kv.Create(ctx, w.key, value)
		} else {
			rev, err = w.kv.Update(ctx, w.key, value, w.rev)
		}
		if err == nil {
			w.rec, w.rev = rec, rev
			return nil
		}
		if !isWrongRevision(err) {
			return err
		}
		w.known = false // another instance wrote: merge with what it wrote
	}
	return errors.New("projector: progress record " + w.key + " keeps changing under the projection")
}
