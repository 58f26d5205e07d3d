package projector

import "slices"

// ledger is a runner's exactly-once bookkeeping: which events of the
// stream are known folded and written, and how each new delivery relates
// to what came before. It belongs to the consuming goroutine.
//
// Events reach a runner in stream order, except around a handover: the
// projection's consumer is shared by instances (one pinned at a time),
// so a runner can see a gap (another instance folded what lies between)
// or a late redelivery (an event another instance received but did not
// ack before it lost the pin). Folding stays exactly-once because:
//
//   - floor is at or below the consumer's ack floor: every event up to
//     it has been folded and written (by this runner or another), so a
//     delivery at or below it is skipped;
//   - delivered is the highest sequence this runner has received; a
//     delivery past delivered+1 is a gap, after which cached state may be
//     behind the buckets and is dropped;
//   - a delivery below delivered is late: later events of the same
//     aggregates may have been folded elsewhere and will not come back, so
//     state loaded to fold it must not be cached.
type ledger struct {
	floor, delivered uint64
}

// delivery is what the ledger says about one received event.
type delivery struct {
	// folded: at or below the floor, written already; skip it.
	folded bool
	// gap: past delivered+1; drop cached state before folding it.
	gap bool
	// late: below the highest delivered; fold it without caching.
	late bool
}

// deliver records that the event at seq was received.
func (l *ledger) deliver(seq uint64) delivery {
	d := delivery{folded: seq <= l.floor, gap: seq > l.delivered+1, late: seq < l.delivered}
	l.delivered = max(l.delivered, seq)
	return d
}

// folded reports whether the event at seq is known written (at or below
// the floor), for events met outside a delivery (a thread's history).
func (l *ledger) folded(seq uint64) bool { return seq <= l.floor }

// raise moves the floor past a batch about to be acked, as far as the
// batch continues it without a hole, and reports whether it did so for
// the whole batch (in order: no redelivery, no event folded elsewhere).
func (l *ledger) raise(seqs []uint64) (inOrder bool) {
	seqs = slices.Sorted(slices.Values(seqs))
	for _, seq := range seqs {
		switch {
		case seq <= l.floor:
		case seq == l.floor+1:
			l.floor = seq
		default:
			return false
		}
	}
	return true
}

// behind reports whether events past the floor were received: the floor
// can move only once the consumer's ack floor says they are all acked.
func (l *ledger) behind() bool { return l.delivered > l.floor }

// acked raises the floor to the consumer's ack floor, which another
// instance's acks may have moved (a handover), and reports whether it
// moved.
func (l *ledger) acked(ackFloor uint64) bool {
	if ackFloor <= l.floor {
		return false
	}
	l.floor = ackFloor
	return true
}
