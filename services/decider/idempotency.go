package decider

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Idempotency: one command_id names one command.
//
//   - A retry (same id, same body) appends nothing and gets the original
//     reply with duplicate=true: from the receipts of the aggregate it works
//     on (answerRetry), which outlive the stream's duplicate window; and
//     when the stream refuses the append as a duplicate (Nats-Msg-Id) but
//     the receipt is not visible yet, from a read-back (readBack).
//   - The same id with another body on the same aggregate is told apart by
//     the receipt's hash: command_id_reused.
//   - The same id on another aggregate (thread.create X, then project.create
//     X) has no receipt where the second command looks. Before a command's
//     first append the decider claims its id in BucketCommandIDs for the
//     aggregates it works on (claim); a claim held for others is
//     command_id_reused, within the duplicate window and after it. An id
//     the decider assigned itself (a new random UUID) needs no claim.

// errCommandIDReused is a command id seen before with a different body.
var errCommandIDReused = &domain.DeciderError{Code: contract.CodeCommandIDReused,
	Message: "this command_id was used before with a different command"}

// errCommandIDUsedElsewhere is a command id used before on other aggregates.
var errCommandIDUsedElsewhere = &domain.DeciderError{Code: contract.CodeCommandIDReused,
	Message: "this command_id was used before for a command on another aggregate"}

// answerRetry answers cmd from the receipts of primary when it was stored
// before: the original reply as a duplicate, or errCommandIDReused when the
// id was stored with another body. ok is false when primary has no receipt
// of it.
func answerRetry(primary *aggregate, cmd domain.Command, hash string) (reply contract.CommandReply, answered bool, err error) {
	rc, seen := primary.receipts.get(cmd.CommandIdentity())
	if !seen {
		return contract.CommandReply{}, false, nil
	}
	if rc.hash != hash {
		return contract.CommandReply{}, true, errCommandIDReused
	}
	return replyFor(cmd, rc.events, true), true, nil
}

// readBack answers a command whose append was refused as a duplicate with
// the receipt of the original append, catching up a few times while it is
// not visible yet. A receipt under another body is a reused id; no receipt
// at all is not an answer (ErrUnsettled: retry).
func (s *Service) readBack(ctx context.Context, primary *aggregate, cmd domain.Command, hash string) (contract.CommandReply, error) {
	for attempt := range readBackAttempts {
		if attempt > 0 {
			if err := readBackPause.Wait(ctx, attempt); err != nil {
				return contract.CommandReply{}, err
			}
		}
		if err := primary.catchUp(ctx, s.store); err != nil {
			return contract.CommandReply{}, err
		}
		if reply, answered, err := answerRetry(primary, cmd, hash); answered {
			return reply, err
		}
	}
	return contract.CommandReply{}, eventstore.ErrUnsettled
}

// A read-back tries readBackAttempts times, pausing 50 ms doubling to
// 200 ms in between (about half a second in all): replicas apply an append
// within milliseconds.
const readBackAttempts = 5

var readBackPause = retry.Policy{First: 50 * time.Millisecond, Max: 200 * time.Millisecond}

// claim records that cmd's id belongs to the aggregates cmd works on
// (locks, its lock keys, which every attempt of the same command shares), or
// finds that it already does. An id held for other aggregates is
// errCommandIDUsedElsewhere. A claim whose append then fails (or never
// happens: a rejection, a crash) stays: a retry of the same command finds
// its own claim and goes on.
func (s *Service) claim(ctx context.Context, cmd domain.Command, locks []string) error {
	ids, err := s.commandIDBucket(ctx)
	if err != nil {
		return err
	}
	want := strings.Join(locks, " ")
	id := cmd.CommandIdentity()
	for range 3 {
		s.kvRequests.Add(1)
		_, err := ids.Create(ctx, id, []byte(want))
		if err == nil {
			return nil
		}
		if !errors.Is(err, jetstream.ErrKeyExists) {
			return fmt.Errorf("claim command_id %s: %w", id, err)
		}
		s.kvRequests.Add(1)
		entry, err := ids.Get(ctx, id)
		if errors.Is(err, jetstream.ErrKeyNotFound) {
			continue // expired between the two calls: claim again
		}
		if err != nil {
			return fmt.Errorf("read the claim of command_id %s: %w", id, err)
		}
		if string(entry.Value()) != want {
			return errCommandIDUsedElsewhere
		}
		return nil
	}
	return fmt.Errorf("claim command_id %s: %w", id, eventstore.ErrUnsettled)
}
