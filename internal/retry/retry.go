// Package retry is the one retry policy of the services: how long to pause
// before each retry of an operation that failed for a transient reason.
// Callers keep their own loops and budgets (which failures to retry, how
// many times); this package only says how long to wait.
package retry

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/nats-io/nats.go/jetstream"
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

// Until runs op until it succeeds, returns an error final says no retry
// mends, or patience has passed since the first call, pausing per p
// between calls; ctx being done ends it at once. It returns op's last
// error. It is for what a service does once when it starts (finding its
// stream, buckets and consumers), where a cluster still electing leaders
// answers late or not at all for a few seconds.
func (p Policy) Until(ctx context.Context, patience time.Duration, final func(error) bool, op func() error) error {
	deadline := time.Now().Add(patience)
	for n := 1; ; n++ {
		err := op()
		if err == nil || final(err) || ctx.Err() != nil {
			return err
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%w (still failing after %s of retries; a timeout may also mean the user is not allowed to ask)", err, patience)
		}
		if werr := p.Wait(ctx, n); werr != nil {
			return err
		}
	}
}

// Startup is the pause between a starting service's lookups, and
// StartupPatience how long it keeps looking: a stream's leader election in
// a cluster that is starting or under load takes seconds.
var Startup = Policy{First: 100 * time.Millisecond, Max: 2 * time.Second}

// StartupPatience bounds a starting service's lookups of one thing: long
// enough for a leader election under load, short enough that a lookup the
// server never answers (a user not allowed to make it: a refused request
// is not answered, so it times out) fails the service soon.
const StartupPatience = 20 * time.Second

// Missing reports whether a lookup failed because what it looked for does
// not exist (a stream, bucket or consumer not made, a bad name): final, as
// no retry creates it.
func Missing(err error) bool {
	return errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrBucketNotFound) ||
		errors.Is(err, jetstream.ErrConsumerNotFound) || errors.Is(err, jetstream.ErrInvalidBucketName) ||
		errors.Is(err, jetstream.ErrInvalidStreamName) || errors.Is(err, jetstream.ErrInvalidConsumerName) ||
		errors.Is(err, jetstream.ErrJetStreamNotEnabled) || errors.Is(err, jetstream.ErrJetStreamNotEnabledForAccount)
}
