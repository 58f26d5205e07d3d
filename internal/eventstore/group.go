package eventstore

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Group commit.
//
// A command with several events is one JetStream atomic batch, and an atomic
// batch has a fixed cost on the server besides its messages: on a
// single-replica file-storage stream it is staged in a file store of its own
// (milliseconds). Commands on different aggregates that are ready at the
// same moment can share that cost: their batches go to the server as one
// atomic batch, each command's first message carrying its own expectation.
//
// The server checks a per-subject expectation on any message of a batch as
// long as no earlier message of the batch wrote that subject, against the
// stream as it was before the batch. So a group only holds batches whose
// events all go to the one literal subject their expectation names, each
// subject once: every member's expectation is then exactly the check it
// would get alone.
//
// All or none holds for the group as it does for a command: if any member's
// expectation fails (or any other definite refusal), nothing was stored and
// every member is appended again on its own, where the refusal reaches only
// the member it concerns.

// groupable reports whether b may share an atomic batch with others: it has
// several events (one event is a plain publish, cheaper than any batch), an
// expectation on one literal subject, and all its events on that subject.
func (b Batch) groupable() bool {
	if len(b.Events) < 2 || b.ExpectFilter == "" || strings.ContainsAny(b.ExpectFilter, "*>") {
		return false
	}
	for _, s := range b.Subjects {
		if s != b.ExpectFilter {
			return false
		}
	}
	return true
}

// Committer appends batches for many concurrent callers. Batches that may
// share an atomic batch (see groupable) and queue up while a group is being
// stored go to the server together as the next group; the others are
// appended as Store.Append would. One group is in flight at a time: under
// load the queue fills while it is, which is what makes groups large.
type Committer struct {
	store *Store

	mu    sync.Mutex
	queue []*queued
	busy  bool // a goroutine is storing groups
	// limit is how many batches the next group may hold: halved when a
	// group is refused, doubled when one is stored (see commit).
	limit int

	groups, grouped atomic.Int64
}

// Group limits: the server refuses batches over 1 000 messages by default
// (max_batch_size); a group stays well below, and below a few MiB so that
// one group never holds up the connection for long. Every member has at
// least two messages, so a group never holds more than half as many
// batches as messages; that is where the adaptive limit starts and stops.
const (
	maxGroupMsgs    = 256
	maxGroupBytes   = 4 << 20
	maxGroupBatches = maxGroupMsgs / 2
)

// NewCommitter returns a committer appending through store.
func NewCommitter(store *Store) *Committer {
	return &Committer{store: store, limit: maxGroupBatches}
}

// queued is one caller's batch waiting for its group.
type queued struct {
	ctx   context.Context
	b     Batch
	msgs  []*nats.Msg
	sizes []int
	bytes int
	done  chan appendResult // buffered: the committer never waits for a caller
}

type appendResult struct {
	a   Appended
	err error
}

// errAlone tells a member that its group was refused as a whole and nothing
// of it was stored: append on your own.
var errAlone = errors.New("eventstore: group refused; append alone")

// Append stores b atomically, like Store.Append, possibly in one atomic
// batch with other callers' batches. The errors are Store.Append's.
func (c *Committer) Append(ctx context.Context, b Batch) (Appended, error) {
	if !b.groupable() {
		return c.store.Append(ctx, b)
	}
	msgs, sizes, err := b.messages()
	if err != nil {
		return Appended{}, err
	}
	q := &queued{ctx: ctx, b: b, msgs: msgs, sizes: sizes, done: make(chan appendResult, 1)}
	for _, m := range msgs {
		q.bytes += len(m.Data)
	}
	c.mu.Lock()
	c.queue = append(c.queue, q)
	lead := !c.busy
	c.busy = true
	c.mu.Unlock()
	if lead {
		// Nobody is storing: store this group here (no hand-off, so a lone
		// caller pays nothing for grouping), and leave whatever queued up
		// meanwhile to a goroutine of its own.
		if c.commitNext() {
			go c.drain()
		}
	}
	select {
	case r := <-q.done:
		if errors.Is(r.err, errAlone) {
			return c.store.Append(ctx, b)
		}
		return r.a, r.err
	case <-ctx.Done():
		// The group may still store the events: an unknown outcome, as for a
		// publish whose acknowledgement did not arrive in time.
		return Appended{}, ctx.Err()
	}
}

// Stats returns how many groups of two or more batches were stored and how
// many batches they held.
func (c *Committer) Stats() (groups, batches int64) { return c.groups.Load(), c.grouped.Load() }

// drain stores groups until the queue is empty.
func (c *Committer) drain() {
	for c.commitNext() {
	}
}

// commitNext stores the next group and reports whether more is queued. With
// nothing queued it marks the committer idle and reports false.
func (c *Committer) commitNext() bool {
	group := c.take()
	if len(group) == 0 {
		return false
	}
	c.commit(group)
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.queue) == 0 {
		c.busy = false
		return false
	}
	return true
}

// take removes the next group from the queue: in arrival order, within the
// limits, each subject once (a second batch on a subject waits for the next
// group). Batches whose caller gave up are answered and never sent. With
// nothing left it marks the committer idle.
func (c *Committer) take() []*queued {
	c.mu.Lock()
	defer c.mu.Unlock()
	var group, rest []*queued
	subjects := map[string]bool{}
	msgs, bytes := 0, 0
	for _, q := range c.queue {
		if err := q.ctx.Err(); err != nil {
			q.done <- appendResult{err: err}
			continue
		}
		fits := len(group) == 0 || (len(group) < c.limit && msgs+len(q.msgs) <= maxGroupMsgs && bytes+q.bytes <= maxGroupBytes)
		if !fits || subjects[q.b.ExpectFilter] {
			rest = append(rest, q)
			continue
		}
		group = append(group, q)
		subjects[q.b.ExpectFilter] = true
		msgs, bytes = msgs+len(q.msgs), bytes+q.bytes
	}
	c.queue = rest
	if len(group) == 0 {
		c.busy = false
	}
	return group
}

// commit stores one group and answers its members.
func (c *Committer) commit(group []*queued) {
	if len(group) == 1 {
		q := group[0]
		a, err := c.store.publishBatch(q.ctx, q.b, q.msgs, q.sizes)
		c.adapt(err == nil)
		q.done <- appendResult{a: a, err: err}
		return
	}
	var all []*nats.Msg
	for _, q := range group {
		all = append(all, q.msgs...)
	}
	ctx, cancel := groupContext(group)
	defer cancel()
	c.store.requests.Add(1)
	ack, err := jetstreamext.PublishMsgBatch(ctx, c.store.js, all, jetstreamext.BatchFlowControl{AckFirst: false})
	c.adapt(err == nil)
	if err != nil {
		var apiErr *jetstream.APIError
		if errors.As(err, &apiErr) {
			// A definite refusal of the whole batch: nothing was stored.
			err = errAlone
		} else {
			err = fmt.Errorf("append a group of %d commands: %w", len(group), err)
		}
		for _, q := range group {
			q.done <- appendResult{err: err}
		}
		return
	}
	c.groups.Add(1)
	c.grouped.Add(int64(len(group)))
	next := ack.Sequence - uint64(len(all)) + 1
	for _, q := range group {
		n := uint64(len(q.msgs))
		q.done <- appendResult{a: Appended{First: next, Last: next + n - 1, Sizes: q.sizes}}
		next += n
	}
}

// adapt sizes the next group after how the last one went. One stale member
// makes the whole group refused and every member pays a second append on
// its own; when members often conflict (instances racing on the same
// threads), large groups cost more than they save, so the limit falls fast
// and comes back as groups get stored.
func (c *Committer) adapt(stored bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if stored {
		c.limit = min(2*c.limit, maxGroupBatches)
	} else {
		c.limit = max(c.limit/2, 1)
	}
}

// groupContext bounds the storing of a group by the latest deadline among
// its members (a member that gives up earlier stops waiting, not the group:
// the others still want their answer).
func groupContext(group []*queued) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, q := range group {
		d, ok := q.ctx.Deadline()
		if !ok {
			return context.WithCancel(context.Background())
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.Background(), latest)
}
