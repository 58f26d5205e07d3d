package domain

// Command is a request to change the system. Commands are imperative
// (CreateProject, StartTurn); Decide turns an accepted command into events.
//
// Every command carries a CommandID. Fields tagged `required:"true"` must be
// present on the wire (absent is a bad_request); ids a command creates may be
// left out by clients, and the decider derives them from the command id.
type Command interface {
	// CommandType is the command's type tag, exactly as the contract names it.
	CommandType() string
	// CommandIdentity returns the command id (may be empty before the service assigns one).
	CommandIdentity() string
}

// Command type tags.
const (
	TypeCreateProject        = "CreateProject"
	TypeDeleteProject        = "DeleteProject"
	TypeRenameProject        = "RenameProject"
	TypeCreateThread         = "CreateThread"
	TypeDeleteThread         = "DeleteThread"
	TypeSelectThread         = "SelectThread"
	TypeStartTurn            = "StartTurn"
	TypeInterruptTurn        = "InterruptTurn"
	TypeApprovePendingAction = "ApprovePendingAction"
	TypeRejectPendingAction  = "RejectPendingAction"
	TypeIngestProviderEvent  = "IngestProviderEvent"
	TypeCreateCheckpoint     = "CreateCheckpoint"
	TypeRestoreCheckpoint    = "RestoreCheckpoint"
	TypeCommitChanges        = "CommitChanges"
	TypeCreateBranch         = "CreateBranch"
	TypePushBranch           = "PushBranch"
)

// CreateProject registers a working directory (an absolute path) as a
// project. Host names the machine it lives on (DefaultHost when empty).
type CreateProject struct {
	CommandID string `json:"command_id,omitempty"`
	ProjectID string `json:"project_id,omitempty"`
	Name      string `json:"name" required:"true"`
	Path      string `json:"path" required:"true"`
	Host      string `json:"host,omitempty"`
}

// DeleteProject soft-deletes a project. With Force, its active threads are
// deleted first (ending their active turns); without it, a project that still
// has active threads is refused.
type DeleteProject struct {
	CommandID string `json:"command_id,omitempty"`
	ProjectID string `json:"project_id" required:"true"`
	Force     bool   `json:"force,omitempty"`
}

// RenameProject changes a project's display name.
type RenameProject struct {
	CommandID string `json:"command_id,omitempty"`
	ProjectID string `json:"project_id" required:"true"`
	Name      string `json:"name" required:"true"`
}

// CreateThread opens a new conversation with a coding agent inside a
// project. Provider names the agent (empty: the host's default) and
// RuntimeMode whether it asks first (empty: RuntimeApprovalRequired).
type CreateThread struct {
	CommandID   string      `json:"command_id,omitempty"`
	ThreadID    string      `json:"thread_id,omitempty"`
	ProjectID   string      `json:"project_id" required:"true"`
	Title       string      `json:"title,omitempty"`
	Model       string      `json:"model,omitempty"`
	Provider    string      `json:"provider,omitempty"`
	RuntimeMode RuntimeMode `json:"runtime_mode,omitempty"`
}

// DeleteThread soft-deletes a thread, interrupting its active turn if any.
type DeleteThread struct {
	CommandID string `json:"command_id,omitempty"`
	ThreadID  string `json:"thread_id" required:"true"`
}

// SelectThread marks a thread as the one the user is looking at.
type SelectThread struct {
	CommandID string `json:"command_id,omitempty"`
	ThreadID  string `json:"thread_id" required:"true"`
}

// StartTurn sends the user's prompt to the agent and starts a turn.
type StartTurn struct {
	CommandID string `json:"command_id,omitempty"`
	ThreadID  string `json:"thread_id" required:"true"`
	TurnID    string `json:"turn_id,omitempty"`
	MessageID string `json:"message_id,omitempty"`
	Text      string `json:"text" required:"true"`
}

// InterruptTurn stops the active turn. TurnID, when given, must name it.
type InterruptTurn struct {
	CommandID string `json:"command_id,omitempty"`
	ThreadID  string `json:"thread_id" required:"true"`
	TurnID    string `json:"turn_id,omitempty"`
}

// ApprovePendingAction lets the agent go ahead with an action it asked about.
type ApprovePendingAction struct {
	CommandID string `json:"command_id,omitempty"`
	ThreadID  string `json:"thread_id" required:"true"`
	RequestID string `json:"request_id" required:"true"`
}

// RejectPendingAction refuses an action the agent asked about.
type RejectPendingAction struct {
	CommandID string `json:"command_id,omitempty"`
	ThreadID  string `json:"thread_id" required:"true"`
	RequestID string `json:"request_id" required:"true"`
	Reason    string `json:"reason,omitempty"`
}

// IngestProviderEvent records what the agent reported during the active turn.
// It carries either one provider event (ProviderEventID + Event) or a batch of
// consecutive ones (Events) of the same thread and turn.
type IngestProviderEvent struct {
	CommandID       string                   `json:"command_id,omitempty"`
	ThreadID        string                   `json:"thread_id" required:"true"`
	TurnID          string                   `json:"turn_id" required:"true"`
	ProviderEventID string                   `json:"provider_event_id,omitempty"`
	Event           *ProviderEventEnvelope   `json:"event,omitempty"`
	Events          []ProviderEventBatchItem `json:"events,omitempty"`
}

// ProviderEventBatchItem is one provider event inside a batched IngestProviderEvent.
type ProviderEventBatchItem struct {
	ProviderEventID string                `json:"provider_event_id" required:"true"`
	Event           ProviderEventEnvelope `json:"event" required:"true"`
}

// Items returns the provider events the command carries, single or batched, in order.
func (c IngestProviderEvent) Items() []ProviderEventBatchItem {
	if c.Event != nil {
		items := make([]ProviderEventBatchItem, 0, 1+len(c.Events))
		items = append(items, ProviderEventBatchItem{ProviderEventID: c.ProviderEventID, Event: *c.Event})
		return append(items, c.Events...)
	}
	return c.Events
}

// CreateCheckpoint records a git snapshot taken at the end of a turn: Ref
// and Commit name the snapshot, Files what changed since the previous one.
type CreateCheckpoint struct {
	CommandID    string       `json:"command_id,omitempty"`
	ThreadID     string       `json:"thread_id" required:"true"`
	CheckpointID string       `json:"checkpoint_id,omitempty"`
	TurnID       string       `json:"turn_id" required:"true"`
	Ref          string       `json:"ref" required:"true"`
	Commit       string       `json:"commit,omitempty"`
	Files        []FileChange `json:"files,omitempty"`
}

// RestoreCheckpoint rolls the thread back to a checkpoint and asks for the
// working tree to be restored to it: a git operation (OperationID) that a
// host completes.
type RestoreCheckpoint struct {
	CommandID    string `json:"command_id,omitempty"`
	ThreadID     string `json:"thread_id" required:"true"`
	CheckpointID string `json:"checkpoint_id" required:"true"`
	OperationID  string `json:"operation_id,omitempty"`
}

// CommitChanges asks for the working tree to be committed.
type CommitChanges struct {
	CommandID   string `json:"command_id,omitempty"`
	ThreadID    string `json:"thread_id" required:"true"`
	OperationID string `json:"operation_id,omitempty"`
	Message     string `json:"message" required:"true"`
}

// CreateBranch asks for a git branch to be created (from Base, or HEAD).
type CreateBranch struct {
	CommandID   string `json:"command_id,omitempty"`
	ThreadID    string `json:"thread_id" required:"true"`
	OperationID string `json:"operation_id,omitempty"`
	Name        string `json:"name" required:"true"`
	Base        string `json:"base,omitempty"`
}

// PushBranch asks for a branch to be pushed. Without Branch, the branch the
// thread last created is pushed; without Remote, "origin".
type PushBranch struct {
	CommandID   string `json:"command_id,omitempty"`
	ThreadID    string `json:"thread_id" required:"true"`
	OperationID string `json:"operation_id,omitempty"`
	Branch      string `json:"branch,omitempty"`
	Remote      string `json:"remote,omitempty"`
}

func (CreateProject) CommandType() string        { return TypeCreateProject }
func (DeleteProject) CommandType() string        { return TypeDeleteProject }
func (RenameProject) CommandType() string        { return TypeRenameProject }
func (CreateThread) CommandType() string         { return TypeCreateThread }
func (DeleteThread) CommandType() string         { return TypeDeleteThread }
func (SelectThread) CommandType() string         { return TypeSelectThread }
func (StartTurn) CommandType() string            { return TypeStartTurn }
func (InterruptTurn) CommandType() string        { return TypeInterruptTurn }
func (ApprovePendingAction) CommandType() string { return TypeApprovePendingAction }
func (RejectPendingAction) CommandType() string  { return TypeRejectPendingAction }
func (IngestProviderEvent) CommandType() string  { return TypeIngestProviderEvent }
func (CreateCheckpoint) CommandType() string     { return TypeCreateCheckpoint }
func (RestoreCheckpoint) CommandType() string    { return TypeRestoreCheckpoint }
func (CommitChanges) CommandType() string        { return TypeCommitChanges }
func (CreateBranch) CommandType() string         { return TypeCreateBranch }
func (PushBranch) CommandType() string           { return TypePushBranch }

func (c CreateProject) CommandIdentity() string        { return c.CommandID }
func (c DeleteProject) CommandIdentity() string        { return c.CommandID }
func (c RenameProject) CommandIdentity() string        { return c.CommandID }
func (c CreateThread) CommandIdentity() string         { return c.CommandID }
func (c DeleteThread) CommandIdentity() string         { return c.CommandID }
func (c SelectThread) CommandIdentity() string         { return c.CommandID }
func (c StartTurn) CommandIdentity() string            { return c.CommandID }
func (c InterruptTurn) CommandIdentity() string        { return c.CommandID }
func (c ApprovePendingAction) CommandIdentity() string { return c.CommandID }
func (c RejectPendingAction) CommandIdentity() string  { return c.CommandID }
func (c IngestProviderEvent) CommandIdentity() string  { return c.CommandID }
func (c CreateCheckpoint) CommandIdentity() string     { return c.CommandID }
func (c RestoreCheckpoint) CommandIdentity() string    { return c.CommandID }
func (c CommitChanges) CommandIdentity() string        { return c.CommandID }
func (c CreateBranch) CommandIdentity() string         { return c.CommandID }
func (c PushBranch) CommandIdentity() string           { return c.CommandID }
