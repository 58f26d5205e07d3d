package projector

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"golang.org/x/sync/errgroup"
)

// flush writes everything a batch changed, concurrently across keys. Keys
// a restore dropped are deleted first: a message made again under a
// dropped id is then written whole over nothing, never raced by the
// deletion of its old self.
func (r *runner) flush(ctx context.Context, d *dirty) error {
	if err := r.deleteDropped(ctx, d); err != nil {
		return err
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.WriteConcurrency)
	for id, p := range d.projects {
		state := projectRecord(*p.state)
		g.Go(func() error { return r.put(ctx, r.buckets.Projects, id, state, state.Seq, &p.revs) })
	}
	for id, a := range d.threads {
		t, ok := a.thread()
		if !ok {
			continue
		}
		value, err := domain.Marshal(domain.MessagePack, threadRecord(t)) // encode now: the fold owns t
		if err != nil {
			return err
		}
		seq := t.Seq
		g.Go(func() error { return r.putBytes(ctx, r.buckets.Threads, id, value, seq, &a.revs) })
	}
	for key, ref := range d.toolCalls {
		t, ok := ref.a.thread()
		if !ok {
			continue
		}
		c, ok := t.ToolCall(ref.id)
		if !ok {
			continue // dropped by a restore later in the batch
		}
		value, err := domain.Marshal(domain.MessagePack, c) // encode now: the fold owns c
		if err != nil {
			return err
		}
		seq, revs := c.Seq, &ref.a.revs
		g.Go(func() error { return r.putBytes(ctx, r.buckets.Threads, key, value, seq, revs) })
	}
	for key, a := range d.messages {
		t, ok := a.thread()
		if !ok {
			continue
		}
		_, id, _ := strings.Cut(key, ".")
		msg, ok := t.Message(id)
		if !ok {
			continue // dropped by a restore later in the batch
		}
		rec := messageRecord(msg)
		g.Go(func() error { return r.put(ctx, r.buckets.Messages, key, rec, rec.Seq, &a.revs) })
		// Segments before the one the last write ended in are final: only
		// the tail is rewritten as a message grows.
		from := max(a.segmentsWritten[key], 1)
		for n := from; n <= rec.Segments; n++ {
			seg := segment(msg, n)
			g.Go(func() error { return r.putSegment(ctx, contract.SegmentKey(a.id, id, n), seg, &a.revs) })
		}
		a.segmentsWritten[key] = rec.Segments
	}
	if d.selected != nil {
		sel := *d.selected
		g.Go(func() error {
			return r.put(ctx, contract.BucketMeta, contract.MetaSelectedThread, sel, sel.Seq, &r.metaRevs)
		})
	}
	return g.Wait()
}

// deleteDropped deletes the messages (with their segments) and tool calls
// a restore dropped.
func (r *runner) deleteDropped(ctx context.Context, d *dirty) error {
	if len(d.deleted) == 0 && len(d.deletedTools) == 0 {
		return nil
	}
	g, ctx := errgroup.WithContext(ctx)
	g.SetLimit(r.cfg.WriteConcurrency)
	for key, ref := range d.deletedTools {
		revs := &ref.a.revs
		g.Go(func() error {
			revs.forget(key)
			err := r.kv[r.buckets.Threads].Delete(ctx, key)
			if errors.Is(err, jetstream.ErrKeyNotFound) {
				return nil
			}
			return err
		})
	}
	for key, del := range d.deleted {
		a := del.a
		keys := []string{key}
		for n := 1; n <= del.segments; n++ {
			keys = append(keys, key+"/"+strconv.Itoa(n))
		}
		delete(a.segmentsWritten, key)
		if w, ok := d.messages[key]; ok {
			delete(w.segmentsWritten, key) // made again: every segment is new
		}
		for _, k := range keys {
			g.Go(func() error {
				a.revs.forget(k)
				err := r.kv[r.buckets.Messages].Delete(ctx, k)
				if errors.Is(err, jetstream.ErrKeyNotFound) {
					return nil
				}
				return err
			})
		}
	}
	return g.Wait()
}

func (r *runner) put(ctx context.Context, bucket, key string, v any, seq uint64, revs *revisions) error {
	value, err := domain.Marshal(domain.MessagePack, v)
	if err != nil {
		return err
	}
	return r.putBytes(ctx, bucket, key, value, seq, revs)
}

// putBytes writes value at key unless the key already holds a value stamped
// with seq or later. The write is a compare-and-set on the key's revision,
// so a stalled instance that wakes up can never overwrite newer state.
func (r *runner) putBytes(ctx context.Context, bucket, key string, value []byte, seq uint64, revs *revisions) error {
	return r.putGuarded(ctx, bucket, key, value, revs, func(stored []byte) bool {
		var cur seqOnly
		return domain.Unmarshal(domain.MessagePack, stored, &cur) == nil && cur.Seq >= seq
	})
}

// putSegment writes a message's text segment unless the key holds a
// longer text, or the same text stamped as new or newer (a message's text
// only grows, so a longer segment is a newer one).
func (r *runner) putSegment(ctx context.Context, key string, seg contract.MessageSegment, revs *revisions) error {
	value, err := domain.Marshal(domain.MessagePack, seg)
	if err != nil {
		return err
	}
	return r.putGuarded(ctx, r.buckets.Messages, key, value, revs, func(stored []byte) bool {
		var cur contract.MessageSegment
		if domain.Unmarshal(domain.MessagePack, stored, &cur) != nil {
			return false
		}
		return len(cur.Text) > len(seg.Text) || (len(cur.Text) == len(seg.Text) && cur.Seq >= seg.Seq)
	})
}

// putGuarded writes value at key, compare-and-set on the key's revision,
// unless holds says the value stored there is as new as value or newer.
func (r *runner) putGuarded(ctx context.Context, bucket, key string, value []byte, revs *revisions, holds func(stored []byte) bool) error {
	kv := r.kv[bucket]
	for attempt := range 5 {
		rev, known := revs.get(key)
		if !known && attempt == 0 {
			// Most keys a projection has not seen yet are new (a new message,
			// or every key of a rebuild): try to create first, and look only
			// when the key turns out to exist.
			if newRev, err := kv.Create(ctx, key, value); err == nil {
				revs.set(key, newRev)
				return nil
			} else if !isWrongRevision(err) {
				return err
			}
		}
		if !known {
			e, err := r.kvGet(ctx, bucket, key)
			if err != nil {
				return err
			}
			rev = 0
			if e != nil {
				if holds(e.Value()) {
					// Already there, or newer. The revision is not remembered:
					// a write known to follow it must be newer than what it
					// holds, and this state is not — its next write looks
					// again.
					return nil
				}
				rev = e.Revision()
			}
		}
		var err error
		if rev == 0 {
			rev, err = kv.Create(ctx, key, value)
		} else {
			rev, err = kv.Update(ctx, key, value, rev)
		}
		if err == nil {
			revs.set(key, rev)
			return nil
		}
		if !isWrongRevision(err) {
			return err
		}
		revs.forget(key) // someone else wrote: look again
	}
	return errors.New("projector: key " + key + " keeps changing under the projection")
}

// kvGet returns the entry at key, or nil when there is none.
func (r *runner) kvGet(ctx context.Context, bucket, key string) (jetstream.KeyValueEntry, error) {
	e, err := r.kv[bucket].Get(ctx, key)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return nil, nil
	}
	return e, err
}

func isWrongRevision(err error) bool {
	if errors.Is(err, jetstream.ErrKeyExists) {
		return true
	}
	var apiErr *jetstream.APIError
	return errors.As(err, &apiErr) && (apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequence ||
		apiErr.ErrorCode == jetstream.JSErrCodeStreamWrongLastSequenceConstant)
}
