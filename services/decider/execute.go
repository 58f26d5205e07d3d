package decider

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// ErrContention means the decide–append loop ran out of attempts because
// other writers kept appending to the same aggregates.
var ErrContention = microreply.ErrContention

// state is what one attempt decides on.
type state struct {
	model *domain.Model
	// primary is the aggregate whose receipts answer a retry and into which
	// the appended events are folded.
	primary *aggregate
	// expectFilter/expectSeq: the optimistic-concurrency expectation.
	expectFilter string
	expectSeq    uint64
	// fresh says the state was read from the stream during this attempt,
	// not served from the cache as it was.
	fresh bool
	// reads, when set, are what the state was read from, each with the
	// last sequence it held: a rejection stands only if the leader has
	// nothing newer under any of them (else under the expectation). A
	// state composed of several reads needs it, as each read may have been
	// served by another replica.
	reads []readMark
}

// readMark is one read a state was composed of.
type readMark struct {
	filter string
	seq    uint64
}

// Execute decides one command and appends its events. It is what the
// command endpoints call after decoding; tests and the embedded dev mode may
// call it directly.
//
// The write path, step by step:
//
//  1. prepare: fill in the ids, find the command's boundary, check the ids
//     that name its aggregates, take their locks (prepareCommand);
//  2. read the state it is decided on (the boundary's prepare);
//  3. answer a retry from the aggregate's receipts (answerRetry);
//  4. decide (domain.Decide);
//  5. confirm a rejection or a no-op, which no append guards, on state as
//     new as the stream leader's (confirm);
//  6. append under the expectation, after claiming the command id
//     (appendEvents).
//
// Two budgets bound the loop, each with its own answer: MaxAttempts appends
// refused by a conflicting writer (then contention), and StaleReadRetries
// reads found behind the stream's leader while confirming a rejection
// (then unavailable).
func (s *Service) Execute(ctx context.Context, cmd domain.Command) (contract.CommandReply, error) {
	w, err := s.prepareCommand(cmd)
	if err != nil {
		return contract.CommandReply{}, err
	}
	defer w.unlock()
	// An id this instance just assigned (a random UUID) was never used by
	// anyone: it needs no claim.
	claimed := w.assignedID
	fresh, conflicts, stale := false, 0, 0
	for {
		st, err := w.bound.prepare(s, ctx, w.ids, fresh)
		if err != nil {
			return contract.CommandReply{}, err
		}
		if reply, answered, err := answerRetry(st.primary, w.cmd, w.hash); answered {
			return reply, err
		}
		events, err := domain.Decide(w.cmd, st.model)
		if err != nil || len(events) == 0 {
			v, cerr := s.confirm(ctx, st, &stale)
			switch {
			case cerr != nil:
				return contract.CommandReply{}, cerr
			case v == readAgainFresh:
				fresh = true
				continue
			case v == readAgain:
				continue
			case err != nil:
				return contract.CommandReply{}, err
			}
			r := replyFor(w.cmd, nil, false)
			r.LastSequence = st.primary.lastSeq
			return r, nil
		}
		if !claimed {
			if err := s.claim(ctx, w.cmd, w.locks); err != nil {
				return contract.CommandReply{}, err
			}
			claimed = true
		}
		reply, err := s.appendEvents(ctx, w, st, events)
		if !errors.Is(err, eventstore.ErrConflict) {
			return reply, err
		}
		// Another writer got there first: catch up and decide again.
		s.conflicts.Add(1)
		conflicts++
		if conflicts >= s.cfg.MaxAttempts {
			return contract.CommandReply{}, fmt.Errorf("%w: %d appends refused by conflicting writers", ErrContention, conflicts)
		}
		fresh = true
		if err := conflictBackoff.Wait(ctx, conflicts); err != nil {
			return contract.CommandReply{}, err
		}
	}
}

// work is one command on its way through the write path.
type work struct {
	cmd   domain.Command
	bound boundary
	ids   addressed
	locks []string
	hash  string
	// assignedID says the command came without an id and got a new one.
	assignedID bool
	// unlock releases the locks, in reverse order.
	unlock func()
}

// prepareCommand fills in the command's ids, finds its boundary, checks
// the ids that name its aggregates and takes their locks.
func (s *Service) prepareCommand(cmd domain.Command) (work, error) {
	assigned := cmd.CommandIdentity() == ""
	cmd = fill(cmd)
	_, bound, ids, err := boundaryOf(cmd)
	if err != nil {
		return work{}, err
	}
	w := work{cmd: cmd, bound: bound, ids: ids, locks: bound.locks(ids), hash: commandHash(cmd), assignedID: assigned}
	unlocks := make([]func(), 0, len(w.locks))
	for _, key := range w.locks {
		unlocks = append(unlocks, s.locks.lock(key))
	}
	w.unlock = func() {
		for i := len(unlocks) - 1; i >= 0; i-- {
			unlocks[i]()
		}
	}
	return w, nil
}

// verdict is what confirm found.
type verdict int

const (
	// confirmed: the state decided on is current; the answer stands.
	confirmed verdict = iota
	// readAgainFresh: the state came from the cache; read it from the stream.
	readAgainFresh
	// readAgain: the read was served by a replica behind the leader.
	readAgain
)

// confirm checks the state a rejection (or a no-op) was decided on: no
// append guards such an answer. State served from the cache may be behind
// another instance's writes, so it is read again from the stream. State
// just read from the stream must have every event the stream's leader
// holds under the expectation filter, else it is read again after a pause,
// at most StaleReadRetries times; past that the answer is unavailable
// (ErrUnsettled), never a possibly wrong rejection. stale counts those
// retries for the command.
func (s *Service) confirm(ctx context.Context, st state, stale *int) (verdict, error) {
	if !st.fresh {
		return readAgainFresh, nil
	}
	current, err := s.readWasCurrent(ctx, st)
	if err != nil {
		return confirmed, err
	}
	if current {
		return confirmed, nil
	}
	*stale++
	if *stale > s.cfg.StaleReadRetries {
		return confirmed, fmt.Errorf("%w: the state read was behind the stream's leader %d times", eventstore.ErrUnsettled, *stale)
	}
	if err := staleReadPause.Wait(ctx, *stale); err != nil {
		return confirmed, err
	}
	return readAgain, nil
}

// appendEvents stores the events of one decision under the state's
// expectation and answers with them. ErrConflict means another writer
// appended first (decide again); a duplicate append is answered from the
// original's receipt.
func (s *Service) appendEvents(ctx context.Context, w work, st state, events []domain.Event) (contract.CommandReply, error) {
	batch := eventstore.Batch{
		CommandID: w.cmd.CommandIdentity(), CommandHash: w.hash, Events: events,
		Subjects:     subjectsOf(events, st),
		ExpectFilter: st.expectFilter, ExpectLastSeq: st.expectSeq,
	}
	appended, err := s.committer.Append(ctx, batch)
	switch {
	case err == nil:
		refs := s.foldAppended(st.primary, batch, appended)
		return replyFor(w.cmd, refs, false), nil
	case errors.Is(err, eventstore.ErrConflict):
		return contract.CommandReply{}, err
	case errors.Is(err, eventstore.ErrDuplicate):
		// Stored before, maybe by another instance: the receipt shows up
		// once caught up — though reads may be served by a replica that
		// has not applied it yet, so a missing receipt is not proof the
		// id belongs to another command: that answer must be definite.
		return s.readBack(ctx, st.primary, w.cmd, w.hash)
	default:
		s.cache.Remove(st.primary.key) // its state may be behind what was stored
		return contract.CommandReply{}, err
	}
}

// The pauses of the write path (internal/retry).
var (
	// conflictBackoff spreads out writers that keep conflicting on an
	// aggregate: 0.4 ms doubling to 12.8 ms, jittered.
	conflictBackoff = retry.Policy{First: 400 * time.Microsecond, Max: 12800 * time.Microsecond, Jitter: true}
	// staleReadPause is the pause before reading again after a replica
	// answered behind the leader (replicas apply within milliseconds).
	staleReadPause = retry.Policy{First: 20 * time.Millisecond, Max: 20 * time.Millisecond}
)

// readWasCurrent reports whether the state st was decided on had every event
// the stream's leader holds under st's expectation filter.
func (s *Service) readWasCurrent(ctx context.Context, st state) (bool, error) {
	reads := st.reads
	if len(reads) == 0 {
		reads = []readMark{{st.expectFilter, st.expectSeq}}
	}
	for _, r := range reads {
		leader, err := s.store.LeaderLastSequence(ctx, r.filter)
		if err != nil {
			return false, err
		}
		if r.seq < leader {
			return false, nil
		}
	}
	return true, nil
}

// foldAppended folds what was just stored into the primary aggregate, so the
// next command on it needs no reload. The decider's models never read time,
// so the local clock stands in for the server timestamp here.
func (s *Service) foldAppended(primary *aggregate, b eventstore.Batch, a eventstore.Appended) []contract.EventRef {
	refs := make([]contract.EventRef, len(b.Events))
	now := time.Now()
	for i, e := range b.Events {
		seq := a.First + uint64(i)
		refs[i] = contract.EventRef{Sequence: seq, Type: e.EventType()}
		if primary.cached {
			primary.fold(eventstore.Record{
				StoredEvent: domain.StoredEvent{Sequence: seq, Event: e, StoredAt: now},
				Subject:     b.Subjects[i], CommandID: b.CommandID, CommandHash: b.CommandHash,
				Size: a.Sizes[i],
			})
		}
	}
	if primary.cached {
		s.cache.Put(primary.key, primary)
	}
	return refs
}

// subjectsOf places each event on its aggregate's subject.
func subjectsOf(events []domain.Event, st state) []string {
	subjects := make([]string, len(events))
	for i, e := range events {
		switch ev := e.(type) {
		case domain.ProjectEvent:
			subjects[i] = contract.ProjectSubject(ev.EventProjectID())
		case domain.ThreadCreated:
			subjects[i] = contract.ThreadSubject(ev.ProjectID, ev.ThreadID)
		case domain.ThreadEvent:
			project := st.primary.projectID
			if t, ok := st.model.Threads[ev.EventThreadID()]; ok {
				project = t.ProjectID
			}
			subjects[i] = contract.ThreadSubject(project, ev.EventThreadID())
		}
	}
	return subjects
}
