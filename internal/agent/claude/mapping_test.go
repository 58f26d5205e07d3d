package claude

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

func TestToolKind(t *testing.T) {
	for name, want := range map[string]string{
		"Bash": domain.ToolKindCommand, "Edit": domain.ToolKindFileChange, "Write": domain.ToolKindFileChange,
		"MultiEdit": domain.ToolKindFileChange, "NotebookEdit": domain.ToolKindFileChange, "Read": domain.ToolKindFileRead,
		"Glob": domain.ToolKindFileRead, "Grep": domain.ToolKindFileRead, "LS": domain.ToolKindFileRead,
		"WebFetch": domain.ToolKindWeb, "WebSearch": domain.ToolKindWeb, "mcp__github__get_issue": domain.ToolKindMCP,
		"Task": domain.ToolKindOther, "TodoWrite": domain.ToolKindOther, "mcp": domain.ToolKindOther,
	} {
		if got := toolKind(name); got != want {
			t.Errorf("toolKind(%q) = %q, want %q", name, got, want)
		}
	}
}

func TestSafeID(t *testing.T) {
	for _, id := range []string{"toolu_01A09q90qw90lq917835lq9", "msg_01XFDUDYJgAACzvnptvVoYEL", "6f1c1b52-0d5e-4a3e-9a57-3f1c2d4e5a60"} {
		if got := safeID("x", id); got != id {
			t.Errorf("safeID(%q) = %q, want it kept", id, got)
		}
	}
	for _, id := range []string{"", "perm:2", "a.b", strings.Repeat("a", 65), "ü"} {
		got := safeID("req", id)
		if !domain.ValidID(got) || !strings.HasPrefix(got, "req-") || got != safeID("req", id) {
			t.Errorf("safeID(%q) = %q: want a valid, stable, derived id", id, got)
		}
	}
	if safeID("req", "a:1") == safeID("req", "a:2") {
		t.Error("two ids derive the same id")
	}
	if got := blockID("msg_1", 0); got != "msg_1" {
		t.Errorf("blockID(msg_1, 0) = %q", got)
	}
	if got := blockID("msg_1", 2); got != "msg_1-2" {
		t.Errorf("blockID(msg_1, 2) = %q", got)
	}
	if got := blockID(strings.Repeat("m", 64), 1); !domain.ValidID(got) {
		t.Errorf("blockID of a 64-character id = %q, not valid", got)
	}
}

func TestBoundedInput(t *testing.T) {
	small := map[string]any{"command": "ls"}
	if got := boundedInput(small); !reflect.DeepEqual(got, small) {
		t.Errorf("small input changed: %v", got)
	}
	// Control characters escape to six bytes each in JSON: the worst case.
	for _, fill := range []string{"x", "\x01", "é"} {
		big := map[string]any{"content": strings.Repeat(fill, agent.MaxFieldBytes)}
		got := boundedInput(big)
		b, _ := json.Marshal(got)
		s, _ := got["truncated_input"].(string)
		if len(b) > agent.MaxFieldBytes || !strings.Contains(s, "bytes left out") || !strings.HasPrefix(s, `{"content":"`) {
			t.Errorf("fill %q: %d bytes, %.40q…: want at most %d bytes, the start of the input and a note", fill, len(b), s, agent.MaxFieldBytes)
		}
	}
}

func TestDescribe(t *testing.T) {
	for _, tc := range []struct {
		r    ControlRequest
		want string
	}{
		{ControlRequest{ToolName: "Bash", Input: map[string]any{"command": "make test"}}, "Bash: make test"},
		{ControlRequest{ToolName: "Edit", Input: map[string]any{"file_path": "/p/a.go", "old_string": "a"}}, "Edit /p/a.go"},
		{ControlRequest{ToolName: "WebFetch", Input: map[string]any{"url": "https://example.com", "prompt": "p"}}, "WebFetch https://example.com"},
		{ControlRequest{ToolName: "mcp__x__y", Input: map[string]any{"n": 1}, BlockedPath: "/etc"}, `mcp__x__y {"n":1} (outside the allowed paths: /etc)`},
		{ControlRequest{ToolName: "Write", Input: map[string]any{"file_path": "b"}, DecisionReason: "Path is outside the project"}, "Write b (Path is outside the project)"},
	} {
		if got := describe(&tc.r); got != tc.want {
			t.Errorf("describe(%s) = %q, want %q", tc.r.ToolName, got, tc.want)
		}
	}
}

func TestResultEvent(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    Message
		want domain.ProviderEvent
	}{
		{"success without stop reason", Message{Subtype: "success", TotalCostUSD: 0.5, Usage: &Usage{InputTokens: 1, OutputTokens: 2}},
			domain.TurnComplete{StopReason: domain.StopEndTurn, Usage: domain.Usage{InputTokens: 1, OutputTokens: 2, CostUSD: 0.5}}},
		{"refusal", Message{Subtype: "success", StopReason: "refusal"}, domain.TurnComplete{StopReason: domain.StopRefusal}},
		{"budget", Message{Subtype: "error_max_budget_usd", IsError: true},
			domain.ProviderError{Message: "Claude Code: error_max_budget_usd"}},
		{"rate limited", Message{Subtype: "success", IsError: true, APIErrorStatus: 429},
			domain.ProviderError{Message: "Claude Code: API error (HTTP 429)", Retryable: true}},
		{"nothing said", Message{Subtype: "success", IsError: true}, domain.ProviderError{Message: "Claude Code: unknown error"}},
	} {
		if got := resultEvent(&tc.m); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}
