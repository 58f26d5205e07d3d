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

// ToolCall says the agent started using a tool. Input is carried as given.
type ToolCall struct {
	ToolCallID string         `json:"tool_call_id" required:"true"`
	Name       string         `json:"name" required:"true"`
	Input      map[string]any `json:"input,omitempty"`
}

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

// Usage counts the tokens a turn consumed.
type Usage struct {
	InputTokens  int64 `json:"input_tokens"`
	OutputTokens int64 `json:"output_tokens"`
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
