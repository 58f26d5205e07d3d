package domain

// ProviderEvent is what a coding agent reports about its work during a turn.
// Provider events enter the system inside IngestProviderEvent commands.
type ProviderEvent interface {
	// ProviderEventType is the type tag, exactly as the contract names it.
	ProviderEventType() string
}

// Provider event type tags.
const (
	TypeTextDelta        = "TextDelta"
	TypeThinkingDelta    = "ThinkingDelta"
	TypeToolCall         = "ToolCall"
	TypeToolResult       = "ToolResult"
	TypeAwaitingApproval = "AwaitingApproval"
	TypeTurnComplete     = "TurnComplete"
	TypeError            = "Error"
	TypeSessionStarted   = "SessionStarted"
	TypeSessionExited    = "SessionExited"
)

// TextDelta is a chunk of the agent's visible answer.
type TextDelta struct {
	MessageID string `json:"message_id" required:"true"`
	Delta     string `json:"delta"`
}

// ThinkingDelta is a chunk of the agent's reasoning, kept apart from the transcript.
type ThinkingDelta struct {
	MessageID string `json:"message_id" required:"true"`
	Delta     string `json:"delta"`
}

// ToolCall says the agent started using a tool. Input is carried as given;
// Kind (one of the ToolKind constants, optional) tells a UI how to render it.
type ToolCall struct {
	ToolCallID string         `json:"tool_call_id" required:"true"`
	Name       string         `json:"name" required:"true"`
	Kind       string         `json:"kind,omitempty"`
	Input      map[string]any `json:"input,omitempty"`
}

// Tool call kinds (contract 1.1).
const (
	ToolKindCommand    = "command"
	ToolKindFileChange = "file_change"
	ToolKindFileRead   = "file_read"
	ToolKindWeb        = "web"
	ToolKindMCP        = "mcp"
	ToolKindOther      = "other"
)

// ToolResult says a tool call finished.
type ToolResult struct {
	ToolCallID string `json:"tool_call_id" required:"true"`
	Output     string `json:"output,omitempty"`
	IsError    bool   `json:"is_error,omitempty"`
}

// AwaitingApproval says the agent waits for the user to approve an action.
type AwaitingApproval struct {
	RequestID   string `json:"request_id" required:"true"`
	ToolCallID  string `json:"tool_call_id,omitempty"`
	Kind        string `json:"kind,omitempty"`
	Description string `json:"description,omitempty"`
}

// TurnComplete says the agent finished the turn.
type TurnComplete struct {
	StopReason string `json:"stop_reason,omitempty"`
	Usage      Usage  `json:"usage"`
}

// ProviderError says the agent failed; the turn ends in the Error status.
// Its type tag is "Error".
type ProviderError struct {
	Message   string `json:"message" required:"true"`
	Retryable bool   `json:"retryable,omitempty"`
}

// SessionStarted says the agent opened (or resumed) its own session for the
// thread: SessionID is what the next turn resumes (Claude Code's session_id,
// the Codex thread id). Host, optional, names the host that runs it.
type SessionStarted struct {
	SessionID string `json:"session_id" required:"true"`
	Model     string `json:"model,omitempty"`
	Host      string `json:"host,omitempty"`
}

// SessionExited says the agent's process ended outside a normal turn end
// (a crash, a kill): ExitCode as the process reported it, Error what is
// known of why.
type SessionExited struct {
	ExitCode int    `json:"exit_code"`
	Error    string `json:"error,omitempty"`
}

// Usage counts the tokens a turn consumed, and what it cost when the agent
// says. The fields after OutputTokens are optional (contract 1.1).
type Usage struct {
	InputTokens      int64   `json:"input_tokens"`
	OutputTokens     int64   `json:"output_tokens"`
	CacheReadTokens  int64   `json:"cache_read_tokens,omitempty"`
	CacheWriteTokens int64   `json:"cache_write_tokens,omitempty"`
	ReasoningTokens  int64   `json:"reasoning_tokens,omitempty"`
	CostUSD          float64 `json:"cost_usd,omitempty"`
}

// Well-known stop reasons; providers may report others.
const (
	StopEndTurn   = "end_turn"
	StopMaxTokens = "max_tokens"
	StopRefusal   = "refusal"
	StopCancelled = "cancelled"
)

func (TextDelta) ProviderEventType() string        { return TypeTextDelta }
func (ThinkingDelta) ProviderEventType() string    { return TypeThinkingDelta }
func (ToolCall) ProviderEventType() string         { return TypeToolCall }
func (ToolResult) ProviderEventType() string       { return TypeToolResult }
func (AwaitingApproval) ProviderEventType() string { return TypeAwaitingApproval }
func (TurnComplete) ProviderEventType() string     { return TypeTurnComplete }
func (ProviderError) ProviderEventType() string    { return TypeError }
func (SessionStarted) ProviderEventType() string   { return TypeSessionStarted }
func (SessionExited) ProviderEventType() string    { return TypeSessionExited }
