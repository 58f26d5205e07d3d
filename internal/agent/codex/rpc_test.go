package codex

import (
	"bytes"
	"encoding/json"
	"errors"
	"runtime"
	"strings"
	"testing"
)

func TestDecodeLine(t *testing.T) {
	for _, tc := range []struct {
		line string
		kind Kind
		id   string
		name string
		err  error
	}{
		// Shapes as codex-rs/app-server writes them (no "jsonrpc" member).
		{line: `{"id":0,"method":"item/commandExecution/requestApproval","params":{"itemId":"call_1"}}`, kind: KindRequest, id: "0", name: "item/commandExecution/requestApproval"},
		{line: `{"id":"req-7","method":"item/tool/call"}`, kind: KindRequest, id: `"req-7"`, name: "item/tool/call"},
		{line: `{"method":"turn/started","params":{"turn":{"id":"t"}}}`, kind: KindNotification, name: "turn/started"},
		{line: `{"method":"initialized"}`, kind: KindNotification, name: "initialized"},
		{line: `{"id":3,"result":{}}`, kind: KindResponse, id: "3"},
		{line: `{"id":3,"result":null}`, kind: KindResponse, id: "3"},
		{line: `{"id":2,"error":{"code":-32600,"message":"no rollout found"}}`, kind: KindError, id: "2"},
		// A "jsonrpc" member is tolerated.
		{line: `{"jsonrpc":"2.0","id":1,"result":{"userAgent":"x"}}`, kind: KindResponse, id: "1"},
		// The app-server's decoder tries Request before Notification: a
		// method with an unusable id is a notification.
		{line: `{"id":1.5,"method":"x"}`, kind: KindNotification, name: "x"},
		{line: `not json`, err: ErrNotJSON},
		{line: `{"id":1,"result":`, err: ErrNotJSON},
		{line: `{} {}`, err: ErrNotJSON},
		{line: `[1,2]`, err: ErrNotRPC},
		{line: `"text"`, err: ErrNotRPC},
		{line: `null`, err: ErrNotRPC},
		{line: `{}`, err: ErrNotRPC},
		{line: `{"method":5}`, err: ErrNotRPC},
		{line: `{"id":null,"result":{}}`, err: ErrNotRPC},
		{line: `{"id":true,"result":{}}`, err: ErrNotRPC},
		{line: `{"id":99999999999999999999,"result":{}}`, err: ErrNotRPC},
		{line: `{"id":1}`, err: ErrNotRPC},
		{line: `{"id":1,"error":{"message":"no code"}}`, err: ErrNotRPC},
		{line: `{"id":1,"error":"boom"}`, err: ErrNotRPC},
	} {
		m, err := DecodeLine([]byte(tc.line))
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err = %v, want %v", tc.line, err, tc.err)
			}
			continue
		}
		if err != nil || m.Kind != tc.kind || string(m.ID) != tc.id || m.Method != tc.name {
			t.Errorf("%s: got %v %s %q err %v, want %v %s %q", tc.line, m.Kind, m.ID, m.Method, err, tc.kind, tc.id, tc.name)
		}
	}
}

func TestDecodeLineTooLong(t *testing.T) {
	line := []byte(`{"method":"x","params":"` + strings.Repeat("a", MaxLine) + `"}`)
	if _, err := DecodeLine(line); !errors.Is(err, ErrNotRPC) {
		t.Errorf("err = %v, want ErrNotRPC", err)
	}
}

// Allocation follows the line's size, whatever its shape: deep nesting,
// many members, long strings.
func TestDecodeLineAllocatesInProportion(t *testing.T) {
	const size = 1 << 20
	for name, line := range map[string]string{
		"nested":  `{"method":"x","params":` + strings.Repeat("[", size),
		"members": `{"method":"x","params":{` + strings.Repeat(`"a":1,`, size/6) + `"b":2}}`,
		"string":  `{"method":"x","params":"` + strings.Repeat(`\u00e9`, size/6) + `"}`,
		"ids":     `{"id":` + strings.Repeat("9", size) + `,"result":1}`,
	} {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		_, _ = DecodeLine([]byte(line))
		runtime.ReadMemStats(&after)
		if n := after.TotalAlloc - before.TotalAlloc; n > 16*size {
			t.Errorf("%s: a %d-byte line allocated %d bytes", name, len(line), n)
		}
	}
}

func TestEncodeOmitsJSONRPC(t *testing.T) {
	m, err := request(4, "turn/start", turnStartParams{ThreadID: "thr"})
	if err != nil {
		t.Fatal(err)
	}
	line, err := m.Encode()
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(line), `{"id":4,"method":"turn/start","params":{"threadId":"thr","input":null}}`; got != want {
		t.Errorf("encoded %s, want %s", got, want)
	}
}

// FuzzDecodeLine: decoding never panics, and whatever decodes re-encodes
// to a line that decodes to the same message.
func FuzzDecodeLine(f *testing.F) {
	for _, seed := range []string{
		`{"id":0,"method":"item/commandExecution/requestApproval","params":{"threadId":"t","itemId":"call_1"}}`,
		`{"method":"item/agentMessage/delta","params":{"itemId":"m","delta":"hi"}}`,
		`{"id":1,"result":{"thread":{"id":"thr"},"model":"gpt"}}`,
		`{"id":"x","error":{"code":-32601,"message":"nope","data":{"a":[1]}}}`,
		`{"jsonrpc":"2.0","method":"initialized"}`,
		`{"id":-0,"result":null}`,
		`[{"id":1}]`, `{"id":1e3,"result":1}`, `{"method":"\ud800"}`, "\xff", ``,
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, line []byte) {
		m, err := DecodeLine(line)
		if err != nil {
			if !errors.Is(err, ErrNotJSON) && !errors.Is(err, ErrNotRPC) {
				t.Fatalf("unclassified error %v", err)
			}
			return
		}
		if (m.Kind == KindNotification) != (m.ID == nil) {
			t.Fatalf("%v with id %q", m.Kind, m.ID)
		}
		if m.ID != nil && !validID(m.ID) {
			t.Fatalf("invalid id %q decoded", m.ID)
		}
		enc, err := m.Encode()
		if err != nil {
			t.Fatalf("encode %+v: %v", m, err)
		}
		again, err := DecodeLine(enc)
		if err != nil {
			t.Fatalf("re-decode %s: %v", enc, err)
		}
		if again.Kind != m.Kind || again.Method != m.Method || !sameJSON(again.ID, m.ID) ||
			!sameJSON(again.Params, m.Params) || !sameJSON(again.Result, m.Result) || !sameError(again.Error, m.Error) {
			t.Fatalf("round trip:\n %+v\n %+v", m, again)
		}
	})
}

func sameJSON(a, b json.RawMessage) bool {
	if isNull(a) || isNull(b) {
		return isNull(a) == isNull(b)
	}
	var ca, cb bytes.Buffer
	if json.Compact(&ca, a) != nil || json.Compact(&cb, b) != nil {
		return false
	}
	return bytes.Equal(ca.Bytes(), cb.Bytes())
}

func sameError(a, b *RPCError) bool {
	if a == nil || b == nil {
		return a == b
	}
	return a.Code == b.Code && a.Message == b.Message && sameJSON(a.Data, b.Data)
}
