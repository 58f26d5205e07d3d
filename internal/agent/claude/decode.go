package claude

import (
	"bytes"
	"encoding/json"
	"fmt"
	"unicode/utf8"
)

// MaxLineBytes bounds one line of Claude Code's output. Tool results (a
// file read, an image) ride in single lines, so the bound is generous; a
// longer line is refused before it is parsed, so decoding one line never
// allocates more than a small multiple of this.
const MaxLineBytes = 8 << 20

// Message types of Claude Code's stream-json output (and of the control
// protocol, which shares the stream).
const (
	TypeSystem          = "system"
	TypeAssistant       = "assistant"
	TypeUser            = "user"
	TypeStreamEvent     = "stream_event"
	TypeResult          = "result"
	TypeControlRequest  = "control_request"
	TypeControlResponse = "control_response"
	TypeControlCancel   = "control_cancel_request"
)

// Message is one line of Claude Code's output with the fields the adapter
// reads. Which fields are set depends on Type; a type the adapter does not
// know (rate_limit_event, a newer addition) decodes to its Type alone.
type Message struct {
	Type    string `json:"type"`
	Subtype string `json:"subtype,omitempty"`
	// SessionID is on every message; system/init's is the session to resume.
	SessionID string `json:"session_id,omitempty"`
	UUID      string `json:"uuid,omitempty"`
	// ParentToolUseID is set on what a subagent (the Task tool) does.
	ParentToolUseID string `json:"parent_tool_use_id,omitempty"`

	// Model is system/init's model.
	Model string `json:"model,omitempty"`

	// Message is the API message of assistant and user lines.
	Message *APIMessage `json:"message,omitempty"`
	// Error is set on an assistant message that stands for a failed API
	// call (authentication_failed, rate_limit, ...).
	Error Text `json:"error,omitempty"`

	// Event is the Anthropic streaming event a stream_event wraps.
	Event *StreamEvent `json:"event,omitempty"`

	// Result fields.
	IsError        bool    `json:"is_error,omitempty"`
	Result         Text    `json:"result,omitempty"`
	StopReason     string  `json:"stop_reason,omitempty"`
	TotalCostUSD   float64 `json:"total_cost_usd,omitempty"`
	Usage          *Usage  `json:"usage,omitempty"`
	Errors         []Text  `json:"errors,omitempty"`
	APIErrorStatus int     `json:"api_error_status,omitempty"`
	TerminalReason string  `json:"terminal_reason,omitempty"`

	// Control protocol: control_request and control_cancel_request carry
	// RequestID (and Request); control_response carries Response.
	RequestID string           `json:"request_id,omitempty"`
	Request   *ControlRequest  `json:"request,omitempty"`
	Response  *ControlResponse `json:"response,omitempty"`
}

// APIMessage is an Anthropic Messages API message as Claude Code relays it.
type APIMessage struct {
	ID         string  `json:"id,omitempty"`
	Role       string  `json:"role,omitempty"`
	Model      string  `json:"model,omitempty"`
	Content    Content `json:"content,omitempty"`
	StopReason string  `json:"stop_reason,omitempty"`
	Usage      *Usage  `json:"usage,omitempty"`
}

// Block is one content block: text, thinking, tool_use, tool_result, or
// one the adapter does not map (redacted_thinking, server_tool_use, image).
type Block struct {
	Type     string `json:"type"`
	Text     string `json:"text,omitempty"`
	Thinking string `json:"thinking,omitempty"`
	// tool_use
	ID    string         `json:"id,omitempty"`
	Name  string         `json:"name,omitempty"`
	Input map[string]any `json:"input,omitempty"`
	// tool_result
	ToolUseID string      `json:"tool_use_id,omitempty"`
	Content   ToolContent `json:"content,omitempty"`
	IsError   bool        `json:"is_error,omitempty"`
}

// StreamEvent is an Anthropic streaming event (message_start,
// content_block_start, content_block_delta, content_block_stop,
// message_delta, message_stop).
type StreamEvent struct {
	Type         string      `json:"type"`
	Index        int         `json:"index,omitempty"`
	Message      *APIMessage `json:"message,omitempty"`
	ContentBlock *Block      `json:"content_block,omitempty"`
	Delta        *Delta      `json:"delta,omitempty"`
}

// Delta is a content_block_delta's delta (text_delta, thinking_delta,
// input_json_delta, signature_delta) or a message_delta's.
type Delta struct {
	Type        string `json:"type,omitempty"`
	Text        string `json:"text,omitempty"`
	Thinking    string `json:"thinking,omitempty"`
	PartialJSON string `json:"partial_json,omitempty"`
	StopReason  string `json:"stop_reason,omitempty"`
}

// Usage is the token count of a message or, on a result, of the whole turn.
type Usage struct {
	InputTokens              int64 `json:"input_tokens,omitempty"`
	OutputTokens             int64 `json:"output_tokens,omitempty"`
	CacheReadInputTokens     int64 `json:"cache_read_input_tokens,omitempty"`
	CacheCreationInputTokens int64 `json:"cache_creation_input_tokens,omitempty"`
}

// ControlRequest is what a control_request asks. Claude Code sends
// can_use_tool (and, for features the adapter does not register, hook_callback
// and mcp_message); the adapter sends initialize and interrupt.
type ControlRequest struct {
	Subtype        string         `json:"subtype"`
	ToolName       string         `json:"tool_name,omitempty"`
	Input          map[string]any `json:"input,omitempty"`
	ToolUseID      string         `json:"tool_use_id,omitempty"`
	Title          Text           `json:"title,omitempty"`
	Description    Text           `json:"description,omitempty"`
	DecisionReason Text           `json:"decision_reason,omitempty"`
	BlockedPath    Text           `json:"blocked_path,omitempty"`
	AgentID        string         `json:"agent_id,omitempty"`
}

// ControlResponse answers a control request: subtype success (with a
// response payload) or error.
type ControlResponse struct {
	Subtype   string          `json:"subtype"`
	RequestID string          `json:"request_id"`
	Response  json.RawMessage `json:"response,omitempty"`
	Error     Text            `json:"error,omitempty"`
}

// Content is a message's content: the API allows a plain string (a user
// prompt) or a list of blocks; a string decodes to one text block.
type Content []Block

// UnmarshalJSON accepts a string or a list of blocks.
func (c *Content) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*c = Content{{Type: "text", Text: s}}
		return nil
	}
	var blocks []Block
	if err := json.Unmarshal(b, &blocks); err != nil {
		return err
	}
	*c = blocks
	return nil
}

// ToolContent is a tool_result's content as text: a string as is, a list
// of blocks as its text blocks joined by newlines (an image as "[image]").
type ToolContent string

// UnmarshalJSON accepts a string, null, or a list of content blocks.
func (t *ToolContent) UnmarshalJSON(b []byte) error {
	switch {
	case bytes.Equal(b, []byte("null")):
		*t = ""
		return nil
	case len(b) > 0 && b[0] == '"':
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = ToolContent(s)
		return nil
	}
	var blocks []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if err := json.Unmarshal(b, &blocks); err != nil {
		return err
	}
	var out []byte
	for i, bl := range blocks {
		if i > 0 {
			out = append(out, '\n')
		}
		switch bl.Type {
		case "text":
			out = append(out, bl.Text...)
		default:
			out = append(out, '[')
			out = append(out, bl.Type...)
			out = append(out, ']')
		}
	}
	*t = ToolContent(out)
	return nil
}

// Text is a field read for display only: a string as is, anything else
// (an object where a newer version sends one) as its compact JSON, so an
// informational field never makes a line undecodable.
type Text string

// UnmarshalJSON accepts any JSON value.
func (t *Text) UnmarshalJSON(b []byte) error {
	if bytes.Equal(b, []byte("null")) {
		*t = ""
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		*t = Text(s)
		return nil
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return err
	}
	*t = Text(buf.String())
	return nil
}

// LineError says a line of output is not Claude Code's protocol.
type LineError struct {
	// Reason says what is wrong.
	Reason string
	// Prefix is the start of the line, for the error message.
	Prefix string
}

func (e *LineError) Error() string {
	return fmt.Sprintf("%s: %q", e.Reason, e.Prefix)
}

// linePrefix is how much of a bad line an error quotes.
const linePrefix = 120

func lineError(line []byte, format string, args ...any) *LineError {
	p := line
	if len(p) > linePrefix {
		p = p[:linePrefix]
		for len(p) > 0 && !utf8.RuneStart(line[len(p)]) {
			p = p[:len(p)-1]
		}
	}
	return &LineError{Reason: fmt.Sprintf(format, args...), Prefix: string(p)}
}

// known lists the message types whose fields are decoded; any other type
// decodes to its name only, so that a field a newer type shapes
// differently cannot make its line undecodable.
var known = map[string]bool{
	TypeSystem: true, TypeAssistant: true, TypeUser: true, TypeStreamEvent: true, TypeResult: true,
	TypeControlRequest: true, TypeControlResponse: true, TypeControlCancel: true,
}

// DecodeLine decodes one line of Claude Code's stdout. A blank line is
// the zero Message (Type ""). A line that is not a JSON object with a
// string "type", a known type whose fields do not have the protocol's
// shape, or a line over MaxLineBytes is a *LineError.
func DecodeLine(line []byte) (Message, error) {
	if len(line) > MaxLineBytes {
		return Message{}, lineError(line, "output line of %d bytes (at most %d)", len(line), MaxLineBytes)
	}
	trimmed := bytes.TrimSpace(line)
	if len(trimmed) == 0 {
		return Message{}, nil
	}
	if trimmed[0] != '{' {
		return Message{}, lineError(trimmed, "output line is not a JSON object")
	}
	var head struct {
		Type json.RawMessage `json:"type"`
	}
	if err := json.Unmarshal(trimmed, &head); err != nil {
		return Message{}, lineError(trimmed, "output line is not JSON (%v)", err)
	}
	var typ string
	if json.Unmarshal(head.Type, &typ) != nil || typ == "" {
		return Message{}, lineError(trimmed, "output line has no type")
	}
	if !known[typ] {
		return Message{Type: typ}, nil
	}
	var m Message
	if err := json.Unmarshal(trimmed, &m); err != nil {
		return Message{}, lineError(trimmed, "%s message not in the protocol's shape (%v)", typ, err)
	}
	if err := check(&m); err != nil {
		return Message{}, lineError(trimmed, "%s", err)
	}
	return m, nil
}

// check enforces what the adapter cannot do without.
func check(m *Message) error {
	switch m.Type {
	case TypeAssistant, TypeUser:
		if m.Message == nil {
			return fmt.Errorf("%s message without a message", m.Type)
		}
	case TypeStreamEvent:
		if m.Event == nil || m.Event.Type == "" {
			return fmt.Errorf("stream_event without an event type")
		}
	case TypeResult, TypeSystem:
		if m.Subtype == "" {
			return fmt.Errorf("%s message without a subtype", m.Type)
		}
	case TypeControlRequest:
		if m.RequestID == "" || m.Request == nil || m.Request.Subtype == "" {
			return fmt.Errorf("control_request without a request_id and a subtype")
		}
	case TypeControlResponse:
		if m.Response == nil || m.Response.RequestID == "" {
			return fmt.Errorf("control_response without a request_id")
		}
	case TypeControlCancel:
		if m.RequestID == "" {
			return fmt.Errorf("control_cancel_request without a request_id")
		}
	}
	return nil
}
