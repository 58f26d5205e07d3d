package codex

import (
	"encoding/json"
	"fmt"
	"unicode/utf8"

	"github.com/peonhq/peon/internal/agent"
)

// boundInput makes a tool call's input fit agent.MaxFieldBytes once
// encoded: long strings anywhere in it are cut (longest first, by halving
// the allowance), and an input that still does not fit is replaced by its
// truncated encoding.
func boundInput(in map[string]any) map[string]any {
	if fits(in) {
		return in
	}
	for limit := agent.MaxFieldBytes / 2; limit >= 256; limit /= 2 {
		cut, _ := cutStrings(in, limit).(map[string]any)
		if fits(cut) {
			return cut
		}
	}
	raw, _ := json.Marshal(in)
	return map[string]any{"truncated_input": agent.Truncate(string(raw), agent.MaxFieldBytes/2)}
}

func fits(v any) bool {
	raw, err := json.Marshal(v)
	return err == nil && len(raw) <= agent.MaxFieldBytes
}

// cutStrings copies v with every string longer than limit truncated.
func cutStrings(v any, limit int) any {
	switch v := v.(type) {
	case string:
		return agent.Truncate(v, limit)
	case map[string]any:
		out := make(map[string]any, len(v))
		for k, e := range v {
			out[k] = cutStrings(e, limit)
		}
		return out
	case []any:
		out := make([]any, len(v))
		for i, e := range v {
			out[i] = cutStrings(e, limit)
		}
		return out
	}
	return v
}

// rawValue decodes raw JSON for a tool call input; nil when absent or null.
func rawValue(raw json.RawMessage) any {
	if isNull(raw) {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	return v
}

// headBuffer keeps the first limit bytes written to it and counts the rest,
// so streamed command output stays bounded however long the command runs.
type headBuffer struct {
	limit   int
	buf     []byte
	dropped int
}

func (h *headBuffer) write(s string) {
	room := h.limit - len(h.buf)
	if room >= len(s) {
		h.buf = append(h.buf, s...)
		return
	}
	if room > 0 {
		h.buf = append(h.buf, s[:room]...)
	}
	h.dropped += len(s) - max(room, 0)
}

func (h *headBuffer) String() string {
	if h.dropped == 0 {
		return string(h.buf)
	}
	// Same note as agent.Truncate, counting what was never kept.
	cut := min(len(h.buf), max(h.limit-64, 0))
	for cut > 0 && cut < len(h.buf) && !utf8.RuneStart(h.buf[cut]) {
		cut--
	}
	return string(h.buf[:cut]) + fmt.Sprintf("\n… (%d bytes left out)", h.dropped+len(h.buf)-cut)
}
