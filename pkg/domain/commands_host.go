package domain

// Commands that contract 1.1 adds: configuring a thread's agent, and the
// outcome of a git operation as the host that ran it reports it.

// Command type tags (contract 1.1).
const (
	TypeConfigureThread      = "ConfigureThread"
	TypeCompleteGitOperation = "CompleteGitOperation"
)

// ConfigureThread changes how a thread's agent runs. Each field is optional:
// absent leaves it as it is, present sets it (an empty Model is the agent's
// default, an empty Provider the host's default). Refused while a turn is in
// flight; nothing changes, no events.
type ConfigureThread struct {
	CommandID   string       `json:"command_id,omitempty"`
	ThreadID    string       `json:"thread_id" required:"true"`
	Title       *string      `json:"title,omitempty"`
	Model       *string      `json:"model,omitempty"`
	Provider    *string      `json:"provider,omitempty"`
	RuntimeMode *RuntimeMode `json:"runtime_mode,omitempty"`
}

// CompleteGitOperation records how a requested git operation ended, as the
// host that ran it reports: Status GitStatusCompleted with SHA (the commit a
// commit made; what a branch, push or restore left HEAD at, when known) and
// Output, or GitStatusFailed with Error (git's own message).
type CompleteGitOperation struct {
	CommandID   string `json:"command_id,omitempty"`
	ThreadID    string `json:"thread_id" required:"true"`
	OperationID string `json:"operation_id" required:"true"`
	Status      string `json:"status" required:"true"`
	SHA         string `json:"sha,omitempty"`
	Output      string `json:"output,omitempty"`
	Error       string `json:"error,omitempty"`
}

func (ConfigureThread) CommandType() string      { return TypeConfigureThread }
func (CompleteGitOperation) CommandType() string { return TypeCompleteGitOperation }

func (c ConfigureThread) CommandIdentity() string      { return c.CommandID }
func (c CompleteGitOperation) CommandIdentity() string { return c.CommandID }
