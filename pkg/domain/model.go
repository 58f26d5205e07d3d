package domain

import "time"

// ThreadStatus is where a thread stands in its status machine.
type ThreadStatus string

// Thread statuses.
const (
	StatusIdle             ThreadStatus = "Idle"
	StatusRunning          ThreadStatus = "Running"
	StatusAwaitingApproval ThreadStatus = "AwaitingApproval"
	StatusError            ThreadStatus = "Error"
)

// busy reports whether a turn is in flight (the agent is working or waiting).
func (s ThreadStatus) busy() bool { return s == StatusRunning || s == StatusAwaitingApproval }

// Role says who wrote a message.
type Role string

// Message roles. Thinking messages hold the agent's reasoning apart from the
// visible transcript.
const (
	RoleUser      Role = "user"
	RoleAssistant Role = "assistant"
	RoleThinking  Role = "thinking"
)

// TurnStatus is the state of one turn.
type TurnStatus string

// Turn statuses.
const (
	TurnStatusRunning     TurnStatus = "running"
	TurnStatusCompleted   TurnStatus = "completed"
	TurnStatusInterrupted TurnStatus = "interrupted"
	TurnStatusFailed      TurnStatus = "failed"
)

// Resolution is how a pending action ended.
type Resolution string

// Pending action resolutions; ResolutionPending is the state before any.
const (
	ResolutionPending   Resolution = "pending"
	ResolutionApproved  Resolution = "approved"
	ResolutionRejected  Resolution = "rejected"
	ResolutionCancelled Resolution = "cancelled"
)

// ToolCallStatus is the state of one tool call.
type ToolCallStatus string

// Tool call statuses.
const (
	ToolCallRunning   ToolCallStatus = "running"
	ToolCallSucceeded ToolCallStatus = "completed"
	ToolCallErrored   ToolCallStatus = "error"
	ToolCallCancelled ToolCallStatus = "cancelled"
)

// GitOperationKind names a requested git operation.
type GitOperationKind string

// Git operation kinds.
const (
	GitCommit  GitOperationKind = "commit"
	GitBranch  GitOperationKind = "branch"
	GitPush    GitOperationKind = "push"
	GitRestore GitOperationKind = "restore" // contract 1.1: back to a checkpoint
)

// Model is the read model that events fold into. The decider folds an
// aggregate's events into one to decide; projectors fold the whole stream.
//
// A Model is owned by one goroutine: Project mutates it in place (so that
// streaming a message costs O(1) amortised per chunk) and nothing in it is
// safe for concurrent use. Decide only reads it.
type Model struct {
	Projects         map[string]*ProjectState `json:"projects"`
	Threads          map[string]*ThreadState  `json:"threads"`
	SelectedThreadID string                   `json:"selected_thread_id,omitempty"`
	LastSequence     uint64                   `json:"last_sequence"`

	// activePaths maps the cleaned path of every active project to its id,
	// so the duplicate-path rule is a map lookup.
	activePaths map[string]string
}

// NewModel returns an empty model.
func NewModel() *Model {
	return &Model{
		Projects:    map[string]*ProjectState{},
		Threads:     map[string]*ThreadState{},
		activePaths: map[string]string{},
	}
}

// ActiveProject returns the project with id unless it is unknown or deleted.
func (m *Model) ActiveProject(id string) (*ProjectState, bool) {
	p, ok := m.Projects[id]
	if !ok || p.Deleted {
		return nil, false
	}
	return p, true
}

// ActiveThread returns the thread with id unless it is unknown or deleted.
func (m *Model) ActiveThread(id string) (*ThreadState, bool) {
	t, ok := m.Threads[id]
	if !ok || t.Deleted {
		return nil, false
	}
	return t, true
}

// ProjectByPath returns the id of the active project at a cleaned path.
func (m *Model) ProjectByPath(cleanPath string) (string, bool) {
	id, ok := m.activePaths[cleanPath]
	return id, ok
}

// ProjectState is a project as the read model knows it. Host names the
// machine it lives on (contract 1.1; DefaultHost for projects recorded
// before hosts existed).
type ProjectState struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Path      string    `json:"path"`
	Host      string    `json:"host"`
	Deleted   bool      `json:"deleted"`
	CreatedAt time.Time `json:"created_at"`
	UpdatedAt time.Time `json:"updated_at"`
	ThreadIDs []string  `json:"thread_ids"`
	Seq       uint64    `json:"seq"`
}

// ThreadState is a thread as the read model knows it. Turns, messages, tool
// calls, pending actions, checkpoints and git operations are kept in the
// order they happened; the unexported maps index them by id.
//
// Contract 1.1: Provider is the agent the thread runs with (empty: the
// host's default), RuntimeMode whether it asks first, Session the agent's
// own session as it last reported it (nil until it reports one), and
// UsageTotal the sum of every completed turn's usage.
type ThreadState struct {
	ID             string           `json:"id"`
	ProjectID      string           `json:"project_id"`
	Title          string           `json:"title"`
	Model          string           `json:"model"`
	Provider       string           `json:"provider"`
	RuntimeMode    RuntimeMode      `json:"runtime_mode"`
	Session        *Session         `json:"session,omitempty"`
	UsageTotal     Usage            `json:"usage_total"`
	Status         ThreadStatus     `json:"status"`
	ActiveTurnID   string           `json:"active_turn_id"`
	LastError      string           `json:"last_error"`
	Deleted        bool             `json:"deleted"`
	CreatedAt      time.Time        `json:"created_at"`
	UpdatedAt      time.Time        `json:"updated_at"`
	Turns          []*Turn          `json:"turns"`
	Messages       []*Message       `json:"-"`
	PendingActions []*PendingAction `json:"pending_actions"`
	ToolCalls      []*ToolCallState `json:"tool_calls"`
	Checkpoints    []*Checkpoint    `json:"checkpoints"`
	GitOperations  []*GitOperation  `json:"git_operations"`
	// LastBranch is the branch most recently requested on this thread; a
	// PushBranch without a branch pushes it.
	LastBranch string `json:"last_branch,omitempty"`
	Seq        uint64 `json:"seq"`

	turns       map[string]*Turn
	messages    map[string]*Message
	pending     map[string]*PendingAction
	toolCalls   map[string]*ToolCallState
	checkpoints map[string]*Checkpoint
	operations  map[string]*GitOperation
}

func newThreadState(e ThreadCreated, at time.Time, seq uint64) *ThreadState {
	return &ThreadState{
		ID: e.ThreadID, ProjectID: e.ProjectID, Title: e.Title, Model: e.Model,
		Provider: e.Provider, RuntimeMode: orDefaultMode(e.RuntimeMode),
		Status: StatusIdle, CreatedAt: at, UpdatedAt: at, Seq: seq,
		turns:       map[string]*Turn{},
		messages:    map[string]*Message{},
		pending:     map[string]*PendingAction{},
		toolCalls:   map[string]*ToolCallState{},
		checkpoints: map[string]*Checkpoint{},
		operations:  map[string]*GitOperation{},
	}
}

// Turn looks a turn up by id.
func (t *ThreadState) Turn(id string) (*Turn, bool) { tu, ok := t.turns[id]; return tu, ok }

// Message looks a message up by id.
func (t *ThreadState) Message(id string) (*Message, bool) { m, ok := t.messages[id]; return m, ok }

// PendingAction looks a pending action up by request id.
func (t *ThreadState) PendingAction(id string) (*PendingAction, bool) {
	p, ok := t.pending[id]
	return p, ok
}

// ToolCall looks a tool call up by id.
func (t *ThreadState) ToolCall(id string) (*ToolCallState, bool) {
	c, ok := t.toolCalls[id]
	return c, ok
}

// Checkpoint looks a checkpoint up by id.
func (t *ThreadState) Checkpoint(id string) (*Checkpoint, bool) {
	c, ok := t.checkpoints[id]
	return c, ok
}

// GitOperation looks a git operation up by id.
func (t *ThreadState) GitOperation(id string) (*GitOperation, bool) {
	o, ok := t.operations[id]
	return o, ok
}

// ActiveTurn returns the turn in flight, if any.
func (t *ThreadState) ActiveTurn() (*Turn, bool) {
	if t.ActiveTurnID == "" {
		return nil, false
	}
	return t.Turn(t.ActiveTurnID)
}

// Turn is one exchange: the prompt, then the agent's work until it ends.
type Turn struct {
	ID            string     `json:"id"`
	Status        TurnStatus `json:"status"`
	UserMessageID string     `json:"user_message_id"`
	StopReason    string     `json:"stop_reason,omitempty"`
	Usage         Usage      `json:"usage"`
	Error         string     `json:"error,omitempty"`
	StartedAt     time.Time  `json:"started_at"`
	EndedAt       time.Time  `json:"ended_at,omitzero"`
	Seq           uint64     `json:"seq"`

	// What ending the turn must close, in the order it was opened.
	openMessages  []string
	openToolCalls []string
	openRequests  []string
	// Provider event ids already applied in this turn, so a redelivered
	// provider event is never applied twice. Dropped when the turn ends:
	// after that every provider event for the turn is stale anyway.
	applied map[string]struct{}
}

// Message is one entry of a thread's transcript. Its text grows by appending,
// so a message streamed as many chunks costs O(1) amortised per chunk.
type Message struct {
	ID        string `json:"message_id"`
	ThreadID  string `json:"thread_id"`
	TurnID    string `json:"turn_id"`
	Role      Role   `json:"role"`
	Streaming bool   `json:"streaming"`
	// CreatedSeq is the sequence of the event that started the message; it
	// orders the transcript.
	CreatedSeq uint64 `json:"created_seq"`
	Seq        uint64 `json:"seq"`
	text       []byte
}

// Text returns the message's text assembled so far.
func (m *Message) Text() string { return string(m.text) }

// TextLen returns the length of the text in bytes without copying it.
func (m *Message) TextLen() int { return len(m.text) }

// ThinkingMessageID is the transcript id under which the reasoning of message
// id is kept. Ids cannot contain '/', so it never collides with a real id.
func ThinkingMessageID(id string) string { return id + "/thinking" }

// ToolCallState is a tool call as the read model knows it. Kind is always
// one of the ToolKind constants (ToolKindOther for calls recorded without).
type ToolCallState struct {
	ID     string         `json:"tool_call_id"`
	TurnID string         `json:"turn_id"`
	Name   string         `json:"name"`
	Kind   string         `json:"kind"`
	Input  map[string]any `json:"input,omitempty"`
	Output string         `json:"output,omitempty"`
	Status ToolCallStatus `json:"status"`
	Seq    uint64         `json:"seq"`
}

// PendingAction is an approval the agent asked for.
type PendingAction struct {
	RequestID   string     `json:"request_id"`
	TurnID      string     `json:"turn_id"`
	ToolCallID  string     `json:"tool_call_id,omitempty"`
	Kind        string     `json:"kind,omitempty"`
	Description string     `json:"description,omitempty"`
	Resolution  Resolution `json:"resolution"`
	Reason      string     `json:"reason,omitempty"`
	Seq         uint64     `json:"seq"`
}

// Checkpoint is a git snapshot recorded at the end of a turn: Ref and Commit
// name the snapshot, Files what changed since the previous checkpoint.
type Checkpoint struct {
	ID     string       `json:"checkpoint_id"`
	TurnID string       `json:"turn_id"`
	Ref    string       `json:"ref"`
	Commit string       `json:"commit,omitempty"`
	Files  []FileChange `json:"files,omitempty"`
	Seq    uint64       `json:"seq"`
}

// GitOperation is a git operation the user asked for. Executing it is a side
// effect outside the core (a host's); the model records the request and,
// once the host reports it, the outcome: Status moves from requested to
// completed (with SHA and Output) or failed (with Error). CheckpointID is
// the checkpoint a restore goes back to.
type GitOperation struct {
	ID           string           `json:"operation_id"`
	Kind         GitOperationKind `json:"kind"`
	Status       string           `json:"status"`
	Message      string           `json:"message,omitempty"`
	Branch       string           `json:"branch,omitempty"`
	Base         string           `json:"base,omitempty"`
	Remote       string           `json:"remote,omitempty"`
	CheckpointID string           `json:"checkpoint_id,omitempty"`
	SHA          string           `json:"sha,omitempty"`
	Output       string           `json:"output,omitempty"`
	Error        string           `json:"error,omitempty"`
	Seq          uint64           `json:"seq"`
}

// Git operation statuses: requested until a host reports the outcome.
const (
	GitOperationRequested = "requested"
	GitStatusCompleted    = "completed"
	GitStatusFailed       = "failed"
)
