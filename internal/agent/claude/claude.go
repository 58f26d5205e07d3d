// Package claude runs Claude Code headless, one process per turn, and
// reports what it does as Peon provider events.
//
// The process speaks stream-json both ways (the protocol of the official
// Agent SDKs): the prompt goes in as a user message after the control
// protocol's initialize handshake, and every line that comes out is a
// message (system init, stream_event partials, assistant and user
// messages, the result) or a control request (a permission to ask for).
// docs/agents/claude.md has the command line and the full mapping.
package claude

import (
	"context"
	"errors"
	"time"

	"github.com/peonhq/peon/internal/agent"
)

// Defaults of Config.
const (
	// DefaultIdleTimeout is long because a tool (a build, a test run) can
	// legitimately run for minutes without Claude Code writing a line.
	DefaultIdleTimeout = 10 * time.Minute
	DefaultGrace       = 5 * time.Second
)

// Config says how to run Claude Code.
type Config struct {
	// Argv is the program and any arguments of the host's choosing
	// (default ["claude"]); the adapter appends the protocol's flags.
	Argv []string
	// Env is added to the host's environment (ANTHROPIC_API_KEY, say).
	Env []string
	// IdleTimeout ends a turn whose process writes nothing for that long
	// while it is not waiting for an approval. Zero is DefaultIdleTimeout;
	// negative disables the watchdog.
	IdleTimeout time.Duration
	// Grace bounds each wait for the process to end on its own: after its
	// result (then it is killed), after an interrupt request (then SIGINT),
	// after SIGINT (then SIGKILL). Zero is DefaultGrace.
	Grace time.Duration
}

// New returns the Provider that runs Claude Code as cfg says.
func New(cfg Config) agent.Provider {
	if len(cfg.Argv) == 0 {
		cfg.Argv = []string{"claude"}
	}
	switch {
	case cfg.IdleTimeout == 0:
		cfg.IdleTimeout = DefaultIdleTimeout
	case cfg.IdleTimeout < 0:
		cfg.IdleTimeout = 0
	}
	if cfg.Grace <= 0 {
		cfg.Grace = DefaultGrace
	}
	return &provider{cfg: cfg}
}

type provider struct{ cfg Config }

// Start launches Claude Code for the turn and returns once it runs; see
// agent.Provider.
func (p *provider) Start(ctx context.Context, req agent.TurnRequest, emit agent.Emit) (agent.Turn, error) {
	if req.Dir == "" {
		return nil, errors.New("claude: no project directory for the turn")
	}
	if req.Mode == "" {
		req.Mode = agent.ApprovalRequired
	}
	proc, err := agent.StartProcess(ctx, agent.ProcessConfig{
		Argv:        Argv(p.cfg.Argv, req),
		Dir:         req.Dir,
		Env:         p.cfg.Env,
		ThreadID:    req.ThreadID,
		TurnID:      req.TurnID,
		IdleTimeout: p.cfg.IdleTimeout,
		Grace:       p.cfg.Grace,
		MaxLine:     MaxLineBytes,
	})
	if err != nil {
		return nil, err
	}
	t := newTurn(ctx, p.cfg, req, proc, emit)
	t.start()
	return t, nil
}

// Argv is the command line of a turn: base (the configured program) and
// the flags the protocol needs. Values that come from a thread (the model,
// the session) are passed as --flag=value, so that one starting with a
// dash cannot be read as another flag.
func Argv(base []string, req agent.TurnRequest) []string {
	argv := append([]string(nil), base...)
	argv = append(argv,
		"-p",
		"--output-format", "stream-json",
		"--input-format", "stream-json",
		"--verbose",
		"--include-partial-messages",
	)
	if req.Mode == agent.FullAccess {
		argv = append(argv, "--permission-mode", "bypassPermissions")
	} else {
		// Permission prompts come to the adapter as can_use_tool control
		// requests; the mode is explicit so that a user's settings cannot
		// turn asking off.
		argv = append(argv, "--permission-prompt-tool", "stdio", "--permission-mode", "default")
	}
	if req.Model != "" {
		argv = append(argv, "--model="+req.Model)
	}
	if req.SessionID != "" {
		argv = append(argv, "--resume="+req.SessionID)
	}
	return argv
}
