package query

import (
	"context"
	"errors"
	"fmt"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
)

// errPageFull ends a stream read once a page is complete.
var errPageFull = errors.New("page full")

// eventsSince answers a page of the stream. A message that holds no event
// this build can decode (a poison message: anyone with publish rights on
// peon.evt.> can store one) is answered as an undecodable entry with its
// sequence, subject and the decoding error, and an event too large for a
// reply (its JSON form can outgrow the stored one) as a too_large entry:
// the reader sees every sequence and can move past either.
func (s *Service) eventsSince(ctx context.Context, rq request, r contract.EventsSince) (any, error) {
	limit, err := pageLimit(r.Limit, defaultLimit)
	if err != nil {
		return nil, err
	}
	if err := checkSequence("after_sequence", r.AfterSequence); err != nil {
		return nil, err
	}
	p := s.newPage(rq)
	reply := contract.EventsReply{Events: []contract.StoredEventJSON{}}
	_, err = s.store.Load(ctx, contract.EventSubjects, r.AfterSequence, func(rec eventstore.Record) error {
		if len(reply.Events) == limit {
			reply.Next = reply.Events[limit-1].Sequence
			return errPageFull
		}
		entry := storedEntry(rec)
		fits, err := p.add(entry)
		if err != nil {
			return err
		}
		if !fits && len(reply.Events) > 0 {
			reply.Next = reply.Events[len(reply.Events)-1].Sequence
			return errPageFull // the next page starts with it
		}
		if !fits {
			entry = contract.StoredEventJSON{Sequence: rec.Sequence, StoredAt: rec.StoredAt, Subject: rec.Subject,
				Type: contract.EventTooLarge, Error: fmt.Sprintf("the event does not fit in one reply (at most %d bytes)", p.budget)}
			if _, err := p.add(entry); err != nil {
				return err
			}
		}
		reply.Events = append(reply.Events, entry)
		return nil
	})
	if errors.Is(err, errPageFull) {
		err = nil
	}
	return reply, err
}

// storedEntry is how events.since shows one stream message.
func storedEntry(rec eventstore.Record) contract.StoredEventJSON {
	if rec.Err != nil || rec.Event == nil {
		reason := "no event"
		if rec.Err != nil {
			reason = rec.Err.Error()
		}
		return contract.StoredEventJSON{Sequence: rec.Sequence, StoredAt: rec.StoredAt, Subject: rec.Subject,
			Type: contract.EventUndecodable, Error: reason}
	}
	return contract.StoredEventJSON{Sequence: rec.Sequence, StoredAt: rec.StoredAt, Subject: rec.Subject,
		Type: rec.Event.EventType(), Event: rec.Event}
}
