// Package execagent runs any program as a coding agent (provider kind
// `exec`), one process per turn: the prompt goes to its stdin, which is then
// closed; every line it writes to stdout is assistant text; exit status 0
// ends the turn (TurnComplete), any other end is a ProviderError carrying
// the tail of its stderr. It is the simplest way to plug a script in.
package execagent

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// Defaults of Config.
const (
	DefaultIdleTimeout = 10 * time.Minute
	DefaultGrace       = 5 * time.Second
	// MaxLine bounds one line of output; a longer line ends the turn.
	MaxLine = 1 << 20
	// maxErrorBytes bounds a ProviderError's message.
	maxErrorBytes = 8 << 10
)

// Config says which program to run.
type Config struct {
	// Argv is the program and its arguments, from the host's configuration.
	Argv []string
	// Env is added to the host's environment.
	Env []string
	// IdleTimeout ends a turn whose program writes nothing for that long.
	// Zero is DefaultIdleTimeout; negative disables the watchdog.
	IdleTimeout time.Duration
	// Grace is how long an interrupted program has between SIGINT and
	// SIGKILL. Zero is DefaultGrace.
	Grace time.Duration
}

// New returns the Provider that runs cfg.Argv for each turn.
func New(cfg Config) (agent.Provider, error) {
	if len(cfg.Argv) == 0 {
		return nil, errors.New("exec: no command line configured")
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
	return &provider{cfg: cfg}, nil
}

type provider struct{ cfg Config }

// Start runs the program for the turn; see agent.Provider.
func (p *provider) Start(ctx context.Context, req agent.TurnRequest, emit agent.Emit) (agent.Turn, error) {
	if req.Dir == "" {
		return nil, errors.New("exec: no project directory for the turn")
	}
	proc, err := agent.StartProcess(ctx, agent.ProcessConfig{
		Argv:        p.cfg.Argv,
		Dir:         req.Dir,
		Env:         append(append([]string(nil), p.cfg.Env...), turnEnv(req)...),
		ThreadID:    req.ThreadID,
		TurnID:      req.TurnID,
		IdleTimeout: p.cfg.IdleTimeout,
		Grace:       p.cfg.Grace,
		MaxLine:     MaxLine,
	})
	if err != nil {
		return nil, err
	}
	t := &turn{ctx: ctx, cfg: p.cfg, p: proc, emit: emit, msgID: MessageID(req.TurnID), done: make(chan struct{})}
	proc.Watch(true)
	// The prompt is written from its own goroutine: a long one can fill
	// the pipe while the program is already writing its answer.
	go func() {
		_ = proc.Write([]byte(req.Prompt))
		proc.CloseStdin()
	}()
	go t.run()
	return t, nil
}

// turnEnv tells the program how to play the turn, for scripts that care
// (StartProcess adds which turn it is: PEON_THREAD_ID, PEON_TURN_ID).
func turnEnv(req agent.TurnRequest) []string {
	env := []string{"PEON_RUNTIME_MODE=" + string(req.Mode)}
	if req.Model != "" {
		env = append(env, "PEON_MODEL="+req.Model)
	}
	return env
}

// MessageID is the id of the one assistant message a turn writes, derived
// from the turn id (a hash when the result would not be a valid id).
func MessageID(turnID string) string {
	id := "out-" + turnID
	if domain.ValidID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(turnID))
	return "out-" + hex.EncodeToString(sum[:16])
}

type turn struct {
	ctx         context.Context
	cfg         Config
	p           *agent.Process
	emit        agent.Emit
	msgID       string
	interrupted atomic.Bool
	done        chan struct{}
}

func (t *turn) send(ev domain.ProviderEvent) {
	if !t.interrupted.Load() {
		t.emit(ev)
	}
}

func (t *turn) run() {
	defer close(t.done)
	err := t.p.ReadLines(func(line []byte) error {
		for _, d := range Deltas(line) {
			t.send(domain.TextDelta{MessageID: t.msgID, Delta: d})
		}
		return nil
	})
	if err != nil {
		t.p.Kill()
	}
	exit := t.p.Wait()
	switch {
	case t.interrupted.Load():
	case t.ctx.Err() != nil:
		t.send(domain.ProviderError{Message: "the turn was cancelled: " + t.ctx.Err().Error(), Retryable: true})
	case errors.Is(err, agent.ErrLineTooLong):
		t.send(domain.ProviderError{Message: fmt.Sprintf("the program wrote a line longer than %d bytes and was killed", MaxLine)})
	case err != nil:
		t.send(domain.ProviderError{Message: agent.Truncate("reading the program's output: "+err.Error(), maxErrorBytes), Retryable: true})
	case exit.Idle:
		t.send(domain.ProviderError{Message: fmt.Sprintf("the program wrote nothing for %s (idle timeout) and was killed", t.cfg.IdleTimeout), Retryable: true})
	case exit.OK():
		t.send(domain.TurnComplete{StopReason: domain.StopEndTurn})
	default:
		why := agent.Truncate(exit.Error(), maxErrorBytes)
		t.send(domain.SessionExited{ExitCode: exit.Code, Error: why})
		t.send(domain.ProviderError{Message: why})
	}
}

// Deltas is the assistant text of one line of output: the line and its
// newline, invalid UTF-8 replaced, in pieces no longer than
// agent.MaxTextChunk.
func Deltas(line []byte) []string {
	text := strings.ToValidUTF8(string(line), "\uFFFD") + "\n"
	return agent.Chunks(text, agent.MaxTextChunk)
}

// Respond fails: a program run this way never asks for permission.
func (t *turn) Respond(requestID string, _ agent.Decision) error {
	return fmt.Errorf("exec: no permission request %q awaits an answer (exec agents never ask)", requestID)
}

// Interrupt sends SIGINT to the program's process group, then SIGKILL after
// the grace period. Nothing more is emitted.
func (t *turn) Interrupt() {
	if t.interrupted.CompareAndSwap(false, true) {
		t.p.Interrupt()
	}
}

// Done is closed once the program is gone and the last event is out.
func (t *turn) Done() <-chan struct{} { return t.done }
