package host

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// lease is a host name's lease in the peon_hosts bucket: the key is the
// host name, the value says which instance holds it. The holder rewrites
// it every third of the TTL; every write is a new revision. A standby
// watches the revision with its own clock (no clocks are compared across
// machines) and takes the lease once the revision has not moved for a
// whole TTL, by writing with the revision it saw as the expected one, so
// of several standbys exactly one wins. The holder gives the lease up
// when a renewal has failed for half the TTL — before any standby can
// take it — and deletes the key when it stops, so a standby takes it at
// its next check.
type lease struct {
	kv    jetstream.KeyValue
	key   string
	value []byte
	ttl   time.Duration
	log   *slog.Logger

	held      bool
	rev       uint64    // the revision written last (held) or seen last (standby)
	renewedAt time.Time // last successful write (held)
	seenAt    time.Time // when rev was first seen (standby)
}

// run keeps trying to hold the lease until ctx is done, calling changed
// whenever it is taken or lost (from this goroutine, in order); on the way
// out a held lease is released.
func (l *lease) run(ctx context.Context, changed func(held bool)) {
	tick := time.NewTicker(l.ttl / 3)
	defer tick.Stop()
	for {
		was := l.held
		l.step(ctx, time.Now())
		if l.held != was {
			changed(l.held)
		}
		select {
		case <-ctx.Done():
			if l.held {
				rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 2*time.Second)
				if err := l.kv.Delete(rctx, l.key, jetstream.LastRevision(l.rev)); err != nil {
					l.log.Warn("host lease not released; a standby takes over once it expires", "err", err)
				}
				cancel()
				l.held = false
				changed(false)
			}
			return
		case <-tick.C:
		}
	}
}

func (l *lease) step(ctx context.Context, now time.Time) {
	if l.held {
		rev, err := l.kv.Update(ctx, l.key, l.value, l.rev)
		if err == nil {
			l.rev, l.renewedAt = rev, now
			return
		}
		if errors.Is(err, jetstream.ErrKeyExists) || now.Sub(l.renewedAt) >= l.ttl/2 {
			l.log.Warn("host lease lost", "err", err)
			l.held, l.seenAt = false, now
		}
		return
	}
	e, err := l.kv.Get(ctx, l.key)
	switch {
	case errors.Is(err, jetstream.ErrKeyNotFound):
		if rev, err := l.kv.Create(ctx, l.key, l.value); err == nil {
			l.take(rev, now)
		}
	case err != nil:
		// The bucket is unreachable: try again at the next tick.
	case e.Revision() != l.rev:
		l.rev, l.seenAt = e.Revision(), now
	case now.Sub(l.seenAt) >= l.ttl:
		if rev, err := l.kv.Update(ctx, l.key, l.value, l.rev); err == nil {
			l.take(rev, now)
		}
	}
}

func (l *lease) take(rev uint64, now time.Time) {
	l.held, l.rev, l.renewedAt = true, rev, now
}
