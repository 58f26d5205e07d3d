// Package codex drives the Codex app-server (`codex app-server`, JSON-RPC
// as newline-delimited JSON over stdio) for one turn and reports what it
// does as Peon provider events.
//
// Each turn runs its own app-server process in the project's directory:
// initialize, then thread/resume (or thread/start), then turn/start; the
// process is shut down once the turn has ended. docs/agents/codex.md has
// the mapping from app-server messages to provider events.
package codex

import (
	"context"
	"time"

	"github.com/peonhq/peon/internal/agent"
)

// Config configures the Codex provider.
type Config struct {
	// Argv is the app-server's command line (default ["codex", "app-server"],
	// which serves the protocol on stdio).
	Argv []string
	// Env is added to the host's environment (CODEX_HOME, say).
	Env []string
	// IdleTimeout ends a turn whose app-server writes nothing for that long
	// while it is not waiting for an approval; 0 disables it.
	IdleTimeout time.Duration
	// Grace is how long the app-server gets to exit once its stdin is
	// closed, and between SIGINT and SIGKILL (default 5 s).
	Grace time.Duration
	// InterruptGrace is how long Interrupt waits for turn/interrupt to end
	// the process before it signals it (default 5 s).
	InterruptGrace time.Duration
	// ApprovalPolicy is Codex's approval policy for approval-required turns
	// (default "on-request": Codex asks when it wants to leave the
	// workspace-write sandbox; "untrusted" asks before anything but known
	// safe reads).
	ApprovalPolicy string
	// ClientVersion is the version reported in initialize's clientInfo.
	ClientVersion string
}

// Approval policies and sandbox modes as the app-server names them
// (AskForApproval and SandboxMode in v2/shared.rs, kebab-case on the wire).
const (
	policyOnRequest = "on-request"
	policyNever     = "never"

	sandboxWorkspaceWrite   = "workspace-write"
	sandboxDangerFullAccess = "danger-full-access"
)

// New returns the Codex provider.
func New(cfg Config) agent.Provider {
	if len(cfg.Argv) == 0 {
		cfg.Argv = []string{"codex", "app-server"}
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.InterruptGrace <= 0 {
		cfg.InterruptGrace = 5 * time.Second
	}
	if cfg.ApprovalPolicy == "" {
		cfg.ApprovalPolicy = policyOnRequest
	}
	if cfg.ClientVersion == "" {
		cfg.ClientVersion = "0"
	}
	return &provider{cfg: cfg}
}

type provider struct{ cfg Config }

// Start launches the app-server for one turn; the protocol is driven from
// the turn's own goroutine, which is the only one that emits.
func (p *provider) Start(ctx context.Context, req agent.TurnRequest, emit agent.Emit) (agent.Turn, error) {
	proc, err := agent.StartProcess(ctx, agent.ProcessConfig{
		Argv:        p.cfg.Argv,
		Dir:         req.Dir,
		Env:         p.cfg.Env,
		ThreadID:    req.ThreadID,
		TurnID:      req.TurnID,
		IdleTimeout: p.cfg.IdleTimeout,
		Grace:       p.cfg.Grace,
		MaxLine:     MaxLine,
	})
	if err != nil {
		return nil, err
	}
	t := newTurn(ctx, p.cfg, req, emit, proc)
	proc.Watch(true)
	go t.run()
	return t, nil
}

// policy is the approval policy and sandbox for a runtime mode: full
// access never asks and runs unsandboxed, as a full-access client does.
func (c Config) policy(mode agent.RuntimeMode) (approval, sandbox string) {
	if mode == agent.FullAccess {
		return policyNever, sandboxDangerFullAccess
	}
	return c.ApprovalPolicy, sandboxWorkspaceWrite
}
