package host

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Config configures a host instance. A zero field means its default (see
// DefaultConfig), except Name, which is required.
type Config struct {
	// Name is the host name projects are created with (`host`).
	Name string
	// Instance names this instance in logs and service metadata.
	Instance string
	// Providers are the agents this host can run, by name. `external` is
	// always there and runs nothing.
	Providers []ProviderSpec
	// DefaultProvider serves threads that name no provider (default external).
	DefaultProvider string
	// IdleTimeout ends a turn whose agent writes nothing for that long
	// (while it is not waiting for an approval); negative disables it.
	IdleTimeout time.Duration
	// LeaseTTL is how long the name's lease outlives its holder: a
	// standby takes over that long after the active instance stopped
	// renewing it. The active instance renews it every third of it.
	LeaseTTL time.Duration
	// StopGrace bounds how long a stopping host waits for its agents to
	// end and their last events to be published.
	StopGrace time.Duration
	// Workspace is told around each turn (nil: none).
	Workspace Workspace
}

// DefaultConfig is the configuration every flag default and every zero
// field comes from.
func DefaultConfig() Config {
	return Config{DefaultProvider: External, IdleTimeout: 10 * time.Minute, LeaseTTL: 10 * time.Second, StopGrace: 10 * time.Second}
}

func (c Config) withDefaults() Config {
	d := DefaultConfig()
	c.DefaultProvider = cmp.Or(c.DefaultProvider, d.DefaultProvider)
	c.IdleTimeout = cmp.Or(c.IdleTimeout, d.IdleTimeout)
	c.LeaseTTL = cmp.Or(c.LeaseTTL, d.LeaseTTL)
	c.StopGrace = cmp.Or(c.StopGrace, d.StopGrace)
	c.Instance = cmp.Or(c.Instance, c.Name)
	return c
}

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	if !domain.ValidID(c.Name) {
		errs = append(errs, fmt.Errorf("host name %q is not 1-64 characters of A-Z a-z 0-9 _ -", c.Name))
	}
	seen := map[string]bool{}
	for _, p := range c.Providers {
		if err := p.validate(); err != nil {
			errs = append(errs, err)
		}
		if seen[p.Name] {
			errs = append(errs, fmt.Errorf("provider %q is configured twice", p.Name))
		}
		if p.Name == External && p.Kind != KindExternal {
			errs = append(errs, fmt.Errorf("provider name %q is reserved for kind external", External))
		}
		seen[p.Name] = true
	}
	if c.DefaultProvider != "" && !slices.Contains(providerNames(c.Providers), c.DefaultProvider) {
		errs = append(errs, fmt.Errorf("default provider %q is not configured (have %v)", c.DefaultProvider, providerNames(c.Providers)))
	}
	if c.LeaseTTL < 0 || (c.LeaseTTL > 0 && c.LeaseTTL < 300*time.Millisecond) {
		errs = append(errs, fmt.Errorf("lease TTL %s is below 300ms", c.LeaseTTL))
	}
	if c.StopGrace < 0 {
		errs = append(errs, fmt.Errorf("stop grace %s is negative", c.StopGrace))
	}
	return errors.Join(errs...)
}
