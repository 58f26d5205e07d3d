package domain

// Events that contract 1.1 adds.

// Event type tags (contract 1.1).
const (
	TypeThreadConfigured      = "ThreadConfigured"
	TypeAgentSessionStarted   = "AgentSessionStarted"
	TypeAgentSessionExited    = "AgentSessionExited"
	TypeGitOperationCompleted = "GitOperationCompleted"
	TypeGitOperationFailed    = "GitOperationFailed"
)

// ThreadConfigured: some of a thread's settings changed; only the changed
// ones are present.
type ThreadConfigured struct {
	ThreadID    string       `json:"thread_id"`
	Title       *string      `json:"title,omitempty"`
	Model       *string      `json:"model,omitempty"`
	Provider    *string      `json:"provider,omitempty"`
	RuntimeMode *RuntimeMode `json:"runtime_mode,omitempty"`
}

// AgentSessionStarted: the agent opened (or resumed) its own session during
// a turn (from the provider event SessionStarted). SessionID replaces the
// thread's session: the next turn resumes it.
type AgentSessionStarted struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	SessionID        string   `json:"session_id"`
	Model            string   `json:"model,omitempty"`
	Host             string   `json:"host,omitempty"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// AgentSessionExited: the agent's process ended during a turn (from the
// provider event SessionExited). The turn itself ends with the terminal
// provider event that follows.
type AgentSessionExited struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	ExitCode         int      `json:"exit_code"`
	Error            string   `json:"error,omitempty"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// GitOperationCompleted: a host ran a requested git operation successfully.
type GitOperationCompleted struct {
	ThreadID    string `json:"thread_id"`
	OperationID string `json:"operation_id"`
	SHA         string `json:"sha,omitempty"`
	Output      string `json:"output,omitempty"`
}

// GitOperationFailed: a requested git operation failed; Error is git's own
// message (or why the host could not run it).
type GitOperationFailed struct {
	ThreadID    string `json:"thread_id"`
	OperationID string `json:"operation_id"`
	Error       string `json:"error"`
}

func (ThreadConfigured) EventType() string      { return TypeThreadConfigured }
func (AgentSessionStarted) EventType() string   { return TypeAgentSessionStarted }
func (AgentSessionExited) EventType() string    { return TypeAgentSessionExited }
func (GitOperationCompleted) EventType() string { return TypeGitOperationCompleted }
func (GitOperationFailed) EventType() string    { return TypeGitOperationFailed }

func (e ThreadConfigured) EventThreadID() string      { return e.ThreadID }
func (e AgentSessionStarted) EventThreadID() string   { return e.ThreadID }
func (e AgentSessionExited) EventThreadID() string    { return e.ThreadID }
func (e GitOperationCompleted) EventThreadID() string { return e.ThreadID }
func (e GitOperationFailed) EventThreadID() string    { return e.ThreadID }
