package projector

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"sync"
	"time"

	"github.com/peonhq/peon/internal/ctxsleep"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// threadAgg is one thread folded from the stream, plus the revisions of the
// keys last written for it (so writes can be compare-and-set).
type threadAgg struct {
	id      string
	model   *domain.Model
	lastSeq uint64
	bytes   int64
	revs    revisions
	// segmentsWritten is, per message key, how many text segments beyond
	// the first the last write stored (unknown after a reload: all are
	// written again, harmlessly, as writes are idempotent).
	segmentsWritten map[string]int
}

func (a *threadAgg) Bytes() int64 { return a.bytes }

func (a *threadAgg) thread() (*domain.ThreadState, bool) {
	t, ok := a.model.Threads[a.id]
	return t, ok
}

// projectEntry is one project's record as last written.
type projectEntry struct {
	state *domain.ProjectState
	revs  revisions
}

func (p *projectEntry) Bytes() int64 { return int64(256 + 48*len(p.state.ThreadIDs)) }

// revisions remembers KV revisions by key: absent means unknown, 0 means the
// key holds no value.
type revisions struct {
	mu sync.Mutex
	m  map[string]uint64
}

func (r *revisions) get(key string) (uint64, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	rev, ok := r.m[key]
	return rev, ok
}

func (r *revisions) set(key string, rev uint64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.m == nil {
		r.m = map[string]uint64{}
	}
	r.m[key] = rev
}

func (r *revisions) forget(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	delete(r.m, key)
}

// threadAt returns thread id's aggregate folded up to (not including)
// sequence seq: from the cache when it is there, else from the stream.
//
// Loaded events past the ack floor may never have been written: the
// instance that folded them may have died first, and they can come back
// after seq (redelivery is not in order across a handover), when they are
// skipped as already folded. So those events are applied through the
// writing path and their keys marked in d. Events at or below the floor
// were written before they were acked.
//
// created says the event at seq is the thread's ThreadCreated.
func (r *runner) threadAt(ctx context.Context, id string, seq uint64, created bool, d *dirty, keep bool) (*threadAgg, error) {
	if a, ok := r.threads.Get(id); ok {
		return a, nil
	}
	return untilCurrent(ctx, func() (*threadAgg, error) { return r.loadThread(ctx, id, seq, created, d, keep) })
}

// loadThread folds thread id's events before seq from the stream. It
// reads up to seq itself: a replica that has stored seq has stored every
// event before it, so seeing it proves the load complete; one that has not
// is ErrReplicaBehind.
func (r *runner) loadThread(ctx context.Context, id string, seq uint64, created bool, d *dirty, keep bool) (*threadAgg, error) {
	a := &threadAgg{id: id, model: domain.NewModel(), segmentsWritten: map[string]int{}}
	marks := newDirty()
	// Folding the history can move the selection (setSelection), whose
	// mark is in marks: an attempt that fails leaves it as it was, or the
	// next attempt would find it moved and mark nothing.
	selected, selectedKnown := r.selected, r.selectedKnown
	current := false
	load := r.store.LoadBefore
	if created {
		load = r.store.LoadBeforeFew // nothing of the thread comes before its creation
	}
	_, err := load(ctx, contract.ThreadFilter(id), 0, seq+1, func(rec eventstore.Record) error {
		if rec.Sequence == seq {
			current = true
			return nil // the caller folds it
		}
		if rec.Err != nil {
			return nil // parked when it was delivered
		}
		if e, ok := rec.Event.(domain.ThreadEvent); ok && !r.ledger.folded(rec.Sequence) {
			return r.apply(ctx, a, e, rec, marks, seq, keep)
		}
		a.bytes += int64(domain.ProjectMeasured(a.model, rec.StoredEvent, rec.Size))
		a.lastSeq = rec.Sequence
		return nil
	})
	if err == nil && !current {
		err = fmt.Errorf("thread %s up to %d: %w", id, seq, eventstore.ErrReplicaBehind)
	}
	if err != nil {
		r.threads.Remove(id)
		r.selected, r.selectedKnown = selected, selectedKnown
		return nil, err
	}
	d.merge(marks)
	r.loads.Add(1)
	r.log.Debug("thread loaded", "thread", id, "at", seq, "floor", r.ledger.floor, "delivered", r.ledger.delivered, "last", a.lastSeq,
		"rewritten_threads", len(marks.threads), "rewritten_messages", len(marks.messages))
	if !keep {
		return a, nil // folds a late event only: see fold
	}
	r.threads.Put(id, a)
	return a, nil
}

// projectAt returns project id's record folded up to (not including)
// sequence seq: from the cache, else from the stream (its own events and the
// ThreadCreated of each of its threads). Like threads, it never depends on
// what the buckets hold, so any instance folding any redelivery computes the
// same value. Nil when the project has no events before seq.
func (r *runner) projectAt(ctx context.Context, id string, seq uint64, keep bool) (*projectEntry, error) {
	if p, ok := r.projects.Get(id); ok {
		return p, nil
	}
	return untilCurrent(ctx, func() (*projectEntry, error) { return r.loadProject(ctx, id, seq, keep) })
}

// untilCurrent runs load until it is not answered by a replica still
// catching up (one that was frozen, cut off or restarted):
// ErrReplicaBehind is read again, 50 times, 100 ms apart.
func untilCurrent[T any](ctx context.Context, load func() (T, error)) (T, error) {
	for attempt := 0; ; attempt++ {
		v, err := load()
		if !errors.Is(err, eventstore.ErrReplicaBehind) || attempt == 50 {
			return v, err
		}
		if err := ctxsleep.Sleep(ctx, 100*time.Millisecond); err != nil {
			return v, err
		}
	}
}

// loadProject reads a project's record before seq from the stream. Its own
// events come from a replica; the leader's last sequence on the project's
// subject tells whether that replica had them all (when the project has no
// event at or after seq, which is the case but for late redeliveries, whose
// writes the sequence guard keeps from overwriting anything newer).
func (r *runner) loadProject(ctx context.Context, id string, seq uint64, keep bool) (*projectEntry, error) {
	var recs []eventstore.Record
	read, err := r.store.LoadBefore(ctx, contract.ProjectSubject(id), 0, seq, func(rec eventstore.Record) error {
		recs = append(recs, rec)
		return nil
	})
	if err != nil {
		return nil, err
	}
	leader, err := r.store.LeaderLastSequence(ctx, contract.ProjectSubject(id))
	if err != nil {
		return nil, err
	}
	if leader < seq && read < leader {
		return nil, fmt.Errorf("project %s: read up to %d, the leader has %d: %w", id, read, leader, eventstore.ErrReplicaBehind)
	}
	firsts, err := r.store.FirstEvents(ctx, contract.ProjectTreeFilter(id), seq)
	if err != nil {
		return nil, err
	}
	for _, rec := range firsts {
		if _, ok := rec.Event.(domain.ThreadCreated); ok {
			recs = append(recs, rec)
		}
	}
	sort.Slice(recs, func(i, j int) bool { return recs[i].Sequence < recs[j].Sequence })
	view := domain.NewModel()
	for _, rec := range recs {
		if rec.Err == nil {
			domain.Project(view, rec.StoredEvent)
		}
	}
	r.loads.Add(1)
	state, ok := view.Projects[id]
	if !ok {
		return nil, nil
	}
	p := &projectEntry{state: state}
	if keep {
		r.projects.Put(id, p)
	}
	return p, nil
}
