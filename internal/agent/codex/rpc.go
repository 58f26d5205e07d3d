package codex

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
)

// MaxLine bounds one line of app-server output. It matches the line bound
// agent.StartProcess applies by default, so DecodeLine never sees more, and
// it keeps a direct caller (the fuzz target) from decoding arbitrary sizes.
const MaxLine = 8 << 20

// Kind is the shape of one JSON-RPC message.
type Kind int

// Message kinds, in the order the app-server's own decoder tries them
// (codex-rs/app-server-protocol jsonrpc_lite.rs: an untagged enum of
// Request, Notification, Response, Error).
const (
	KindRequest Kind = iota + 1
	KindNotification
	KindResponse
	KindError
)

func (k Kind) String() string {
	switch k {
	case KindRequest:
		return "request"
	case KindNotification:
		return "notification"
	case KindResponse:
		return "response"
	case KindError:
		return "error"
	}
	return "kind(" + strconv.Itoa(int(k)) + ")"
}

// Message is one decoded line: a request or a notification from the
// server, or the server's answer to one of ours. The app-server omits the
// "jsonrpc" member; one that is present is ignored.
type Message struct {
	Kind Kind
	// ID is the request id exactly as sent (a JSON string or integer), to
	// be echoed back verbatim in a response. Empty for notifications.
	ID     json.RawMessage
	Method string
	Params json.RawMessage
	Result json.RawMessage
	Error  *RPCError
}

// RPCError is the error member of a JSON-RPC error response.
type RPCError struct {
	Code    int64           `json:"code"`
	Message string          `json:"message"`
	Data    json.RawMessage `json:"data,omitempty"`
}

func (e *RPCError) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Decoding errors. ErrNotJSON: the line does not parse as JSON at all;
// ErrNotRPC: it is JSON but none of the four message shapes.
var (
	ErrNotJSON = errors.New("not JSON")
	ErrNotRPC  = errors.New("not a JSON-RPC message")
)

// DecodeLine decodes one line of app-server output into a message. It
// allocates in proportion to the line, which is at most MaxLine bytes.
func DecodeLine(line []byte) (Message, error) {
	if len(line) > MaxLine {
		return Message{}, fmt.Errorf("%w: line of %d bytes exceeds %d", ErrNotRPC, len(line), MaxLine)
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(line, &fields); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			// Valid JSON, but not an object.
			return Message{}, fmt.Errorf("%w: a JSON %s, not an object", ErrNotRPC, typeErr.Value)
		}
		return Message{}, fmt.Errorf("%w: %v", ErrNotJSON, err)
	}
	if fields == nil { // the line was `null`
		return Message{}, fmt.Errorf("%w: null", ErrNotRPC)
	}
	id, hasID := fields["id"]
	idOK := hasID && validID(id)
	method, hasMethod := fields["method"]
	var name string
	if hasMethod && json.Unmarshal(method, &name) != nil {
		hasMethod = false
	}
	params := fields["params"]
	if isNull(params) {
		params = nil
	}
	switch {
	case hasMethod && idOK:
		return Message{Kind: KindRequest, ID: id, Method: name, Params: params}, nil
	case hasMethod:
		return Message{Kind: KindNotification, Method: name, Params: params}, nil
	}
	if !idOK {
		return Message{}, fmt.Errorf("%w: no method and no usable id", ErrNotRPC)
	}
	if result, ok := fields["result"]; ok {
		return Message{Kind: KindResponse, ID: id, Result: result}, nil
	}
	if raw, ok := fields["error"]; ok {
		var e struct {
			Code    *int64          `json:"code"`
			Message *string         `json:"message"`
			Data    json.RawMessage `json:"data"`
		}
		if json.Unmarshal(raw, &e) == nil && e.Code != nil && e.Message != nil {
			if isNull(e.Data) {
				e.Data = nil
			}
			return Message{Kind: KindError, ID: id, Error: &RPCError{Code: *e.Code, Message: *e.Message, Data: e.Data}}, nil
		}
	}
	return Message{}, fmt.Errorf("%w: id without method, result or error", ErrNotRPC)
}

// validID reports whether raw is a request id the protocol allows: a JSON
// string or an integer that fits 64 bits (RequestId in jsonrpc_lite.rs).
func validID(raw json.RawMessage) bool {
	if len(raw) == 0 {
		return false
	}
	if raw[0] == '"' {
		var s string
		return json.Unmarshal(raw, &s) == nil
	}
	_, err := strconv.ParseInt(string(raw), 10, 64)
	return err == nil
}

func isNull(raw json.RawMessage) bool {
	return len(raw) == 0 || bytes.Equal(bytes.TrimSpace(raw), []byte("null"))
}

// idText is a request id as text: the string itself, or the integer's digits.
func idText(raw json.RawMessage) string {
	var s string
	if len(raw) > 0 && raw[0] == '"' && json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// Encode renders the message as one line of the wire format (without the
// newline): no "jsonrpc" member, as the app-server itself writes.
func (m Message) Encode() ([]byte, error) {
	var v any
	switch m.Kind {
	case KindRequest:
		v = struct {
			ID     json.RawMessage `json:"id"`
			Method string          `json:"method"`
			Params json.RawMessage `json:"params,omitempty"`
		}{m.ID, m.Method, m.Params}
	case KindNotification:
		v = struct {
			Method string          `json:"method"`
			Params json.RawMessage `json:"params,omitempty"`
		}{m.Method, m.Params}
	case KindResponse:
		v = struct {
			ID     json.RawMessage `json:"id"`
			Result json.RawMessage `json:"result"`
		}{m.ID, m.Result}
	case KindError:
		if m.Error == nil {
			return nil, errors.New("error message without an error")
		}
		v = struct {
			ID    json.RawMessage `json:"id"`
			Error *RPCError       `json:"error"`
		}{m.ID, m.Error}
	default:
		return nil, fmt.Errorf("cannot encode message of %v", m.Kind)
	}
	// As serde_json writes it: no HTML escaping of <, > and &.
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// request builds a request message with an integer id.
func request(id int64, method string, params any) (Message, error) {
	raw, err := json.Marshal(params)
	if err != nil {
		return Message{}, err
	}
	return Message{Kind: KindRequest, ID: json.RawMessage(strconv.FormatInt(id, 10)), Method: method, Params: raw}, nil
}

// response builds the answer to a server request.
func response(id json.RawMessage, result any) (Message, error) {
	raw, err := json.Marshal(result)
	if err != nil {
		return Message{}, err
	}
	return Message{Kind: KindResponse, ID: id, Result: raw}, nil
}
