// Package retry is the one retry policy of the services: how long to pause
// before each retry of an operation that failed for a transient reason.
// Callers keep their own loops and budgets (which failures to retry, how
// many times); this package only says how long to wait.
package retry

import (
	"context"
	"math/rand/v2"
	"time"

	"github.com/peonhq/peon/internal/ctxsleep"
)

// Policy is an exponential backoff: the pause before the n-th retry is
// First·2^(n−1), at most Max, and with Jitter spread uniformly over half to
// one and a half times that, so racing writers spread out instead of
// colliding again. A Policy whose Max equals First pauses the same before
// every retry.
type Policy struct {
	First  time.Duration
	Max    time.Duration
	Jitter bool
}

// Delay returns the pause before retry n (n ≥ 1; less counts as 1).
func (p Policy) Delay(n int) time.Duration {
	d := p.First
	for i := 1; i < n && d < p.Max; i++ {
		d *= 2
	}
	if p.Max > 0 {
		d = min(d, p.Max)
	}
	if p.Jitter && d > 0 {
		d = d/2 + rand.N(d)
	}
	return d
}

// Wait pauses before retry n, or returns ctx's error as soon as ctx is done.
func (p Policy) Wait(ctx context.Context, n int) error {
	return ctxsleep.Sleep(ctx, p.Delay(n))
}
