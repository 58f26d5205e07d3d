package domain_test

import (
	"errors"
	"math"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
	"github.com/vmihailenco/msgpack/v5"
)

// bothEncodings returns a JSON body and the same body in MessagePack, built
// from the same Go value (so uint64 and invalid UTF-8 survive exactly).
func bothEncodings(t *testing.T, json string, v any) map[domain.Encoding][]byte {
	t.Helper()
	mp, err := msgpack.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return map[domain.Encoding][]byte{domain.JSON: []byte(json), domain.MessagePack: mp}
}

func wantDecodeCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	var de *domain.DeciderError
	if !errors.As(err, &de) || de.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// TestOutsideInputRulesHoldInBothEncodings: what is refused in JSON is
// refused in MessagePack with the same code, and the other way round.
func TestOutsideInputRulesHoldInBothEncodings(t *testing.T) {
	usage := func(n any) map[string]any {
		return map[string]any{"thread_id": "t", "turn_id": "u", "provider_event_id": "p",
			"event": map[string]any{"type": "TurnComplete", "stop_reason": "end_turn",
				"usage": map[string]any{"input_tokens": n, "output_tokens": 1}}}
	}
	cases := []struct {
		name, commandType, json string
		value                   any
		code                    domain.Code
	}{
		{"empty command_id", domain.TypeCreateThread, `{"command_id":"","project_id":"p"}`,
			map[string]any{"command_id": "", "project_id": "p"}, domain.CodeInvalidCommand},
		{"empty optional thread_id", domain.TypeCreateThread, `{"thread_id":"","project_id":"p"}`,
			map[string]any{"thread_id": "", "project_id": "p"}, domain.CodeInvalidCommand},
		{"null optional thread_id", domain.TypeCreateThread, `{"thread_id":null,"project_id":"p"}`,
			map[string]any{"thread_id": nil, "project_id": "p"}, domain.CodeInvalidCommand},
		{"empty required project_id", domain.TypeCreateThread, `{"project_id":""}`,
			map[string]any{"project_id": ""}, domain.CodeInvalidCommand},
		{"empty project_id on create", domain.TypeCreateProject, `{"project_id":"","name":"n","path":"/p"}`,
			map[string]any{"project_id": "", "name": "n", "path": "/p"}, domain.CodeInvalidCommand},
		{"id over 64 characters", domain.TypeSelectThread, `{"thread_id":"` + string(make65('a')) + `"}`,
			map[string]any{"thread_id": string(make65('a'))}, domain.CodeInvalidCommand},
		{"id with a subject wildcard", domain.TypeStartTurn, `{"thread_id":"t","turn_id":"a.>","text":"x"}`,
			map[string]any{"thread_id": "t", "turn_id": "a.>", "text": "x"}, domain.CodeInvalidCommand},
		{"2^64-1 token count", domain.TypeIngestProviderEvent,
			`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"TurnComplete","stop_reason":"end_turn","usage":{"input_tokens":18446744073709551615,"output_tokens":1}}}`,
			usage(uint64(math.MaxUint64)), domain.CodeBadRequest},
		{"2^63 token count", domain.TypeIngestProviderEvent,
			`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"TurnComplete","stop_reason":"end_turn","usage":{"input_tokens":9223372036854775808,"output_tokens":1}}}`,
			usage(uint64(math.MaxInt64) + 1), domain.CodeBadRequest},
		{"invalid UTF-8 in text", domain.TypeStartTurn, "{\"thread_id\":\"t\",\"text\":\"a\xff\xfeb\"}",
			map[string]any{"thread_id": "t", "text": "a\xff\xfeb"}, domain.CodeInvalidCommand},
		{"a lone high surrogate", domain.TypeStartTurn, `{"thread_id":"t","text":"a\ud800b"}`,
			map[string]any{"thread_id": "t", "text": "a\xed\xa0\x80b"}, domain.CodeInvalidCommand},
		{"a low surrogate first", domain.TypeStartTurn, `{"thread_id":"t","text":"\udc00\ud800"}`,
			map[string]any{"thread_id": "t", "text": "\xed\xb0\x80\xed\xa0\x80"}, domain.CodeInvalidCommand},
		{"invalid UTF-8 in a field name", domain.TypeStartTurn, "{\"thread_id\":\"t\",\"text\":\"x\",\"\xc3\":1}",
			map[string]any{"thread_id": "t", "text": "x", "\xc3": 1}, domain.CodeInvalidCommand},
		{"invalid UTF-8 in tool input", domain.TypeIngestProviderEvent,
			"{\"thread_id\":\"t\",\"turn_id\":\"u\",\"provider_event_id\":\"p\",\"event\":{\"type\":\"ToolCall\",\"tool_call_id\":\"c\",\"name\":\"bash\",\"input\":{\"cmd\":\"\xed\xa0\x80\"}}}",
			map[string]any{"thread_id": "t", "turn_id": "u", "provider_event_id": "p",
				"event": map[string]any{"type": "ToolCall", "tool_call_id": "c", "name": "bash", "input": map[string]any{"cmd": "\xed\xa0\x80"}}},
			domain.CodeInvalidCommand},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for enc, body := range bothEncodings(t, c.json, c.value) {
				cmd, err := domain.DecodeCommand(c.commandType, body, enc, domain.DefaultMaxCommandBytes)
				if cmd != nil {
					t.Fatalf("encoding %d: decoded %+v", enc, cmd)
				}
				wantDecodeCode(t, err, c.code)
			}
		})
	}
}

// TestInvalidUTF8InBinaryIsRefused: MessagePack binary is read into string
// fields, so it must be text as well.
func TestInvalidUTF8InBinaryIsRefused(t *testing.T) {
	body, err := msgpack.Marshal(map[string]any{"thread_id": "t", "text": []byte{'a', 0xff}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = domain.DecodeCommand(domain.TypeStartTurn, body, domain.MessagePack, 0)
	wantDecodeCode(t, err, domain.CodeInvalidCommand)
	good, _ := msgpack.Marshal(map[string]any{"thread_id": "t", "text": []byte("héllo")})
	if _, err := domain.DecodeCommand(domain.TypeStartTurn, good, domain.MessagePack, 0); err != nil {
		t.Fatalf("valid UTF-8 as binary: %v", err)
	}
}

// TestValuesInRangeStillDecode: the range checks refuse only what does not
// fit, in both encodings.
func TestValuesInRangeStillDecode(t *testing.T) {
	for _, n := range []any{int64(math.MaxInt64), uint64(math.MaxInt64), int64(0), int64(-5)} {
		v := map[string]any{"thread_id": "t", "turn_id": "u", "provider_event_id": "p",
			"event": map[string]any{"type": "TurnComplete", "stop_reason": "end_turn",
				"usage": map[string]any{"input_tokens": n, "output_tokens": 1}}}
		body, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		cmd, err := domain.DecodeCommand(domain.TypeIngestProviderEvent, body, domain.MessagePack, 0)
		if err != nil {
			t.Fatalf("%v: %v", n, err)
		}
		got := cmd.(domain.IngestProviderEvent).Event.ProviderEvent.(domain.TurnComplete).Usage.InputTokens
		if want := toInt64(n); got != want {
			t.Fatalf("decoded %d, want %d", got, want)
		}
	}
	// A negative count decodes (it fits int64) and is refused by Decide.
	_, err := domain.Decide(ingest(u1, "pe-neg", domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: -1}}), fold(withWork...))
	wantDecodeCode(t, err, domain.CodeInvalidCommand)
}

func toInt64(n any) int64 {
	switch x := n.(type) {
	case int64:
		return x
	case uint64:
		return int64(x)
	}
	panic(n)
}

// request is a query-shaped request for DecodeRequest.
type request struct {
	ThreadID    string `json:"thread_id,omitempty"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
	Limit       int    `json:"limit,omitempty"`
}

// TestDecodeRequestAppliesTheSameRules: queries get the integer and UTF-8
// rules of commands.
func TestDecodeRequestAppliesTheSameRules(t *testing.T) {
	cases := []struct {
		name, json string
		value      any
		code       domain.Code
	}{
		{"negative min_sequence", `{"min_sequence":-1}`, map[string]any{"min_sequence": -1}, domain.CodeBadRequest},
		{"min_sequence over 2^64", `{"min_sequence":18446744073709551616}`, map[string]any{"min_sequence": 1.8446744073709552e19}, domain.CodeBadRequest},
		{"invalid UTF-8", "{\"thread_id\":\"\xff\"}", map[string]any{"thread_id": "\xff"}, domain.CodeInvalidCommand},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for enc, body := range bothEncodings(t, c.json, c.value) {
				var r request
				wantDecodeCode(t, domain.DecodeRequest(enc, body, &r, 0), c.code)
			}
		})
	}
	var r request
	body, _ := msgpack.Marshal(map[string]any{"min_sequence": uint64(math.MaxUint64), "thread_id": "t"})
	if err := domain.DecodeRequest(domain.MessagePack, body, &r, 0); err != nil || r.MinSequence != math.MaxUint64 {
		t.Fatalf("2^64-1 in a uint64: %+v, %v", r, err)
	}
}

func make65(c byte) []byte {
	b := make([]byte, 65)
	for i := range b {
		b[i] = c
	}
	return b
}

// TestRequestEncoding: JSON media types with parameters or in another case
// are JSON; a body starting with "{" is JSON without the header.
func TestRequestEncoding(t *testing.T) {
	cases := []struct {
		contentType, body string
		want              domain.Encoding
	}{
		{"application/json", "", domain.JSON},
		{"application/json; charset=utf-8", "", domain.JSON},
		{"Application/JSON;Charset=UTF-8", "", domain.JSON},
		{"application/json;;;", "", domain.JSON},
		{"application/msgpack", `{"a":1}`, domain.MessagePack},
		{"", " \n\t{\"a\":1}", domain.JSON},
		{"", "\x81\xa1a\x01", domain.MessagePack},
		{"", "", domain.MessagePack},
		{"text/plain", `{}`, domain.JSON},
		{"application/jsonx", "\x80", domain.MessagePack},
	}
	for _, c := range cases {
		if got := domain.RequestEncoding(c.contentType, []byte(c.body)); got != c.want {
			t.Errorf("RequestEncoding(%q, %q) = %d, want %d", c.contentType, c.body, got, c.want)
		}
	}
	if domain.EncodingOf("application/json; charset=utf-8") != domain.JSON {
		t.Error("EncodingOf ignores a JSON media type with parameters")
	}
}

// TestEscapedTextSurvives: surrogate pairs and escaped backslashes before a
// u are text like any other, not lone surrogates.
func TestEscapedTextSurvives(t *testing.T) {
	for body, want := range map[string]string{
		`{"thread_id":"t","text":"smile \ud83d\ude00"}`: "smile \U0001F600",
		`{"thread_id":"t","text":"C:\\ud800"}`:          `C:\ud800`,
		`{"thread_id":"t","text":"\u00e9t\u00e9"}`:      "\u00e9t\u00e9",
	} {
		c, err := domain.DecodeCommand(domain.TypeStartTurn, []byte(body), domain.JSON, 0)
		if err != nil {
			t.Errorf("%s: %v", body, err)
			continue
		}
		if got := c.(domain.StartTurn).Text; got != want {
			t.Errorf("%s: text %q, want %q", body, got, want)
		}
	}
}
