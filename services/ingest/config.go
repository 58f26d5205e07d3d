package ingest

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Config tunes an ingest instance. A zero field means its default (see
// DefaultConfig), so Config{Instance: "i0"} is a valid configuration.
type Config struct {
	// Instance names this instance in logs and service metadata.
	Instance string
	// Workers is how many threads are ingested in parallel (events of one
	// thread always go to the same worker, in order).
	Workers int
	// MaxBatch bounds the provider events of one command (at most
	// domain.MaxIngestBatch, what the decider accepts).
	MaxBatch int
	// CommandTimeout bounds one command round trip.
	CommandTimeout time.Duration
	// MaxBackoff caps the pause between retries of a transient failure.
	MaxBackoff time.Duration
}

// maxWorkers bounds Workers: each worker holds a queue of pullSize events,
// and more workers than threads in flight buy nothing.
const maxWorkers = 4096

// DefaultConfig is the configuration every flag default and every zero
// field comes from.
func DefaultConfig() Config {
	return Config{Workers: 64, MaxBatch: domain.MaxIngestBatch, CommandTimeout: 10 * time.Second, MaxBackoff: 2 * time.Second}
}

// withDefaults fills the zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Workers = cmp.Or(c.Workers, d.Workers)
	c.MaxBatch = cmp.Or(c.MaxBatch, d.MaxBatch)
	c.CommandTimeout = cmp.Or(c.CommandTimeout, d.CommandTimeout)
	c.MaxBackoff = cmp.Or(c.MaxBackoff, d.MaxBackoff)
	return c
}

// Validate reports every problem of the configuration at once; zero fields
// stand for their defaults and are valid.
func (c Config) Validate() error {
	var errs []error
	if c.Workers < 0 || c.Workers > maxWorkers {
		errs = append(errs, fmt.Errorf("workers %d is not within 1..%d", c.Workers, maxWorkers))
	}
	if c.MaxBatch < 0 || c.MaxBatch > domain.MaxIngestBatch {
		errs = append(errs, fmt.Errorf("max batch %d is not within 1..%d", c.MaxBatch, domain.MaxIngestBatch))
	}
	if c.CommandTimeout < 0 {
		errs = append(errs, fmt.Errorf("command timeout %s is negative", c.CommandTimeout))
	}
	if c.MaxBackoff < 0 {
		errs = append(errs, fmt.Errorf("max backoff %s is negative", c.MaxBackoff))
	}
	return errors.Join(errs...)
}
