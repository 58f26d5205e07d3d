package decider

import (
	"context"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// aggregate is the folded state of the events matching one subject filter,
// as far as sequence lastSeq, plus the receipts of the recent commands that
// produced them.
type aggregate struct {
	key     string
	filter  string
	model   *domain.Model
	lastSeq uint64
	// projectID is the project of a thread aggregate, learnt from the
	// subject of its events.
	projectID string
	receipts  *receipts
	// bytes approximates the memory the folded state holds.
	bytes int64
	// cached is false for aggregates loaded for one command only.
	cached bool
	// skipped counts undecodable messages passed over.
	skipped int
}

// receipt is what a command appended: enough to answer a retry exactly as
// the first attempt was answered.
type receipt struct {
	hash   string
	events []contract.EventRef
}

// receipts remembers the last N command ids of an aggregate, oldest first out.
type receipts struct {
	byID  map[string]*receipt
	order []string
	limit int
}

func newReceipts(limit int) *receipts {
	return &receipts{byID: map[string]*receipt{}, limit: limit}
}

func (r *receipts) record(commandID, hash string, ref contract.EventRef) {
	if commandID == "" {
		return
	}
	rc, ok := r.byID[commandID]
	if !ok {
		rc = &receipt{hash: hash}
		r.byID[commandID] = rc
		r.order = append(r.order, commandID)
		if len(r.order) > r.limit {
			delete(r.byID, r.order[0])
			r.order = r.order[1:]
		}
	}
	rc.events = append(rc.events, ref)
}

func (r *receipts) get(commandID string) (*receipt, bool) {
	rc, ok := r.byID[commandID]
	return rc, ok
}

// receiptRefSize is what remembering an event in its command's receipt
// costs (receipts are bounded in number; see Config.Receipts).
const receiptRefSize = 32

func newAggregate(key, filter string, receiptLimit int) *aggregate {
	return &aggregate{key: key, filter: filter, model: domain.NewModel(), receipts: newReceipts(receiptLimit)}
}

// catchUp folds every event stored after lastSeq.
func (a *aggregate) catchUp(ctx context.Context, store *eventstore.Store) error {
	last, err := store.Load(ctx, a.filter, a.lastSeq, func(r eventstore.Record) error {
		a.fold(r)
		return nil
	})
	a.lastSeq = max(a.lastSeq, last)
	return err
}

// fold applies one stored record. A message that holds no decodable event
// is passed over: the projectors park it, and the decider decides on the
// facts it can read rather than refusing every command on the aggregate.
func (a *aggregate) fold(r eventstore.Record) {
	if r.Err != nil {
		a.lastSeq = r.Sequence
		a.skipped++
		return
	}
	a.bytes += int64(domain.ProjectMeasured(a.model, r.StoredEvent, r.Size) + receiptRefSize)
	a.lastSeq = r.Sequence
	a.receipts.record(r.CommandID, r.CommandHash, contract.EventRef{Sequence: r.Sequence, Type: r.Event.EventType()})
	if a.projectID == "" {
		if p, thread, ok := contract.ParseEventSubject(r.Subject); ok {
			a.projectID = p
			if a.filter == contract.ThreadFilter(thread) {
				// From now on follow the thread's own subject, the one its
				// appends expect on: the server finds a literal subject's
				// messages from its index, where a wildcard means scanning
				// (and counting) through the stream's blocks on every
				// catch-up.
				a.filter = contract.ThreadSubject(p, thread)
			}
		}
	}
}

// Bytes reports the aggregate's approximate memory to the cache.
func (a *aggregate) Bytes() int64 { return a.bytes }
