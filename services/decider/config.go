package decider

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Config tunes a decider instance. The zero value of a field means its default.
type Config struct {
	// MaxBodyBytes bounds a command body; larger gets 413 payload_too_large.
	// It must stay below the server's max_payload.
	MaxBodyBytes int
	// MaxAttempts bounds the appends of one command that conflicting
	// writers may refuse (each followed by a catch-up and a new decision);
	// when they are used up the reply is 503 contention.
	MaxAttempts int
	// StaleReadRetries bounds how often a rejection (or a no-op) is read
	// again because the replica that served the read was behind the
	// stream's leader, 20 ms apart; past it the reply is 503 unavailable,
	// never a possibly wrong rejection.
	StaleReadRetries int
	// Concurrency is how many commands one instance works on at once.
	Concurrency int
	// CacheEntries and CacheBytes bound the aggregate cache (LRU): hot
	// threads are decided without reloading their events.
	CacheEntries int
	CacheBytes   int64
	// Receipts is how many recent command ids each aggregate remembers, so
	// a retry after the stream's duplicate window still gets its original
	// outcome.
	Receipts int
	// RequestTimeout bounds the work on one command.
	RequestTimeout time.Duration
	// RebalanceEvery is how often the instance looks for its peers to share
	// the command partitions anew (see partitions.go): how long the
	// partitions of an instance that died stay unserved at most.
	RebalanceEvery time.Duration
	// Instance names this instance in logs and service metadata.
	Instance string
}

// DefaultConfig is the configuration every zero field of Config comes
// from: the one place the decider's defaults are written (the CLI's flag
// defaults come from it too).
func DefaultConfig() Config {
	return Config{MaxBodyBytes: domain.DefaultMaxCommandBytes, MaxAttempts: 8, StaleReadRetries: 25,
		Concurrency: 128, CacheEntries: 10_000, CacheBytes: 256 << 20, Receipts: 128, RequestTimeout: 10 * time.Second,
		RebalanceEvery: 2 * time.Second}
}

// withDefaults fills in the defaults.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, d.MaxBodyBytes)
	c.MaxAttempts = cmp.Or(c.MaxAttempts, d.MaxAttempts)
	c.StaleReadRetries = cmp.Or(c.StaleReadRetries, d.StaleReadRetries)
	c.Concurrency = cmp.Or(c.Concurrency, d.Concurrency)
	c.CacheEntries = cmp.Or(c.CacheEntries, d.CacheEntries)
	c.CacheBytes = cmp.Or(c.CacheBytes, d.CacheBytes)
	c.Receipts = cmp.Or(c.Receipts, d.Receipts)
	c.RequestTimeout = cmp.Or(c.RequestTimeout, d.RequestTimeout)
	c.RebalanceEvery = cmp.Or(c.RebalanceEvery, d.RebalanceEvery)
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.MaxBodyBytes >= 0, "max body bytes %d is negative", c.MaxBodyBytes)
	check(c.MaxAttempts >= 0, "max attempts %d is negative", c.MaxAttempts)
	check(c.StaleReadRetries >= 0, "stale read retries %d is negative", c.StaleReadRetries)
	check(c.Concurrency >= 0, "concurrency %d is negative", c.Concurrency)
	check(c.CacheEntries >= 0, "cache entries %d is negative", c.CacheEntries)
	check(c.CacheBytes >= 0, "cache bytes %d is negative", c.CacheBytes)
	check(c.Receipts >= 0, "receipts %d is negative", c.Receipts)
	check(c.RequestTimeout >= 0, "request timeout %s is negative", c.RequestTimeout)
	check(c.RebalanceEvery >= 0, "rebalance interval %s is negative", c.RebalanceEvery)
	return errors.Join(errs...)
}
