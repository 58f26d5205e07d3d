package gitwork

import (
	"context"
	"sync"

	"golang.org/x/sync/errgroup"
)

// projectQueues holds one queue and one worker per project, so a
// project's operations run one at a time, in order, and projects run in
// parallel. Workers stop when ctx is done; what is still queued then stays
// unacknowledged and is delivered again.
type projectQueues struct {
	ctx     context.Context
	work    func(chan delivery)
	mu      sync.Mutex
	queues  map[string]chan delivery
	workers errgroup.Group
}

func newProjectQueues(ctx context.Context, work func(chan delivery)) *projectQueues {
	return &projectQueues{ctx: ctx, work: work, queues: map[string]chan delivery{}}
}

// dispatch queues d on its project's queue, starting the project's worker
// on its first operation.
func (p *projectQueues) dispatch(d delivery) {
	p.mu.Lock()
	q, ok := p.queues[d.projectID]
	if !ok && p.ctx.Err() == nil {
		q = make(chan delivery, 64)
		p.queues[d.projectID] = q
		p.workers.Go(func() error { p.work(q); return nil })
	}
	p.mu.Unlock()
	if q == nil {
		return
	}
	select {
	case q <- d:
	case <-p.ctx.Done():
	}
}

// wait waits for the workers, once ctx is done. Taking the lock first
// orders it after any dispatch that started a worker: a dispatch that
// comes later sees ctx done and starts none.
func (p *projectQueues) wait() {
	p.mu.Lock()
	//lint:ignore SA2001 an empty critical section, for the ordering above
	p.mu.Unlock()
	_ = p.workers.Wait()
}
