// Package agent is how a host drives a coding agent: one Provider per
// configured agent (Claude Code, Codex, any program, the simulator), each
// turn a Turn that reports what the agent does as domain provider events.
// The host turns those into provider messages on peon.provider.<thread_id>;
// adapters know nothing of NATS.
//
// Adapters live in the packages below this one (claude, codex, execagent,
// simagent); the process handling they share (a bounded line reader, the
// tail of stderr, interrupt then kill, an idle watchdog) is in process.go.
package agent

import (
	"context"

	"github.com/peonhq/peon/pkg/domain"
)

// RuntimeMode says whether the agent asks before it acts.
type RuntimeMode string

// Runtime modes (contract 1.1).
const (
	// ApprovalRequired turns the agent's permission requests into pending
	// actions the user approves or rejects. The default.
	ApprovalRequired RuntimeMode = "approval-required"
	// FullAccess runs the agent without asking.
	FullAccess RuntimeMode = "full-access"
)

// TurnRequest is one turn a host asks an agent to play.
type TurnRequest struct {
	ThreadID string
	TurnID   string
	// Prompt is the user's message for the turn.
	Prompt string
	// Dir is the project's path: the agent runs there and nowhere else.
	Dir string
	// Model is the model the thread asks for; empty leaves the agent's default.
	Model string
	// SessionID is the agent's own session to resume (what an earlier
	// turn reported in SessionStarted); empty starts a new one.
	SessionID string
	Mode      RuntimeMode
}

// Emit receives what the agent reports, in order, on one goroutine at a
// time. It should not block for long: the agent's output waits meanwhile.
type Emit func(domain.ProviderEvent)

// Provider starts the turns of one configured agent.
type Provider interface {
	// Start launches the turn and returns once the agent runs. From then on
	// the turn's events go to emit:
	//
	//   - SessionStarted first, as soon as the agent names its session;
	//   - text, thinking, tool calls and results, AwaitingApproval for
	//     each permission request (the agent waits for Turn.Respond);
	//   - exactly one terminal event last: TurnComplete, or ProviderError
	//     (a crash, an idle timeout, output that is not the protocol),
	//     preceded by SessionExited when the agent's process died.
	//
	// After Interrupt the adapter may emit nothing more, or a terminal
	// event; either is fine (the turn has already ended in the domain).
	// ctx bounds the whole turn: when it is done, the agent is killed.
	Start(ctx context.Context, req TurnRequest, emit Emit) (Turn, error)
}

// Turn is a turn in progress.
type Turn interface {
	// Respond answers the permission request the turn reported as
	// AwaitingApproval with requestID. An unknown id is an error.
	Respond(requestID string, d Decision) error
	// Interrupt stops the turn promptly: the agent's own interrupt where
	// its protocol has one, else SIGINT, then SIGKILL after a grace
	// period. The agent's session stays resumable.
	Interrupt()
	// Done is closed once the turn has ended, its last event has been
	// emitted and the agent's process is gone.
	Done() <-chan struct{}
}

// Decision answers a permission request.
type Decision struct {
	Allow bool
	// Reason is passed to the agent when it is denied.
	Reason string
}

// Limits on what one provider event carries, so that every event fits a
// provider message and an IngestProviderEvent command with room to spare
// (a command body is at most 256 KiB).
const (
	// MaxTextChunk bounds the text of one TextDelta or ThinkingDelta:
	// longer text is split into several deltas of the same message.
	MaxTextChunk = 16 << 10
	// MaxFieldBytes bounds a tool call's input (encoded) and a tool
	// result's output; longer is cut with a note saying how much was left out.
	MaxFieldBytes = 64 << 10
)
