package claude

import (
	"fmt"
	"strings"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// maxErrorBytes bounds the message of a ProviderError.
const maxErrorBytes = 8 << 10

// resultEvent maps the result that ends a turn to its terminal event.
// Only subtype success without is_error completes the turn: an
// error_during_execution can come with is_error false, and an API failure
// comes as success with is_error true.
func resultEvent(m *Message) domain.ProviderEvent {
	if m.Subtype == "success" && !m.IsError {
		stop := m.StopReason
		if stop == "" {
			stop = domain.StopEndTurn
		}
		var u domain.Usage
		if m.Usage != nil {
			u = domain.Usage{
				InputTokens:      m.Usage.InputTokens,
				OutputTokens:     m.Usage.OutputTokens,
				CacheReadTokens:  m.Usage.CacheReadInputTokens,
				CacheWriteTokens: m.Usage.CacheCreationInputTokens,
			}
		}
		u.CostUSD = m.TotalCostUSD
		return domain.TurnComplete{StopReason: stop, Usage: u}
	}
	return domain.ProviderError{
		Message:   agent.Truncate("Claude Code: "+resultText(m), maxErrorBytes),
		Retryable: resultRetryable(m),
	}
}

// resultText picks the most telling text of a failed result, in the order
// the official SDKs do: errors, then result, then the subtype, then the
// HTTP status.
func resultText(m *Message) string {
	var errs []string
	for _, e := range m.Errors {
		if s := strings.TrimSpace(string(e)); s != "" {
			errs = append(errs, s)
		}
	}
	switch {
	case len(errs) > 0:
		return strings.Join(errs, "; ")
	case strings.TrimSpace(string(m.Result)) != "":
		return strings.TrimSpace(string(m.Result))
	case m.Subtype != "" && m.Subtype != "success":
		return m.Subtype
	case m.APIErrorStatus != 0:
		return fmt.Sprintf("API error (HTTP %d)", m.APIErrorStatus)
	}
	return "unknown error"
}

// resultRetryable says whether the same turn may succeed when tried again:
// after an overloaded or failing API (429, 5xx) or an execution error, yes;
// after a turn or budget limit, or a refused request (401, 400), no.
func resultRetryable(m *Message) bool {
	if s := m.APIErrorStatus; s == 429 || s >= 500 {
		return true
	}
	return m.Subtype == "error_during_execution"
}
