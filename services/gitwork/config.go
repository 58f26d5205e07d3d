package gitwork

import (
	"cmp"
	"errors"
	"fmt"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Config tunes an Executor. A zero field means its default (see
// DefaultConfig).
type Config struct {
	// Host is the host name whose projects this executor works in: the
	// projects created with this `host` (domain.DefaultHost when empty).
	Host string
	// Instance names this instance in logs.
	Instance string
	// AckWait is how long an operation delivered to an instance that went
	// silent waits before it is delivered again. A running operation
	// extends it (in-progress acks), so it bounds the recovery after a
	// crash, not the length of an operation.
	AckWait time.Duration
	// PinnedTTL is how long a silent instance keeps the pin of the host's
	// consumer before a standby instance takes over; it exceeds AckWait,
	// so what was in flight is due again when the standby starts.
	PinnedTTL time.Duration
	// CommandTimeout bounds one CompleteGitOperation round trip.
	CommandTimeout time.Duration
	// GitTimeout bounds one git operation: a push waiting on a network
	// or a prompt that never answers is stopped then, and fails, instead of
	// holding its project's later operations forever.
	GitTimeout time.Duration
}

// DefaultConfig is the configuration every zero field comes from.
func DefaultConfig() Config {
	return Config{Host: domain.DefaultHost, AckWait: 30 * time.Second, CommandTimeout: 10 * time.Second, GitTimeout: 10 * time.Minute}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.Host = cmp.Or(c.Host, d.Host)
	c.AckWait = cmp.Or(c.AckWait, d.AckWait)
	c.PinnedTTL = cmp.Or(c.PinnedTTL, c.AckWait+c.AckWait/2)
	c.CommandTimeout = cmp.Or(c.CommandTimeout, d.CommandTimeout)
	c.GitTimeout = cmp.Or(c.GitTimeout, d.GitTimeout)
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if c.Host != "" && !domain.ValidID(c.Host) {
		errs = append(errs, fmt.Errorf("host %q is not a valid host name (1-64 characters of A-Z a-z 0-9 _ -)", c.Host))
	}
	if c.AckWait < 0 || c.PinnedTTL < 0 || c.CommandTimeout < 0 || c.GitTimeout < 0 {
		errs = append(errs, errors.New("ack wait, pinned TTL, command timeout and git timeout must not be negative"))
	}
	if c.AckWait > 0 && c.PinnedTTL > 0 && c.PinnedTTL <= c.AckWait {
		errs = append(errs, fmt.Errorf("pinned TTL %s must exceed ack wait %s", c.PinnedTTL, c.AckWait))
	}
	return errors.Join(errs...)
}
