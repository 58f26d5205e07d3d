package projector

import "testing"

// TestLedger walks the cases the exactly-once bookkeeping must tell
// apart: in-order batches, redeliveries at or below the floor, a gap after
// a handover, a late redelivery, and the floor catching up with the
// consumer's ack floor.
func TestLedger(t *testing.T) {
	type step struct {
		name     string
		deliver  []uint64
		want     []delivery
		raise    bool // raise over the batch; wantInOrder is its result
		inOrder  bool
		ackFloor uint64 // when not 0: the consumer's ack floor is read
		moved    bool
		floor    uint64
		behind   bool
	}
	steps := []step{
		{name: "first batch in order", deliver: []uint64{1, 2, 3},
			want: []delivery{{}, {}, {}}, raise: true, inOrder: true, floor: 3},
		{name: "redelivery at the floor is folded already", deliver: []uint64{3},
			want: []delivery{{folded: true, late: false}}, raise: true, inOrder: true, floor: 3},
		{name: "a gap: another instance folded 4..6", deliver: []uint64{7, 8},
			want: []delivery{{gap: true}, {}}, raise: true, inOrder: false, floor: 3, behind: true},
		{name: "a late redelivery below what was delivered", deliver: []uint64{5},
			want: []delivery{{late: true}}, raise: true, inOrder: false, floor: 3, behind: true},
		{name: "the ack floor catches up", ackFloor: 8, moved: true, floor: 8},
		{name: "an ack floor behind the floor does not lower it", ackFloor: 2, moved: false, floor: 8},
		{name: "in order again", deliver: []uint64{9, 10},
			want: []delivery{{}, {}}, raise: true, inOrder: true, floor: 10},
		{name: "an old redelivery after the floor passed it", deliver: []uint64{6},
			want: []delivery{{folded: true, late: true}}, raise: true, inOrder: true, floor: 10},
	}
	var l ledger
	for _, s := range steps {
		for i, seq := range s.deliver {
			if got := l.deliver(seq); got != s.want[i] {
				t.Fatalf("%s: deliver(%d) = %+v, want %+v", s.name, seq, got, s.want[i])
			}
		}
		if s.raise {
			if got := l.raise(append([]uint64(nil), s.deliver...)); got != s.inOrder {
				t.Fatalf("%s: raise = %v, want %v", s.name, got, s.inOrder)
			}
		}
		if s.ackFloor != 0 {
			if got := l.acked(s.ackFloor); got != s.moved {
				t.Fatalf("%s: acked(%d) = %v, want %v", s.name, s.ackFloor, got, s.moved)
			}
		}
		if l.floor != s.floor || l.behind() != s.behind {
			t.Fatalf("%s: floor %d behind %v, want %d %v", s.name, l.floor, l.behind(), s.floor, s.behind)
		}
	}
}
