package projector

import (
	"cmp"
	"slices"
)

// ledger is a runner's exactly-once bookkeeping: which events of the
// stream are known folded and written, and how each new delivery relates
// to what came before. It belongs to the consuming goroutine.
//
// Events reach a runner in stream order, except around a handover: the
// projection's consumer is shared by instances (one pinned at a time),
// so a runner can see a gap (another instance folded what lies between)
// or a late redelivery (an event another instance received but did not
// ack before it lost the pin). A transcript partition's consumer filters
// its share of the stream on the server, so even in order its stream
// sequences skip: contiguity is told by the consumer's delivery sequence,
// which counts every delivery of the consumer, to any instance, once.
// Folding stays exactly-once because:
//
//   - floor is at or below the consumer's ack floor: every event of the
//     projection up to it has been folded and written (by this runner or
//     another), so a delivery at or below it is skipped;
//   - chain, when known, is a delivery sequence up to which every
//     delivery of the consumer has been settled (folded, written, and at
//     or below floor); a first delivery right after it continues the
//     floor, as no event of the projection can lie between the two;
//   - a delivery (first or not) that is not the next delivery sequence
//     this runner received is a gap (deliveries went elsewhere, and what
//     went there may have been folded there), after which cached state
//     may be behind the buckets and is dropped. So is a first delivery
//     that follows a redelivery: a redelivery carries a new delivery
//     sequence but an old event, and newer events may have been first
//     delivered elsewhere before it, below this one (the fault suite
//     found this: an instance restarted into redeliveries, then folded
//     first deliveries onto state that lacked what a stopped instance had
//     received and lost). And so is a redelivery of an event newer than
//     any this runner received: it was first delivered elsewhere, and so
//     may have been the events before it;
//   - a delivery below the highest stream sequence delivered is late:
//     later events of the same aggregates may have been folded elsewhere
//     and will not come back, so state loaded to fold it must not be
//     cached.
type ledger struct {
	floor, delivered uint64
	// lastDelivery is the highest delivery sequence this runner received,
	// lastFirst whether that delivery was the event's first.
	lastDelivery uint64
	lastFirst    bool
	// chain is valid only when chainKnown.
	chain      uint64
	chainKnown bool
}

// position is where a received event stands: its stream sequence, its
// delivery sequence in the consumer, and whether this is its first
// delivery.
type position struct {
	stream, delivery uint64
	first            bool
}

// delivery is what the ledger says about one received event.
type delivery struct {
	// folded: at or below the floor, written already; skip it.
	folded bool
	// gap: deliveries went elsewhere since the last one; drop cached
	// state before folding it.
	gap bool
	// late: below the highest delivered; fold it without caching.
	late bool
}

// deliver records that the event at p was received.
func (l *ledger) deliver(p position) delivery {
	d := delivery{folded: p.stream <= l.floor, late: p.stream < l.delivered,
		gap: p.delivery > l.lastDelivery+1 || // deliveries went elsewhere
			(p.first && l.lastDelivery > 0 && !l.lastFirst) || // a first delivery after a redelivery
			(!p.first && p.stream > l.delivered)} // a redelivery of an event newer than any here
	l.delivered = max(l.delivered, p.stream)
	if p.delivery > l.lastDelivery {
		l.lastDelivery, l.lastFirst = p.delivery, p.first
	}
	return d
}

// folded reports whether the event at seq is known written (at or below
// the floor), for events met outside a delivery (a thread's history).
func (l *ledger) folded(seq uint64) bool { return seq <= l.floor }

// raise moves the floor past a batch about to be acked, as far as the
// batch continues the chain of settled deliveries, and reports whether it
// did so for the whole batch (in order: no redelivery of an event past
// the floor, no delivery elsewhere in between).
func (l *ledger) raise(batch []position) (inOrder bool) {
	batch = slices.SortedFunc(slices.Values(batch), func(a, b position) int { return cmp.Compare(a.delivery, b.delivery) })
	for _, p := range batch {
		if !l.chainKnown || p.delivery != l.chain+1 || (!p.first && p.stream > l.floor) {
			l.chainKnown = false
			return false
		}
		l.chain = p.delivery
		l.floor = max(l.floor, p.stream)
	}
	return true
}

// behind reports whether events past the floor were received: the floor
// can move only once the consumer's ack floor says they are all acked.
func (l *ledger) behind() bool { return l.delivered > l.floor }

// acked takes in the consumer's ack floor (delivery and stream sequence),
// which another instance's acks may have moved (a handover), and reports
// whether the floor moved. Once the ack floor covers every delivery this
// runner received, every delivery up to it is settled: the chain starts
// there again (a delivery past it that went elsewhere, acked or not,
// shows as the next first delivery not continuing it).
func (l *ledger) acked(ackDelivery, ackStream uint64) bool {
	moved := ackStream > l.floor
	if moved {
		l.floor = ackStream
	}
	if ackDelivery >= l.lastDelivery && (!l.chainKnown || ackDelivery >= l.chain) {
		l.chain, l.chainKnown = ackDelivery, true
	}
	return moved
}

// recorded raises the floor to a progress record's, which any runner of
// the projection wrote only once everything up to it was folded and
// written. It reports whether the floor moved.
func (l *ledger) recorded(seq uint64) bool {
	if seq <= l.floor {
		return false
	}
	l.floor = seq
	return true
}

// idle raises the floor to last, a stream sequence up to which the
// consumer had nothing left to deliver or to be acked: a partition whose
// threads are quiet keeps pace with the stream. It reports whether the
// floor moved.
func (l *ledger) idle(last uint64) bool {
	if last <= l.floor || l.behind() {
		return false
	}
	l.floor = last
	return true
}
