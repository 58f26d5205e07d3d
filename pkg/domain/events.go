package domain

import "time"

// Event is a fact: something that happened, named in the past tense. Events
// are never rejected when folded; Project applies whatever it is given.
type Event interface {
	// EventType is the event's type tag, exactly as the contract names it.
	EventType() string
}

// ThreadEvent is an event about one thread; it is stored on that thread's subject.
type ThreadEvent interface {
	Event
	EventThreadID() string
}

// ProjectEvent is an event about a project itself (not one of its threads).
type ProjectEvent interface {
	Event
	EventProjectID() string
}

// StoredEvent is an event as the stream holds it: Sequence is the JetStream
// stream sequence of its message and StoredAt the server's timestamp for it.
type StoredEvent struct {
	Sequence uint64    `json:"sequence"`
	Event    Event     `json:"-"`
	StoredAt time.Time `json:"stored_at"`
}

// Event type tags.
const (
	TypeProjectCreated         = "ProjectCreated"
	TypeProjectRenamed         = "ProjectRenamed"
	TypeProjectDeleted         = "ProjectDeleted"
	TypeThreadCreated          = "ThreadCreated"
	TypeThreadDeleted          = "ThreadDeleted"
	TypeThreadSelected         = "ThreadSelected"
	TypeThreadStatusChanged    = "ThreadStatusChanged"
	TypeTurnStarted            = "TurnStarted"
	TypeTurnCompleted          = "TurnCompleted"
	TypeTurnInterrupted        = "TurnInterrupted"
	TypeTurnFailed             = "TurnFailed"
	TypeMessageAppended        = "MessageAppended"
	TypeMessageChunkReceived   = "MessageChunkReceived"
	TypeMessageCompleted       = "MessageCompleted"
	TypeThinkingChunkReceived  = "ThinkingChunkReceived"
	TypeToolCallStarted        = "ToolCallStarted"
	TypeToolCallCompleted      = "ToolCallCompleted"
	TypePendingActionRequested = "PendingActionRequested"
	TypePendingActionResolved  = "PendingActionResolved"
	TypeCheckpointCreated      = "CheckpointCreated"
	TypeCheckpointRestored     = "CheckpointRestored"
	TypeCommitRequested        = "CommitRequested"
	TypeBranchCreateRequested  = "BranchCreateRequested"
	TypePushRequested          = "PushRequested"
)

// ProjectCreated: a project was registered; Path is stored cleaned. Host
// is absent in events recorded before contract 1.1 (read as DefaultHost).
type ProjectCreated struct {
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
	Path      string `json:"path"`
	Host      string `json:"host,omitempty"`
}

// ProjectRenamed: a project's name changed.
type ProjectRenamed struct {
	ProjectID string `json:"project_id"`
	Name      string `json:"name"`
}

// ProjectDeleted: a project was soft-deleted (kept, flagged deleted).
type ProjectDeleted struct {
	ProjectID string `json:"project_id"`
}

// ThreadCreated: a thread was opened in a project. Provider (empty: the
// host's default) and RuntimeMode are absent in events recorded before
// contract 1.1 (RuntimeMode then reads as RuntimeApprovalRequired).
type ThreadCreated struct {
	ThreadID    string      `json:"thread_id"`
	ProjectID   string      `json:"project_id"`
	Title       string      `json:"title,omitempty"`
	Model       string      `json:"model,omitempty"`
	Provider    string      `json:"provider,omitempty"`
	RuntimeMode RuntimeMode `json:"runtime_mode,omitempty"`
}

// ThreadDeleted: a thread was soft-deleted.
type ThreadDeleted struct {
	ThreadID string `json:"thread_id"`
}

// ThreadSelected: the user selected a thread.
type ThreadSelected struct {
	ThreadID string `json:"thread_id"`
}

// ThreadStatusChanged: a thread moved in its status machine. LastError is set
// with the Error status.
type ThreadStatusChanged struct {
	ThreadID  string       `json:"thread_id"`
	Status    ThreadStatus `json:"status"`
	LastError string       `json:"last_error,omitempty"`
}

// TurnStarted: a turn began; the prompt becomes the user message MessageID.
type TurnStarted struct {
	ThreadID  string `json:"thread_id"`
	TurnID    string `json:"turn_id"`
	MessageID string `json:"message_id"`
	Text      string `json:"text"`
}

// TurnCompleted: the agent finished the turn.
type TurnCompleted struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	StopReason       string   `json:"stop_reason,omitempty"`
	Usage            Usage    `json:"usage"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// TurnInterrupted: the turn was stopped before the agent finished.
type TurnInterrupted struct {
	ThreadID string `json:"thread_id"`
	TurnID   string `json:"turn_id"`
}

// TurnFailed: the agent reported an error that ended the turn.
type TurnFailed struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	Error            string   `json:"error"`
	Retryable        bool     `json:"retryable,omitempty"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// MessageAppended: a new assistant message started streaming with its first chunk.
type MessageAppended struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	MessageID        string   `json:"message_id"`
	Role             Role     `json:"role"`
	Text             string   `json:"text"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// MessageChunkReceived: more text for a streaming message.
type MessageChunkReceived struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	MessageID        string   `json:"message_id"`
	Delta            string   `json:"delta"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// MessageCompleted: a message stopped streaming.
type MessageCompleted struct {
	ThreadID  string `json:"thread_id"`
	MessageID string `json:"message_id"`
}

// ThinkingChunkReceived: reasoning text for a message, kept apart from the
// visible transcript (in the message ThinkingMessageID(MessageID)).
type ThinkingChunkReceived struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	MessageID        string   `json:"message_id"`
	Delta            string   `json:"delta"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// ToolCallStarted: the agent began a tool call. Kind is one of the ToolKind
// constants (absent in events recorded before contract 1.1: read as
// ToolKindOther).
type ToolCallStarted struct {
	ThreadID         string         `json:"thread_id"`
	TurnID           string         `json:"turn_id"`
	ToolCallID       string         `json:"tool_call_id"`
	Name             string         `json:"name"`
	Kind             string         `json:"kind,omitempty"`
	Input            map[string]any `json:"input,omitempty"`
	ProviderEventIDs []string       `json:"provider_event_ids,omitempty"`
}

// ToolCallCompleted: a tool call finished, or was cancelled with its turn.
type ToolCallCompleted struct {
	ThreadID         string   `json:"thread_id"`
	ToolCallID       string   `json:"tool_call_id"`
	Output           string   `json:"output,omitempty"`
	IsError          bool     `json:"is_error,omitempty"`
	Cancelled        bool     `json:"cancelled,omitempty"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// PendingActionRequested: the agent asked the user to approve an action.
type PendingActionRequested struct {
	ThreadID         string   `json:"thread_id"`
	TurnID           string   `json:"turn_id"`
	RequestID        string   `json:"request_id"`
	ToolCallID       string   `json:"tool_call_id,omitempty"`
	Kind             string   `json:"kind,omitempty"`
	Description      string   `json:"description,omitempty"`
	ProviderEventIDs []string `json:"provider_event_ids,omitempty"`
}

// PendingActionResolved: a pending action was approved, rejected or cancelled.
type PendingActionResolved struct {
	ThreadID   string     `json:"thread_id"`
	RequestID  string     `json:"request_id"`
	Resolution Resolution `json:"resolution"`
	Reason     string     `json:"reason,omitempty"`
}

// CheckpointCreated: a git snapshot was recorded for a turn. Schema v2:
// Files are structured changes against the previous checkpoint (v1 listed
// bare paths; see upcastCheckpointCreatedV1) and Commit names the snapshot.
type CheckpointCreated struct {
	ThreadID     string       `json:"thread_id"`
	CheckpointID string       `json:"checkpoint_id"`
	TurnID       string       `json:"turn_id"`
	Ref          string       `json:"ref"`
	Commit       string       `json:"commit,omitempty"`
	Files        []FileChange `json:"files,omitempty"`
}

// CheckpointRestored: the thread was rolled back to a checkpoint; turns,
// messages and checkpoints after it are dropped from the model. Since
// contract 1.1 it also requests restoring the working tree: the git
// operation OperationID (absent in earlier events, which requested none).
type CheckpointRestored struct {
	ThreadID     string `json:"thread_id"`
	CheckpointID string `json:"checkpoint_id"`
	TurnID       string `json:"turn_id"`
	Ref          string `json:"ref"`
	Commit       string `json:"commit,omitempty"`
	OperationID  string `json:"operation_id,omitempty"`
}

// CommitRequested: the user asked for a commit (a pending git operation).
type CommitRequested struct {
	ThreadID    string `json:"thread_id"`
	OperationID string `json:"operation_id"`
	Message     string `json:"message"`
}

// BranchCreateRequested: the user asked for a branch (a pending git operation).
type BranchCreateRequested struct {
	ThreadID    string `json:"thread_id"`
	OperationID string `json:"operation_id"`
	Name        string `json:"name"`
	Base        string `json:"base,omitempty"`
}

// PushRequested: the user asked for a push (a pending git operation).
type PushRequested struct {
	ThreadID    string `json:"thread_id"`
	OperationID string `json:"operation_id"`
	Branch      string `json:"branch"`
	Remote      string `json:"remote"`
}
