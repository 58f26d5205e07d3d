package projector

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// Config tunes a projector instance; zero values mean defaults.
type Config struct {
	// Instance names this instance in logs.
	Instance string
	// Version is the read model version written to (1: the plain bucket
	// names); 0 follows the live version named in peon_meta.
	Version int
	// BatchSize bounds how many events are folded before their writes.
	BatchSize int
	// CacheEntries and CacheBytes bound the threads and projects kept in memory.
	CacheEntries int
	CacheBytes   int64
	// WriteConcurrency bounds the KV writes in flight.
	WriteConcurrency int
	// RetryDelay is the pause after a failed batch before consuming again.
	RetryDelay time.Duration
	// LogEvery is how often the projection logs its lag.
	LogEvery time.Duration
	// RebalanceEvery is how often the instance looks for its peers and
	// recomputes its share of the projections.
	RebalanceEvery time.Duration
}

// DefaultConfig is the configuration every flag default and every zero
// field comes from.
func DefaultConfig() Config {
	return Config{BatchSize: 500, CacheEntries: 10_000, CacheBytes: 256 << 20, WriteConcurrency: 64,
		RetryDelay: time.Second, LogEvery: 30 * time.Second, RebalanceEvery: 2 * time.Second}
}

// withDefaults fills the zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.BatchSize = cmp.Or(c.BatchSize, d.BatchSize)
	c.CacheEntries = cmp.Or(c.CacheEntries, d.CacheEntries)
	c.CacheBytes = cmp.Or(c.CacheBytes, d.CacheBytes)
	c.WriteConcurrency = cmp.Or(c.WriteConcurrency, d.WriteConcurrency)
	c.RetryDelay = cmp.Or(c.RetryDelay, d.RetryDelay)
	c.LogEvery = cmp.Or(c.LogEvery, d.LogEvery)
	c.RebalanceEvery = cmp.Or(c.RebalanceEvery, d.RebalanceEvery)
	return c
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if c.Version < 0 {
		errs = append(errs, fmt.Errorf("version %d is negative", c.Version))
	}
	if c.BatchSize < 0 || c.BatchSize > 10_000 {
		errs = append(errs, fmt.Errorf("batch size %d is not within 1..10000", c.BatchSize))
	}
	if c.CacheEntries < 0 || c.CacheBytes < 0 || c.WriteConcurrency < 0 {
		errs = append(errs, errors.New("cache and concurrency bounds must not be negative"))
	}
	if c.RetryDelay < 0 || c.LogEvery < 0 || c.RebalanceEvery < 0 {
		errs = append(errs, errors.New("retry delay, log and rebalance intervals must not be negative"))
	}
	return errors.Join(errs...)
}
