package codex

import "encoding/json"

// The subset of the app-server v2 protocol the adapter speaks
// (codex-rs/app-server-protocol/src/protocol/v2/*.rs and common.rs; fields
// are camelCase on the wire). Only the fields the adapter reads are
// declared: the server sends more, and unknown fields are ignored.

// Client requests and notifications.
const (
	methodInitialize    = "initialize"
	methodInitialized   = "initialized"
	methodThreadStart   = "thread/start"
	methodThreadResume  = "thread/resume"
	methodTurnStart     = "turn/start"
	methodTurnInterrupt = "turn/interrupt"
)

// Server notifications.
const (
	notifyError            = "error"
	notifyTurnStarted      = "turn/started"
	notifyTurnCompleted    = "turn/completed"
	notifyItemStarted      = "item/started"
	notifyItemCompleted    = "item/completed"
	notifyAgentDelta       = "item/agentMessage/delta"
	notifyReasoningSummary = "item/reasoning/summaryTextDelta"
	notifyReasoningText    = "item/reasoning/textDelta"
	notifyCommandOutput    = "item/commandExecution/outputDelta"
	notifyTokenUsage       = "thread/tokenUsage/updated"
)

// Server requests.
const (
	requestCommandApproval = "item/commandExecution/requestApproval"
	requestFileApproval    = "item/fileChange/requestApproval"
)

// errMethodNotFound is the JSON-RPC code for a request the client does not serve.
const errMethodNotFound = -32601

type clientInfo struct {
	Name    string `json:"name"`
	Title   string `json:"title,omitempty"`
	Version string `json:"version"`
}

type initializeParams struct {
	ClientInfo clientInfo `json:"clientInfo"`
}

// threadParams is thread/start, and thread/resume with ThreadID set.
type threadParams struct {
	ThreadID       string `json:"threadId,omitempty"`
	Model          string `json:"model,omitempty"`
	Cwd            string `json:"cwd,omitempty"`
	ApprovalPolicy string `json:"approvalPolicy,omitempty"`
	Sandbox        string `json:"sandbox,omitempty"`
}

// threadResult is the part of ThreadStartResponse / ThreadResumeResponse read.
type threadResult struct {
	Thread struct {
		ID string `json:"id"`
	} `json:"thread"`
	Model string `json:"model"`
}

type userInput struct {
	Type         string `json:"type"`
	Text         string `json:"text"`
	TextElements []any  `json:"text_elements"`
}

type turnStartParams struct {
	ThreadID string      `json:"threadId"`
	Input    []userInput `json:"input"`
}

type turnInterruptParams struct {
	ThreadID string `json:"threadId"`
	TurnID   string `json:"turnId"`
}

type turnError struct {
	Message        string          `json:"message"`
	CodexErrorInfo json.RawMessage `json:"codexErrorInfo"`
}

type turnInfo struct {
	ID     string     `json:"id"`
	Status string     `json:"status"`
	Error  *turnError `json:"error"`
}

// turnResult is TurnStartResponse.
type turnResult struct {
	Turn turnInfo `json:"turn"`
}

// turnNotification is turn/started and turn/completed.
type turnNotification struct {
	ThreadID string   `json:"threadId"`
	Turn     turnInfo `json:"turn"`
}

type errorNotification struct {
	Error     turnError `json:"error"`
	WillRetry bool      `json:"willRetry"`
	ThreadID  string    `json:"threadId"`
	TurnID    string    `json:"turnId"`
}

// itemNotification is item/started and item/completed; the item stays raw
// until its type is known.
type itemNotification struct {
	ThreadID string          `json:"threadId"`
	TurnID   string          `json:"turnId"`
	Item     json.RawMessage `json:"item"`
}

// deltaNotification is every item delta: agent message text, reasoning
// summary or raw text, command output.
type deltaNotification struct {
	ThreadID     string `json:"threadId"`
	TurnID       string `json:"turnId"`
	ItemID       string `json:"itemId"`
	Delta        string `json:"delta"`
	SummaryIndex *int64 `json:"summaryIndex"`
	ContentIndex *int64 `json:"contentIndex"`
}

type tokenBreakdown struct {
	TotalTokens           int64 `json:"totalTokens"`
	InputTokens           int64 `json:"inputTokens"`
	CachedInputTokens     int64 `json:"cachedInputTokens"`
	OutputTokens          int64 `json:"outputTokens"`
	ReasoningOutputTokens int64 `json:"reasoningOutputTokens"`
}

type tokenUsageNotification struct {
	ThreadID   string `json:"threadId"`
	TurnID     string `json:"turnId"`
	TokenUsage struct {
		Total tokenBreakdown `json:"total"`
		Last  tokenBreakdown `json:"last"`
	} `json:"tokenUsage"`
}

// approvalParams is item/commandExecution/requestApproval and
// item/fileChange/requestApproval (the command fields are absent in the
// second).
type approvalParams struct {
	ThreadID   string  `json:"threadId"`
	TurnID     string  `json:"turnId"`
	ItemID     string  `json:"itemId"`
	ApprovalID *string `json:"approvalId"`
	Reason     *string `json:"reason"`
	Command    *string `json:"command"`
	Cwd        *string `json:"cwd"`
	GrantRoot  *string `json:"grantRoot"`
}

// approvalResponse answers an approval request. The protocol's decisions
// are accept, acceptForSession, decline and cancel; there is no field for
// a reason.
type approvalResponse struct {
	Decision string `json:"decision"`
}

// threadItem is the union of ThreadItem variants, tagged by Type. Each
// variant fills the fields it has.
type threadItem struct {
	Type   string `json:"type"`
	ID     string `json:"id"`
	Status string `json:"status"`

	// agentMessage, reasoning
	Text    string   `json:"text"`
	Summary []string `json:"summary"`
	Content []string `json:"content"`

	// commandExecution
	Command          string          `json:"command"`
	Cwd              string          `json:"cwd"`
	CommandActions   json.RawMessage `json:"commandActions"`
	AggregatedOutput *string         `json:"aggregatedOutput"`
	ExitCode         *int64          `json:"exitCode"`

	// fileChange
	Changes []fileChange `json:"changes"`

	// mcpToolCall, dynamicToolCall, collabAgentToolCall
	Server    string          `json:"server"`
	Namespace *string         `json:"namespace"`
	Tool      string          `json:"tool"`
	Arguments json.RawMessage `json:"arguments"`
	Result    json.RawMessage `json:"result"`
	ItemError *struct {
		Message string `json:"message"`
	} `json:"error"`
	ContentItems json.RawMessage `json:"contentItems"`
	Success      *bool           `json:"success"`
	Prompt       *string         `json:"prompt"`

	// webSearch
	Query  string          `json:"query"`
	Action json.RawMessage `json:"action"`

	// imageView
	Path string `json:"path"`
}

type fileChange struct {
	Path string `json:"path"`
	Kind struct {
		Type     string  `json:"type"`
		MovePath *string `json:"move_path"`
	} `json:"kind"`
	Diff string `json:"diff"`
}
