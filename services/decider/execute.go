package decider

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/peonhq/peon/internal/ctxsleep"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/microreply"
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
}

// Execute decides one command and appends its events. It is what the
// command endpoints call after decoding; tests and the embedded dev mode may
// call it directly.
func (s *Service) Execute(ctx context.Context, cmd domain.Command) (contract.CommandReply, error) {
	cmd = fill(cmd)
	_, bound, ids, err := boundaryOf(cmd)
	if err != nil {
		return contract.CommandReply{}, err
	}
	hash := commandHash(cmd)
	locks := bound.locks(ids)
	for _, key := range locks {
		defer s.locks.lock(key)()
	}
	fresh, conflicted, stale, claimed := false, false, 0, false
	for attempt := range s.cfg.MaxAttempts + staleReadLimit {
		if conflicted {
			if err := backoff(ctx, attempt); err != nil {
				return contract.CommandReply{}, err
			}
		}
		st, err := bound.prepare(s, ctx, ids, fresh)
		if err != nil {
			return contract.CommandReply{}, err
		}
		if reply, answered, err := answerRetry(st.primary, cmd, hash); answered {
			return reply, err
		}
		events, err := domain.Decide(cmd, st.model)
		if (err != nil || len(events) == 0) && !st.fresh {
			// Appends are guarded by the expectation, but a rejection (or a
			// no-op) decided on cached state could be stale if another
			// instance wrote since: confirm it on caught-up state. State
			// just read from the stream needs no second look.
			fresh = true
			continue
		}
		if err != nil || len(events) == 0 {
			// A rejection or a no-op is an answer no append guards: make sure
			// the replica that served the read had everything the leader has.
			if current, cerr := s.readWasCurrent(ctx, st); cerr != nil {
				return contract.CommandReply{}, cerr
			} else if !current {
				stale++
				if stale == staleReadLimit {
					return contract.CommandReply{}, eventstore.ErrUnsettled
				}
				if err := ctxsleep.Sleep(ctx, 20*time.Millisecond); err != nil {
					return contract.CommandReply{}, err
				}
				continue
			}
		}
		if err != nil {
			return contract.CommandReply{}, err
		}
		if len(events) == 0 {
			r := replyFor(cmd, nil, false)
			r.LastSequence = st.primary.lastSeq
			return r, nil
		}
		if !claimed {
			if err := s.claim(ctx, cmd, locks); err != nil {
				return contract.CommandReply{}, err
			}
			claimed = true
		}
		batch := eventstore.Batch{
			CommandID: cmd.CommandIdentity(), CommandHash: hash, Events: events,
			Subjects:     subjectsOf(events, st),
			ExpectFilter: st.expectFilter, ExpectLastSeq: st.expectSeq,
		}
		appended, err := s.committer.Append(ctx, batch)
		switch {
		case err == nil:
			refs := s.foldAppended(st.primary, batch, appended)
			return replyFor(cmd, refs, false), nil
		case errors.Is(err, eventstore.ErrConflict):
			s.conflicts.Add(1)
			fresh, conflicted = true, true
			continue // another writer got there first: catch up and decide again
		case errors.Is(err, eventstore.ErrDuplicate):
			// Stored before, maybe by another instance: the receipt shows up
			// once caught up — though reads may be served by a replica that
			// has not applied it yet, so a missing receipt is not proof the
			// id belongs to another command: that answer must be definite.
			return s.readBack(ctx, st.primary, cmd, hash)
		default:
			s.cache.Remove(st.primary.key) // its state may be behind what was stored
			return contract.CommandReply{}, err
		}
	}
	return contract.CommandReply{}, fmt.Errorf("%w after %d attempts", ErrContention, s.cfg.MaxAttempts)
}

// staleReadLimit bounds how often a rejection is read again because the
// replica that served the read was behind the leader (about 20 ms apart);
// past it the answer is unavailable, never a possibly wrong rejection.
const staleReadLimit = 25

// readWasCurrent reports whether the state st was decided on had every event
// the stream's leader holds under st's expectation filter.
func (s *Service) readWasCurrent(ctx context.Context, st state) (bool, error) {
	leader, err := s.store.LeaderLastSequence(ctx, st.expectFilter)
	if err != nil {
		return false, err
	}
	return st.expectSeq >= leader, nil
}

// backoff waits a little, with jitter, before attempt n, so racing writers
// spread out instead of colliding again.
func backoff(ctx context.Context, n int) error {
	d := time.Duration(1<<min(n, 6)) * 200 * time.Microsecond
	return ctxsleep.Sleep(ctx, d/2+rand.N(d))
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
