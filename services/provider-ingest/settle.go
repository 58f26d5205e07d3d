package ingest

import (
	"slices"
	"sync"
	"time"
)

// settleGate holds back what an instance receives when it first gets the
// pin, for one ack wait, and then lets it through in stream order.
//
// Why: when the pin moves, events the previous instance had received but not
// acked come back only when their ack wait expires — possibly after newer
// events of the same thread were already delivered here. Every such
// straggler was delivered before this instance got the pin, so all of them
// are redelivered within one ack wait of the first delivery here. Holding
// that long and sorting by stream sequence restores each thread's order.
// After it opens, the gate passes events straight through.
type settleGate struct {
	settle   time.Duration
	dispatch func(item)

	mu   sync.Mutex
	open bool
	held map[uint64]item // by stream sequence: a redelivery replaces its older copy
}

func newSettleGate(ackWait time.Duration, dispatch func(item)) *settleGate {
	return &settleGate{settle: ackWait + ackWait/4, dispatch: dispatch, held: map[uint64]item{}}
}

func (g *settleGate) receive(it item) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.open {
		g.dispatch(it)
		return
	}
	if len(g.held) == 0 {
		time.AfterFunc(g.settle, g.release)
	}
	_ = it.msg.InProgress() // held, not forgotten: do not redeliver yet
	g.held[it.seq] = it
}

func (g *settleGate) release() {
	g.mu.Lock()
	defer g.mu.Unlock()
	seqs := make([]uint64, 0, len(g.held))
	for seq := range g.held {
		seqs = append(seqs, seq)
	}
	slices.Sort(seqs)
	for _, seq := range seqs {
		g.dispatch(g.held[seq])
	}
	g.held, g.open = nil, true
}
