package loadgen

import (
	"context"
	"time"

	"golang.org/x/sync/errgroup"
)

// pace runs agents senders at once, each calling send n times, one
// interval apart. The agents start staggered across the first interval, so
// together they offer an even agents/interval messages per second rather
// than bursts on a shared tick. An agent that falls behind its schedule
// (a busy machine) sends at once until it is back on it, so the offered
// rate holds for as long as the generator can keep up; pace returns the
// time from the start to the last send, from which the caller reports the
// rate it achieved.
func pace(ctx context.Context, agents, n int, interval time.Duration, send func(agent, i int) error) (time.Duration, error) {
	g, ctx := errgroup.WithContext(ctx)
	start := time.Now()
	for a := range agents {
		g.Go(func() error {
			due := start.Add(interval * time.Duration(a) / time.Duration(agents))
			timer := time.NewTimer(0)
			defer timer.Stop()
			<-timer.C
			for i := range n {
				if wait := time.Until(due); wait > 0 {
					timer.Reset(wait)
					select {
					case <-timer.C:
					case <-ctx.Done():
						return ctx.Err()
					}
				}
				if err := send(a, i); err != nil {
					return err
				}
				due = due.Add(interval)
			}
			return nil
		})
	}
	err := g.Wait()
	return time.Since(start), err
}
