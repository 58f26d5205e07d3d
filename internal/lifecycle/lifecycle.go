// Package lifecycle is the one shape every Peon service has, so that a
// newcomer who has read one service has read them all:
//
//   - a Config struct with DefaultConfig() and a Validate() that reports
//     every problem at once (errors.Join), never only the first;
//   - New(nc, cfg, log) validates the config and connects nothing else;
//   - Run(ctx) blocks until ctx is done, runs every goroutine it starts
//     under an errgroup, bounds its in-flight work and waits for it before
//     returning; a fatal failure is returned, not logged and swallowed;
//   - Ready() is closed once the service serves, so callers wait on it
//     instead of sleeping.
//
// The CLI builds each role's flags from its Config (one source of
// defaults); see cmd/peon.
package lifecycle

import (
	"context"
	"sync"
)

// Service is a Peon role's blocking loop.
type Service interface {
	// Run serves until ctx is done, then finishes what is in flight and
	// returns.
	Run(ctx context.Context) error
	// Ready is closed once the service serves.
	Ready() <-chan struct{}
}

// Ready is a once-closed readiness signal. The zero value is ready to use.
type Ready struct {
	once sync.Once
	mu   sync.Mutex
	ch   chan struct{}
}

func (r *Ready) channel() chan struct{} {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ch == nil {
		r.ch = make(chan struct{})
	}
	return r.ch
}

// Signal marks the service ready; later calls do nothing.
func (r *Ready) Signal() {
	ch := r.channel()
	r.once.Do(func() { close(ch) })
}

// Done is closed once Signal has been called.
func (r *Ready) Done() <-chan struct{} { return r.channel() }

// WaitReady waits until every service is ready, or ctx is done.
func WaitReady(ctx context.Context, services ...Service) error {
	for _, s := range services {
		select {
		case <-s.Ready():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
