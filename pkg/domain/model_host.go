package domain

// The parts of the read model that contract 1.1 adds for hosts: where a
// project lives, how a thread's agent runs, and the agent's own session.

// DefaultHost is the host of a project created without one: the host that
// `peon dev` runs in-process.
const DefaultHost = "local"

// RuntimeMode says whether a thread's agent asks before it acts.
type RuntimeMode string

// Runtime modes.
const (
	// RuntimeApprovalRequired (the default) turns the agent's permission
	// requests into pending actions the user approves or rejects.
	RuntimeApprovalRequired RuntimeMode = "approval-required"
	// RuntimeFullAccess runs the agent without asking.
	RuntimeFullAccess RuntimeMode = "full-access"
)

// valid reports whether m is one of the runtime modes.
func (m RuntimeMode) valid() bool { return m == RuntimeApprovalRequired || m == RuntimeFullAccess }

// orDefaultMode reads an absent runtime mode (a thread recorded before
// contract 1.1) as the default.
func orDefaultMode(m RuntimeMode) RuntimeMode {
	if m == "" {
		return RuntimeApprovalRequired
	}
	return m
}

// orDefaultHost reads an absent host (a project recorded before contract
// 1.1) as DefaultHost.
func orDefaultHost(h string) string {
	if h == "" {
		return DefaultHost
	}
	return h
}

// SessionStatus is the state of an agent's own session.
type SessionStatus string

// Session statuses.
const (
	// SessionStatusActive: the agent reported its session and has not exited.
	SessionStatusActive SessionStatus = "active"
	// SessionStatusExited: the agent's process ended; the session id
	// stays, so the next turn can still resume it.
	SessionStatusExited SessionStatus = "exited"
)

// Session is the agent's own session for a thread, as the agent last
// reported it: SessionID is what the next turn resumes (a later
// AgentSessionStarted replaces it), Host the host that runs it, Model the
// model the agent says it uses. LastError and ExitCode are set when it exited.
type Session struct {
	Status    SessionStatus `json:"status"`
	SessionID string        `json:"session_id,omitempty"`
	Host      string        `json:"host,omitempty"`
	Model     string        `json:"model,omitempty"`
	ExitCode  int           `json:"exit_code,omitempty"`
	LastError string        `json:"last_error,omitempty"`
	Seq       uint64        `json:"seq"`
}
