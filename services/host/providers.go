package host

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/internal/agent/claude"
	"github.com/peonhq/peon/internal/agent/codex"
	"github.com/peonhq/peon/internal/agent/execagent"
	"github.com/peonhq/peon/internal/agent/simagent"
	"github.com/peonhq/peon/pkg/domain"
	"mvdan.cc/sh/v3/shell"
)

// Provider kinds.
const (
	KindClaude    = "claude"
	KindCodex     = "codex"
	KindExec      = "exec"
	KindSimulator = "simulator"
	// KindExternal runs nothing: an outside adapter publishes the
	// thread's provider events (contract 1).
	KindExternal = "external"
)

// External is the provider every host has: it runs nothing.
const External = "external"

// ProviderSpec is one configured provider: a name threads choose by, its
// kind, and for the kinds that run a program, its command line.
type ProviderSpec struct {
	Name string
	Kind string
	// Argv is the command line (empty: the kind's default; exec needs one).
	Argv []string
}

// String is the flag form, NAME=KIND[:COMMAND LINE].
func (p ProviderSpec) String() string {
	s := p.Name + "=" + p.Kind
	if len(p.Argv) > 0 {
		s += ":" + strings.Join(p.Argv, " ")
	}
	return s
}

// ParseProvider reads NAME=KIND[:COMMAND LINE]. The command line is split
// into words as a POSIX shell would (quotes, backslashes, $VARS and ~ from
// the host's environment), but nothing runs a shell: no pipes, no
// command substitution.
func ParseProvider(s string) (ProviderSpec, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok {
		return ProviderSpec{}, fmt.Errorf("provider %q: want NAME=KIND[:COMMAND LINE]", s)
	}
	kind, line, hasLine := strings.Cut(rest, ":")
	spec := ProviderSpec{Name: strings.TrimSpace(name), Kind: strings.TrimSpace(kind)}
	if hasLine {
		argv, err := shell.Fields(line, os.Getenv)
		if err != nil {
			return ProviderSpec{}, fmt.Errorf("provider %q: command line: %w", spec.Name, err)
		}
		spec.Argv = argv
	}
	return spec, spec.validate()
}

func (p ProviderSpec) validate() error {
	var errs []error
	if !domain.ValidID(p.Name) {
		errs = append(errs, fmt.Errorf("provider name %q is not 1-64 characters of A-Z a-z 0-9 _ -", p.Name))
	}
	switch p.Kind {
	case KindClaude, KindCodex:
	case KindExec:
		if len(p.Argv) == 0 {
			errs = append(errs, fmt.Errorf("provider %q: kind exec needs a command line (NAME=exec:COMMAND)", p.Name))
		}
	case KindSimulator, KindExternal:
		if len(p.Argv) > 0 {
			errs = append(errs, fmt.Errorf("provider %q: kind %s runs no program", p.Name, p.Kind))
		}
	default:
		errs = append(errs, fmt.Errorf("provider %q: unknown kind %q (claude, codex, exec, simulator, external)", p.Name, p.Kind))
	}
	return errors.Join(errs...)
}

// build makes the agent.Provider of a spec; nil for external.
func (p ProviderSpec) build(idle time.Duration) (agent.Provider, error) {
	switch p.Kind {
	case KindClaude:
		return claude.New(claude.Config{Argv: p.Argv, IdleTimeout: idle}), nil
	case KindCodex:
		return codex.New(codex.Config{Argv: p.Argv, IdleTimeout: idle}), nil
	case KindExec:
		return execagent.New(execagent.Config{Argv: p.Argv, IdleTimeout: idle})
	case KindSimulator:
		return simagent.New(simagent.DefaultScript), nil
	case KindExternal:
		return nil, nil
	}
	return nil, fmt.Errorf("provider %q: unknown kind %q", p.Name, p.Kind)
}

// providerNames lists the configured names, external included, sorted.
func providerNames(specs []ProviderSpec) []string {
	names := []string{External}
	for _, s := range specs {
		if s.Name != External {
			names = append(names, s.Name)
		}
	}
	sort.Strings(names)
	return names
}
