package codex

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

func TestSafeID(t *testing.T) {
	for _, id := range []string{"call_abc", "019a2f3c-7d1e-7b42-9c1a-5e8f00c0ffee", "msg_" + strings.Repeat("9", 60)} {
		if got := safeID(id); got != id {
			t.Errorf("safeID(%q) = %q, want it unchanged", id, got)
		}
	}
	for _, id := range []string{"rs_" + strings.Repeat("a", 62), "item.1", "a b", "", "call/x"} {
		got := safeID(id)
		if !domain.ValidID(got) || got != safeID(id) {
			t.Errorf("safeID(%q) = %q: not a stable valid id", id, got)
		}
	}
	if safeID("item.1") == safeID("item.2") {
		t.Error("different ids hash alike")
	}
	if requestID("call_1", "0") == requestID("call_1", "1") {
		t.Error("two requests about one item share an id")
	}
}

func TestBoundInput(t *testing.T) {
	small := map[string]any{"command": "ls"}
	if got := boundInput(small); got["command"] != "ls" {
		t.Errorf("small input changed: %v", got)
	}
	big := map[string]any{"changes": []any{map[string]any{"path": "a", "diff": strings.Repeat("+x\n", 60000)}}, "note": "keep"}
	got := boundInput(big)
	raw, _ := json.Marshal(got)
	if len(raw) > agent.MaxFieldBytes {
		t.Fatalf("bounded input is %d bytes", len(raw))
	}
	ch := got["changes"].([]any)[0].(map[string]any)
	if ch["path"] != "a" || got["note"] != "keep" || !strings.Contains(ch["diff"].(string), "bytes left out") {
		t.Errorf("bounded input lost its shape: path %v note %v", ch["path"], got["note"])
	}
	// Many short strings cannot be cut enough: the encoding is truncated.
	many := map[string]any{}
	for i := range 20000 {
		many[fmt.Sprintf("key%05d", i)] = "v"
	}
	cut := boundInput(many)
	raw, _ = json.Marshal(cut)
	if len(raw) > agent.MaxFieldBytes || cut["truncated_input"] == nil {
		t.Errorf("bounded input is %d bytes: %.80s", len(raw), raw)
	}
}

func TestHeadBuffer(t *testing.T) {
	h := headBuffer{limit: 100}
	for range 50 {
		h.write("0123456789")
	}
	s := h.String()
	if len(s) > 100 || !strings.HasSuffix(s, "(464 bytes left out)") {
		t.Errorf("%d bytes: %q", len(s), s)
	}
	short := headBuffer{limit: 100}
	short.write("ok")
	if short.String() != "ok" {
		t.Errorf("short = %q", short.String())
	}
}

func TestUsageWithoutNotification(t *testing.T) {
	var u usageTracker
	if got := u.usage(); got != (domain.Usage{}) {
		t.Errorf("usage = %+v", got)
	}
}

func TestRetryable(t *testing.T) {
	for info, want := range map[string]bool{
		`"serverOverloaded"`:                                     true,
		`{"httpConnectionFailed":{"httpStatusCode":503}}`:        true,
		`{"responseStreamDisconnected":{"httpStatusCode":null}}`: true,
		`"usageLimitExceeded"`:                                   false,
		`"contextWindowExceeded"`:                                false,
		`"unauthorized"`:                                         false,
		`null`:                                                   false,
		`{"a":1,"b":2}`:                                          false,
	} {
		if got := retryable(json.RawMessage(info)); got != want {
			t.Errorf("retryable(%s) = %v, want %v", info, got, want)
		}
	}
}
