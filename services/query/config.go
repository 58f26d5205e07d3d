package query

import (
	"cmp"
	"errors"
	"fmt"
	"time"
)

// Config tunes a query instance. A zero field means its default (see
// DefaultConfig), so Config{Instance: "q0"} is a valid configuration.
type Config struct {
	// Instance names this instance in logs and service metadata.
	Instance string
	// Version is the read model version read (1: the plain bucket names);
	// 0 follows the live version named in peon_meta.
	Version int
	// MaxWait bounds how long a query waits for min_sequence.
	MaxWait time.Duration
	// MaxBodyBytes bounds a query body.
	MaxBodyBytes int
	// MaxInFlight bounds the queries one instance answers at once; more
	// wait in the subscription's queue.
	MaxInFlight int
}

// maxInFlight bounds MaxInFlight: each query in flight may hold a page of
// up to the server's max payload in memory.
const maxInFlight = 4096

// DefaultConfig is the configuration every flag default and every zero
// field comes from.
func DefaultConfig() Config {
	return Config{MaxWait: 5 * time.Second, MaxBodyBytes: 64 << 10, MaxInFlight: 256}
}

// withDefaults fills the zero fields from DefaultConfig.
func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.MaxWait = cmp.Or(c.MaxWait, d.MaxWait)
	c.MaxBodyBytes = cmp.Or(c.MaxBodyBytes, d.MaxBodyBytes)
	c.MaxInFlight = cmp.Or(c.MaxInFlight, d.MaxInFlight)
	return c
}

// Validate reports every problem of the configuration at once; zero fields
// stand for their defaults and are valid.
func (c Config) Validate() error {
	var errs []error
	if c.Version < 0 {
		errs = append(errs, fmt.Errorf("version %d is negative", c.Version))
	}
	if c.MaxWait < 0 {
		errs = append(errs, fmt.Errorf("max wait %s is negative", c.MaxWait))
	}
	if c.MaxBodyBytes < 0 {
		errs = append(errs, fmt.Errorf("max body %d bytes is negative", c.MaxBodyBytes))
	}
	if c.MaxInFlight < 0 || c.MaxInFlight > maxInFlight {
		errs = append(errs, fmt.Errorf("max in flight %d is not within 1..%d", c.MaxInFlight, maxInFlight))
	}
	return errors.Join(errs...)
}
