package ingest

import (
	"maps"
	"slices"
	"sync"
	"time"
)

// settleGate keeps each thread's provider events in stream order on their
// way to the workers, across handovers and lost deliveries.
//
// When the pin moves, events the previous instance had received but not
// acked come back only when their ack wait expires — possibly after newer
// events of the same thread were already delivered here. Every such
// straggler was delivered before this instance got the pin, so all of them
// are redelivered within one ack wait of the first delivery here: the gate
// holds what it receives that long, then lets it through sorted, starting
// from the consumer's ack floor.
//
// After that, the consumer covers the whole stream, so sequences arrive
// without holes unless something is missing: a delivery lost with a
// connection (a node died), or events another instance handled. On a
// hole the gate holds what follows until the hole is filled (the lost
// events are redelivered after their ack wait) or the consumer's ack floor
// shows the missing events were handled elsewhere.
type settleGate struct {
	settle   time.Duration
	dispatch func(item)
	ackFloor func() (uint64, error)

	// running counts the gate's own goroutines (a pending release, a
	// poll), so stop can wait for them; done ends a poll's pause.
	running sync.WaitGroup
	done    chan struct{}

	mu      sync.Mutex
	open    bool
	stopped bool
	timer   *time.Timer
	held    map[uint64]item // by stream sequence: a redelivery replaces its older copy
	last    uint64          // highest sequence let through in order
	polling bool
}

func newSettleGate(ackWait time.Duration, dispatch func(item), ackFloor func() (uint64, error)) *settleGate {
	return &settleGate{settle: ackWait + ackWait/4, dispatch: dispatch, ackFloor: ackFloor, held: map[uint64]item{},
		done: make(chan struct{})}
}

// releaseAfter schedules release; g.mu is held.
func (g *settleGate) releaseAfter(d time.Duration) {
	g.running.Add(1)
	g.timer = time.AfterFunc(d, func() {
		defer g.running.Done()
		g.release()
	})
}

// startPoll starts poll unless one runs; g.mu is held.
func (g *settleGate) startPoll() {
	if g.polling {
		return
	}
	g.polling = true
	g.running.Add(1)
	go func() {
		defer g.running.Done()
		g.poll()
	}()
}

func (g *settleGate) receive(it item) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return // left unacknowledged: redelivered after the ack wait
	}
	if !g.open {
		if len(g.held) == 0 {
			g.releaseAfter(g.settle)
		}
		_ = it.msg.InProgress() // held, not forgotten: do not redeliver yet
		g.held[it.seq] = it
		return
	}
	if it.seq <= g.last {
		g.dispatch(it) // a late copy of what went through: the worker skips it
		return
	}
	g.held[it.seq] = it
	g.drain(0)
	if len(g.held) > 0 {
		_ = it.msg.InProgress()
		g.startPoll()
	}
}

// release opens the gate after the settle time. What it held goes through
// in stream order from the consumer's ack floor on: a hole above the floor
// (an event lost in transit during the settle time, whose redelivery is
// still to come) holds what follows, as after opening.
func (g *settleGate) release() {
	floor, err := g.ackFloor()
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.stopped {
		return
	}
	if err != nil {
		g.releaseAfter(200 * time.Millisecond)
		return
	}
	g.open, g.last = true, floor
	for seq, it := range g.held {
		if seq <= floor {
			delete(g.held, seq)
			_ = it.msg.Ack() // a copy of what was handled and acked before
		}
	}
	g.drain(floor)
	if len(g.held) > 0 {
		g.startPoll()
	}
}

// drain lets held events through in order while the next one is here, or
// while everything before the lowest held one is acknowledged (floor).
func (g *settleGate) drain(floor uint64) {
	for len(g.held) > 0 {
		next, ok := g.held[g.last+1]
		if !ok {
			lowest := slices.Min(slices.Collect(maps.Keys(g.held)))
			if floor < lowest-1 {
				return // a hole: wait for it to be filled or acked elsewhere
			}
			next = g.held[lowest]
		}
		delete(g.held, next.seq)
		g.dispatch(next)
		g.last = next.seq
	}
}

// poll watches the consumer's ack floor while events are held behind a
// hole, and keeps them from being redelivered meanwhile.
func (g *settleGate) poll() {
	for n := 1; ; n++ {
		select {
		case <-time.After(200 * time.Millisecond):
		case <-g.done:
			return // stop resets polling
		}
		floor, err := g.ackFloor()
		g.mu.Lock()
		if g.stopped || len(g.held) == 0 {
			g.polling = false
			g.mu.Unlock()
			return
		}
		if err == nil {
			g.drain(floor)
		}
		if n%10 == 0 {
			for _, it := range g.held {
				_ = it.msg.InProgress()
			}
		}
		g.mu.Unlock()
	}
}

// stop ends the gate before the workers' queues close: what it still holds
// is dropped unacknowledged, so it is redelivered, and a pending release
// never fires into a closed queue. It returns once the gate's goroutines
// have.
func (g *settleGate) stop() {
	g.mu.Lock()
	if g.stopped {
		g.mu.Unlock()
		return
	}
	g.stopped = true
	if g.timer != nil && g.timer.Stop() {
		g.running.Done() // the release will not run
	}
	g.held = nil
	g.polling = false
	close(g.done)
	g.mu.Unlock()
	g.running.Wait()
}
