package gateway

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Config tunes a gateway instance.
type Config struct {
	// Listen is the HTTP listen address.
	Listen string
	// LoopbackWithoutToken lets requests from a loopback address in without
	// a token, as the identity Identities.Loopback (peon dev only).
	LoopbackWithoutToken bool
	// CORSOrigins are the origins allowed to call the API from a browser
	// page served elsewhere; empty turns CORS off.
	CORSOrigins []string
	// MaxBodyBytes bounds a command body, as for NATS.
	MaxBodyBytes int
	// RequestTimeout bounds one command or query.
	RequestTimeout time.Duration
	// Heartbeat is how often an idle event stream sends a comment, so
	// proxies keep it open and clients notice a dead one.
	Heartbeat time.Duration
	// Instance names this instance in logs and service metadata.
	Instance string
}

// DefaultConfig returns the defaults.
func DefaultConfig() Config {
	return Config{Listen: "127.0.0.1:8080", MaxBodyBytes: domain.DefaultMaxCommandBytes,
		RequestTimeout: 15 * time.Second, Heartbeat: 15 * time.Second}
}

// Validate reports every problem at once.
func (c Config) Validate() error {
	var errs []error
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, fmt.Errorf("listen address %q: %w", c.Listen, err))
	}
	if c.MaxBodyBytes <= 0 {
		errs = append(errs, fmt.Errorf("max body bytes %d is not positive", c.MaxBodyBytes))
	}
	if c.RequestTimeout <= 0 {
		errs = append(errs, fmt.Errorf("request timeout %s is not positive", c.RequestTimeout))
	}
	if c.Heartbeat <= 0 {
		errs = append(errs, fmt.Errorf("heartbeat %s is not positive", c.Heartbeat))
	}
	for _, o := range c.CORSOrigins {
		if o == "" || o == "*" {
			errs = append(errs, fmt.Errorf("CORS origin %q: name each origin", o))
		}
	}
	return errors.Join(errs...)
}
