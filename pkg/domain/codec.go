package domain

import (
	"bytes"
	"encoding/json"
	"errors"
	"mime"
	"reflect"
	"strings"
	"unicode/utf8"

	"github.com/vmihailenco/msgpack/v5"
)

// Encoding is a wire encoding. MessagePack is the default everywhere; JSON
// is chosen per request with the header Content-Type: application/json
// (parameters such as charset allowed, any case), or, for a request without
// a recognised Content-Type, by a body that starts with "{" (see
// RequestEncoding).
type Encoding int

// Encodings.
const (
	MessagePack Encoding = iota
	JSON
)

// Content types of the two encodings.
const (
	ContentTypeMessagePack = "application/msgpack"
	ContentTypeJSON        = "application/json"
)

// EncodingOf maps a Content-Type header value to an encoding: any form of
// application/json (other case, parameters such as "; charset=utf-8") is
// JSON, everything else MessagePack.
func EncodingOf(contentType string) Encoding {
	if enc, known := mediaType(contentType); known {
		return enc
	}
	return MessagePack
}

// RequestEncoding is the encoding of a request body and of its reply: the
// Content-Type's when it names one of the two, else JSON when the body's
// first non-space byte is "{", else MessagePack. No MessagePack request
// starts with "{" (0x7b is the whole integer 123, never an object), so a
// JSON body sent without the header is still read, and answered, as JSON.
func RequestEncoding(contentType string, body []byte) Encoding {
	if enc, known := mediaType(contentType); known {
		return enc
	}
	if trimmed := bytes.TrimLeft(body, " \t\r\n"); len(trimmed) > 0 && trimmed[0] == '{' {
		return JSON
	}
	return MessagePack
}

// mediaType reads a Content-Type value: its encoding, and whether it names
// one at all.
func mediaType(contentType string) (Encoding, bool) {
	if contentType == "" {
		return MessagePack, false
	}
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		// Unparsable parameters: the type before them still counts.
		mt, _, _ = strings.Cut(contentType, ";")
		mt = strings.ToLower(strings.TrimSpace(mt))
	}
	switch mt {
	case ContentTypeJSON:
		return JSON, true
	case ContentTypeMessagePack, "application/x-msgpack", "application/vnd.msgpack":
		return MessagePack, true
	}
	return MessagePack, false
}

// ContentType is the Content-Type header value of an encoding.
func (e Encoding) ContentType() string {
	if e == JSON {
		return ContentTypeJSON
	}
	return ContentTypeMessagePack
}

// DefaultMaxCommandBytes is the default limit on a command body.
const DefaultMaxCommandBytes = 256 << 10

// maxEventBytes bounds an event read back from the stream; the stream's own
// max message size is the real limit, this guards the decoder.
const maxEventBytes = 8 << 20

// CommandTypes lists every command type tag, in the registry's order.
func CommandTypes() []string {
	out := make([]string, 0, len(commandRegistry))
	for _, s := range commandRegistry {
		out = append(out, s.Type)
	}
	return out
}

// DecodeCommand decodes a command body of the given type. The body is a flat
// object of the command's fields; a "type" field is optional and, if present,
// must equal commandType. Errors are *DeciderError: bad_request for a body
// that does not decode (integers out of their field's range included, in
// both encodings alike), payload_too_large, and invalid_command for text
// that is not valid UTF-8 or an id field given but not a valid id (an
// explicitly empty id is not "absent").
func DecodeCommand(commandType string, data []byte, enc Encoding, maxBytes int) (Command, error) {
	spec, ok := specByType[commandType]
	if !ok {
		return nil, Errorf(CodeBadRequest, "unknown command type %q", commandType)
	}
	t := reflect.TypeOf(spec.zero)
	if err := checkInput(data, enc, maxBytes); err != nil {
		return nil, err
	}
	v := reflect.New(t)
	if err := decodeStrict(enc, data, v.Interface(), commandType, commandType, true); err != nil {
		return nil, err
	}
	cmd := v.Elem().Interface().(Command)
	if ing, ok := cmd.(IngestProviderEvent); ok && ing.Event != nil && ing.Events != nil {
		return nil, Errorf(CodeBadRequest, "%s: give event or events, not both", commandType)
	}
	return cmd, nil
}

// EncodeCommand encodes a command's fields as a flat object (no type tag:
// the subject names the command).
func EncodeCommand(cmd Command, enc Encoding) ([]byte, error) {
	return marshal(enc, cmd)
}

// checkInput enforces the size limit, well-formedness and, in both
// encodings, that text is valid UTF-8 (encoding/json would silently replace
// invalid bytes, MessagePack would keep them: either way the stored text
// would not be what was sent).
func checkInput(data []byte, enc Encoding, maxBytes int) error {
	if maxBytes > 0 && len(data) > maxBytes {
		return Errorf(CodePayloadTooLarge, "body of %d bytes exceeds the limit of %d", len(data), maxBytes)
	}
	if len(data) == 0 {
		return Errorf(CodeBadRequest, "empty body")
	}
	if enc == MessagePack {
		if err := checkMsgpackInput(data); errors.Is(err, errInvalidUTF8) {
			return Errorf(CodeInvalidCommand, "%v", err)
		} else if err != nil {
			return Errorf(CodeBadRequest, "%v", cleanErr(err))
		}
	} else if !json.Valid(data) {
		return Errorf(CodeBadRequest, "body is not valid JSON")
	} else if !utf8.Valid(data) || hasLoneSurrogate(data) {
		return Errorf(CodeInvalidCommand, "%v", errInvalidUTF8)
	}
	return nil
}

// hasLoneSurrogate reports whether valid JSON escapes half of a UTF-16
// surrogate pair (\ud800 alone, or a low half first). encoding/json would
// decode it as U+FFFD, changing the text; MessagePack cannot carry one (it
// is invalid UTF-8 there), so refusing it keeps both encodings alike.
func hasLoneSurrogate(data []byte) bool {
	for i := 0; i+5 < len(data); i++ {
		if data[i] != '\\' {
			continue
		}
		if data[i+1] != 'u' {
			i++ // an escaped character, maybe a backslash: skip it
			continue
		}
		r, ok := hex4(data[i+2 : i+6])
		if !ok {
			continue // json.Valid has already refused it
		}
		switch {
		case r >= 0xDC00 && r <= 0xDFFF:
			return true // a low half with no high half before it
		case r >= 0xD800 && r <= 0xDBFF:
			if i+12 > len(data) || data[i+6] != '\\' || data[i+7] != 'u' {
				return true // a high half not followed by an escape
			}
			lo, ok := hex4(data[i+8 : i+12])
			if !ok || lo < 0xDC00 || lo > 0xDFFF {
				return true
			}
			i += 11 // the pair
		default:
			i += 5
		}
	}
	return false
}

func hex4(b []byte) (rune, bool) {
	var r rune
	for _, c := range b {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// ProviderEventEnvelope carries any ProviderEvent on the wire as one flat
// object with its type tag: {"type": "TextDelta", "message_id": ..., ...}.
type ProviderEventEnvelope struct {
	ProviderEvent
}

var providerEventTypes = map[string]reflect.Type{}

func init() {
	for _, p := range []ProviderEvent{TextDelta{}, ThinkingDelta{}, ToolCall{}, ToolResult{},
		AwaitingApproval{}, TurnComplete{}, ProviderError{}, SessionStarted{}, SessionExited{}} {
		providerEventTypes[p.ProviderEventType()] = reflect.TypeOf(p)
	}
}

// MarshalJSON encodes the event with its type tag.
func (p ProviderEventEnvelope) MarshalJSON() ([]byte, error) { return p.encode(JSON) }

// UnmarshalJSON decodes a tagged provider event strictly.
func (p *ProviderEventEnvelope) UnmarshalJSON(data []byte) error { return p.decode(JSON, data) }

// EncodeMsgpack encodes the event with its type tag.
func (p ProviderEventEnvelope) EncodeMsgpack(enc *msgpack.Encoder) error {
	b, err := p.encode(MessagePack)
	if err != nil {
		return err
	}
	return enc.Encode(msgpack.RawMessage(b))
}

// DecodeMsgpack decodes a tagged provider event strictly.
func (p *ProviderEventEnvelope) DecodeMsgpack(dec *msgpack.Decoder) error {
	raw, err := dec.DecodeRaw()
	if err != nil {
		return err
	}
	return p.decode(MessagePack, raw)
}

// peekType reads the "type" string of a MessagePack map, skipping the rest.
func peekType(data []byte) (string, error) {
	dec := newDecoder(data)
	n, err := dec.DecodeMapLen()
	if err != nil {
		return "", err
	}
	if n < 0 {
		return "", errNotObject
	}
	tag := ""
	for range n {
		key, err := dec.DecodeString()
		if err != nil {
			return "", err
		}
		if key == "type" {
			if tag, err = dec.DecodeString(); err != nil {
				return "", errTypeNotString
			}
			continue
		}
		if err := dec.Skip(); err != nil {
			return "", err
		}
	}
	return tag, nil
}

func (p ProviderEventEnvelope) encode(enc Encoding) ([]byte, error) {
	if p.ProviderEvent == nil {
		return marshal(enc, nil)
	}
	// The flat tagged form is the struct's fields plus "type".
	return marshal(enc, taggedFields(p.ProviderEvent))
}

func (p *ProviderEventEnvelope) decode(enc Encoding, data []byte) error {
	var tag string
	var err error
	if enc == MessagePack {
		tag, err = peekType(data)
	} else {
		_, tag, err = objectKeys(enc, data)
	}
	if err != nil {
		return Errorf(CodeBadRequest, "provider event: %v", cleanErr(err))
	}
	t, ok := providerEventTypes[tag]
	if !ok {
		return Errorf(CodeBadRequest, "unknown provider event type %q", tag)
	}
	v := reflect.New(t)
	if err := decodeStrict(enc, data, v.Interface(), "provider event "+tag, tag, false); err != nil {
		return err
	}
	pe := v.Elem().Interface().(ProviderEvent)
	if tc, ok := pe.(ToolCall); ok {
		input, err := normalizeMap(tc.Input)
		if err != nil {
			return Errorf(CodeBadRequest, "ToolCall input: %v", err)
		}
		tc.Input = input
		pe = tc
	}
	p.ProviderEvent = pe
	return nil
}

// batchItemFields is ProviderEventBatchItem without its decode methods, so
// decoding it strictly does not recurse.
type batchItemFields ProviderEventBatchItem

// UnmarshalJSON decodes a batch item strictly (both fields required).
func (b *ProviderEventBatchItem) UnmarshalJSON(data []byte) error {
	return decodeStrict(JSON, data, (*batchItemFields)(b), "provider event batch item", "", false)
}

// DecodeMsgpack decodes a batch item strictly (both fields required).
func (b *ProviderEventBatchItem) DecodeMsgpack(dec *msgpack.Decoder) error {
	return decodeStructMsgpack(dec, (*batchItemFields)(b), "provider event batch item", "", false)
}

// Marshal encodes any value (a reply, a read-model record) in enc, with the
// same field names and deterministic MessagePack as events.
func Marshal(enc Encoding, v any) ([]byte, error) { return marshal(enc, v) }

// Unmarshal decodes data into v. MessagePack input is checked for length
// bombs first, so it is safe on bytes from the network.
func Unmarshal(enc Encoding, data []byte, v any) error {
	if enc == MessagePack {
		if err := checkMsgpack(data); err != nil {
			return Errorf(CodeBadRequest, "%v", cleanErr(err))
		}
	}
	if err := unmarshal(enc, data, v); err != nil {
		return Errorf(CodeBadRequest, "%v", cleanErr(err))
	}
	return nil
}

// DecodeRequest decodes a request body (a query, say) into v strictly, as
// commands are decoded: size limit, MessagePack bomb check, no unknown
// fields, required fields present, integers in range, valid UTF-8. Id
// fields are left to the query (an unknown or malformed id is its answer
// to give). Errors are *DeciderError.
func DecodeRequest(enc Encoding, data []byte, v any, maxBytes int) error {
	if len(data) == 0 {
		data = []byte("{}")
		if enc == MessagePack {
			data = []byte{0x80}
		}
	}
	if err := checkInput(data, enc, maxBytes); err != nil {
		return err
	}
	return decodeStrict(enc, data, v, "request", "", false)
}

// taggedFields returns a provider event's wire fields with its type tag,
// leaving out empty optional fields as the struct tags say.
func taggedFields(pe ProviderEvent) map[string]any {
	m := map[string]any{"type": pe.ProviderEventType()}
	rv := reflect.ValueOf(pe)
	rt := rv.Type()
	for i := range rt.NumField() {
		f := rt.Field(i)
		name, opts, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" {
			continue
		}
		fv := rv.Field(i)
		if opts == "omitempty" && fv.IsZero() {
			continue
		}
		m[name] = fv.Interface()
	}
	return m
}
