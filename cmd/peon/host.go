package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/services/gitwork"
	"github.com/peonhq/peon/services/host"
)

// hostFlags configure the agents a host runs.
type hostFlags struct {
	Provider        []string      `sep:"none" placeholder:"NAME=KIND[:COMMAND LINE]" group:"Host" help:"an agent threads can choose by NAME (repeatable); KIND is claude, codex, exec, simulator or external; the command line is split as a shell would, and nothing else ever runs"`
	DefaultProvider string        `default:"${host_default_provider}" group:"Host" help:"the provider of threads that name none (external: an outside adapter answers)"`
	IdleTimeout     time.Duration `default:"${host_idle_timeout}" group:"Host" help:"end a turn whose agent writes nothing for this long, approvals aside (0: never)"`
}

// specs parses --provider.
func (f hostFlags) specs() ([]host.ProviderSpec, []error) {
	var specs []host.ProviderSpec
	var errs []error
	for _, p := range f.Provider {
		spec, err := host.ParseProvider(p)
		if err != nil {
			errs = append(errs, fmt.Errorf("--provider %w", err))
			continue
		}
		specs = append(specs, spec)
	}
	return specs, errs
}

func (f hostFlags) config(name, instance string, specs []host.ProviderSpec) host.Config {
	c := host.DefaultConfig()
	c.Name, c.Instance, c.Providers, c.DefaultProvider = name, instance, specs, f.DefaultProvider
	c.IdleTimeout = f.IdleTimeout
	if f.IdleTimeout == 0 {
		c.IdleTimeout = -1 // the flag's 0 is never; the config's is the default
	}
	return c
}

func (f hostFlags) check(name string, specs []host.ProviderSpec) []error {
	var errs []error
	if f.IdleTimeout < 0 {
		errs = append(errs, fmt.Errorf("--idle-timeout %s is negative", f.IdleTimeout))
	}
	return append(errs, f.config(name, "", specs).Validate())
}

type hostCmd struct {
	Role     roleCmd       `embed:""`
	Name     string        `default:"${host_name}" placeholder:"NAME" group:"Host" help:"the host name this instance serves: projects created with host=NAME"`
	LeaseTTL time.Duration `name:"lease-ttl" default:"${host_lease_ttl}" group:"Host" help:"how long after the active instance stops renewing its lease a standby takes over"`
	Host     hostFlags     `embed:""`
}

func (c *hostCmd) Run(ctx context.Context, env *environment) error {
	specs, errs := c.Host.specs()
	errs = append(errs, c.Host.check(c.Name, specs)...)
	return c.Role.serve(ctx, env, "host", errs, func(nc *nats.Conn, log *slog.Logger) (service, error) {
		cfg := c.Host.config(c.Name, c.Role.Inst.Instance, specs)
		cfg.LeaseTTL = c.LeaseTTL
		return newHostRole(ctx, nc, cfg, gitwork.Config{Instance: c.Role.Inst.Instance}, log)
	})
}

// devProviders are the providers of `peon dev`'s host: the simulator, Claude
// Code and Codex when they are on PATH, then --provider (a name given again
// replaces the built-in one).
func devProviders(f hostFlags, lookPath func(string) (string, error)) ([]host.ProviderSpec, []error) {
	specs := []host.ProviderSpec{{Name: "simulator", Kind: host.KindSimulator}}
	for _, kind := range []string{host.KindClaude, host.KindCodex} {
		if _, err := lookPath(kind); err == nil {
			specs = append(specs, host.ProviderSpec{Name: kind, Kind: kind})
		}
	}
	given, errs := f.specs()
	for _, g := range given {
		replaced := false
		for i := range specs {
			if specs[i].Name == g.Name {
				specs[i], replaced = g, true
			}
		}
		if !replaced {
			specs = append(specs, g)
		}
	}
	return specs, errs
}

// devHostFlags are `peon dev`'s host flags: the same as `peon host`'s, with
// the simulator as the default provider.
type devHostFlags struct {
	Provider        []string      `sep:"none" placeholder:"NAME=KIND[:COMMAND LINE]" group:"Host" help:"an agent threads can choose by NAME (repeatable), beside simulator and claude/codex when on PATH; see peon host"`
	DefaultProvider string        `default:"${dev_default_provider}" group:"Host" help:"the provider of threads that name none"`
	IdleTimeout     time.Duration `default:"${host_idle_timeout}" group:"Host" help:"end a turn whose agent writes nothing for this long, approvals aside (0: never)"`
}

func (f devHostFlags) hostFlags() hostFlags {
	return hostFlags(f) // the same fields; only the defaults in the tags differ
}
