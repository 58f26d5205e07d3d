package projector

import "testing"

// TestLedger walks the cases the exactly-once bookkeeping must tell
// apart: in-order batches, redeliveries at or below the floor, a gap after
// a handover, a late redelivery, the floor catching up with the consumer's
// ack floor, and a transcript partition's share, whose stream sequences
// skip while its deliveries do not, keeping pace while it is quiet.
func TestLedger(t *testing.T) {
	type ackFloor struct{ delivery, stream uint64 }
	type step struct {
		name    string
		deliver []position
		want    []delivery
		raise   bool // raise over the batch; inOrder is its result
		inOrder bool
		ack     *ackFloor // the consumer's ack floor is read
		idle    uint64    // when not 0: the consumer was idle up to it
		moved   bool      // what acked or idle reports
		floor   uint64
		behind  bool
	}
	first := func(stream, delivery uint64) position {
		return position{stream: stream, delivery: delivery, first: true}
	}
	again := func(stream, delivery uint64) position { return position{stream: stream, delivery: delivery} }
	steps := []step{
		{name: "a new consumer: nothing acked, the chain starts at 0", ack: &ackFloor{}, floor: 0},
		{name: "first batch in order", deliver: []position{first(1, 1), first(2, 2), first(3, 3)},
			want: []delivery{{}, {}, {}}, raise: true, inOrder: true, floor: 3},
		{name: "redelivery at the floor is folded already", deliver: []position{again(3, 4)},
			want: []delivery{{folded: true}}, raise: true, inOrder: true, floor: 3},
		{name: "a gap: another instance received deliveries 5..7 (events 4..6)", deliver: []position{first(7, 8), first(8, 9)},
			want: []delivery{{gap: true}, {}}, raise: true, inOrder: false, floor: 3, behind: true},
		{name: "a late redelivery below what was delivered", deliver: []position{again(5, 10)},
			want: []delivery{{late: true}}, raise: true, inOrder: false, floor: 3, behind: true},
		{name: "the ack floor catches up", ack: &ackFloor{10, 8}, moved: true, floor: 8},
		{name: "an ack floor behind the floor does not lower it", ack: &ackFloor{3, 2}, moved: false, floor: 8},
		{name: "in order again: the chain restarted at the ack floor (a first delivery after a redelivery drops the cache)",
			deliver: []position{first(9, 11), first(10, 12)}, want: []delivery{{gap: true}, {}}, raise: true, inOrder: true, floor: 10},
		{name: "an old redelivery after the floor passed it", deliver: []position{again(6, 13)},
			want: []delivery{{folded: true, late: true}}, raise: true, inOrder: true, floor: 10},
		{name: "a partition's share: stream sequences skip, deliveries do not", deliver: []position{first(14, 14), first(20, 15)},
			want: []delivery{{gap: true}, {}}, raise: true, inOrder: true, floor: 20},
		{name: "quiet threads: the floor keeps pace with the stream", idle: 30, moved: true, floor: 30},
		{name: "an idle mark behind the floor does not lower it", idle: 25, moved: false, floor: 30},
		{name: "its next event continues the chain", deliver: []position{first(31, 16)},
			want: []delivery{{}}, raise: true, inOrder: true, floor: 31},
		{name: "a delivery elsewhere between two of its own", deliver: []position{first(40, 18)},
			want: []delivery{{gap: true}}, raise: true, inOrder: false, floor: 31, behind: true},
		{name: "no keeping pace while events past the floor are unacked", idle: 50, moved: false, floor: 31, behind: true},
		{name: "an ack floor short of what this runner received: no chain yet", ack: &ackFloor{17, 35}, moved: true, floor: 35, behind: true},
		{name: "so the next batch is not in order either", deliver: []position{first(41, 19)},
			want: []delivery{{}}, raise: true, inOrder: false, floor: 35, behind: true},
		{name: "the ack floor covers every delivery received", ack: &ackFloor{19, 41}, moved: true, floor: 41},
		{name: "in order from there", deliver: []position{first(45, 20)},
			want: []delivery{{}}, raise: true, inOrder: true, floor: 45},
		{name: "a redelivery after deliveries went elsewhere is a gap too (what they held may be folded there)",
			deliver: []position{again(47, 23)}, want: []delivery{{gap: true}}, raise: true, inOrder: false, floor: 45, behind: true},
		{name: "a first delivery right after a redelivery: newer events may have gone elsewhere before it",
			deliver: []position{first(60, 24), first(61, 25)}, want: []delivery{{gap: true}, {}}, raise: true, inOrder: false, floor: 45, behind: true},
		{name: "a redelivery of an event newer than any here: it, and what came before it, went elsewhere first",
			deliver: []position{again(70, 26)}, want: []delivery{{gap: true}}, raise: true, inOrder: false, floor: 45, behind: true},
	}
	var l ledger
	for _, s := range steps {
		for i, p := range s.deliver {
			if got := l.deliver(p); got != s.want[i] {
				t.Fatalf("%s: deliver(%+v) = %+v, want %+v", s.name, p, got, s.want[i])
			}
		}
		if s.raise {
			if got := l.raise(append([]position(nil), s.deliver...)); got != s.inOrder {
				t.Fatalf("%s: raise = %v, want %v", s.name, got, s.inOrder)
			}
		}
		if s.ack != nil {
			if got := l.acked(s.ack.delivery, s.ack.stream); got != s.moved {
				t.Fatalf("%s: acked(%+v) = %v, want %v", s.name, *s.ack, got, s.moved)
			}
		}
		if s.idle != 0 {
			if got := l.idle(s.idle); got != s.moved {
				t.Fatalf("%s: idle(%d) = %v, want %v", s.name, s.idle, got, s.moved)
			}
		}
		if l.floor != s.floor || l.behind() != s.behind {
			t.Fatalf("%s: floor %d behind %v, want %d %v", s.name, l.floor, l.behind(), s.floor, s.behind)
		}
	}
}
