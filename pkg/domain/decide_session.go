package domain

import (
	"math"
	"strings"
)

// Provider event rules that contract 1.1 adds: the agent's own session,
// the kind of a tool call, and what a turn's usage may say.

// maxSessionIDBytes bounds a provider's session id (a UUID in practice).
const maxSessionIDBytes = 256

// applySession decides SessionStarted and SessionExited. Neither ends the
// turn: an agent whose process died reports SessionExited and then the
// terminal event (Error) that ends it.
func (s *ingestScratch) applySession(pid string, pe ProviderEvent) error {
	ids := []string{pid}
	switch e := pe.(type) {
	case SessionStarted:
		if strings.TrimSpace(e.SessionID) == "" || len(e.SessionID) > maxSessionIDBytes {
			return Errorf(CodeInvalidCommand, "session_id must be 1-%d bytes", maxSessionIDBytes)
		}
		if e.Host != "" {
			if err := checkID("host", e.Host); err != nil {
				return err
			}
		}
		s.events = append(s.events, AgentSessionStarted{ThreadID: s.t.ID, TurnID: s.turn.ID, SessionID: e.SessionID,
			Model: e.Model, Host: e.Host, ProviderEventIDs: ids})
	case SessionExited:
		s.events = append(s.events, AgentSessionExited{ThreadID: s.t.ID, TurnID: s.turn.ID, ExitCode: e.ExitCode,
			Error: BoundText(e.Error), ProviderEventIDs: ids})
	}
	return nil
}

// ToolKindOf maps what an agent reports as a tool call's kind onto the
// closed set a UI renders by: a kind outside the set (or none) is
// ToolKindOther. Refusing it would lose the whole batch of provider events
// over a label.
func ToolKindOf(kind string) string {
	switch kind {
	case ToolKindCommand, ToolKindFileChange, ToolKindFileRead, ToolKindWeb, ToolKindMCP:
		return kind
	}
	return ToolKindOther
}

// checkUsage refuses usage that cannot be true: negative counts, a negative
// or non-finite cost.
func checkUsage(u Usage) error {
	if u.InputTokens < 0 || u.OutputTokens < 0 || u.CacheReadTokens < 0 || u.CacheWriteTokens < 0 || u.ReasoningTokens < 0 {
		return Errorf(CodeInvalidCommand, "usage has a negative token count")
	}
	if math.IsNaN(u.CostUSD) || math.IsInf(u.CostUSD, 0) || u.CostUSD < 0 {
		return Errorf(CodeInvalidCommand, "usage cost_usd %v is not a finite amount of at least 0", u.CostUSD)
	}
	return nil
}

// addUsage adds b to a, saturating instead of overflowing: a thread's total
// never wraps round, and its cost never becomes infinite or NaN (which JSON
// could not carry). Decide refuses such usage; the fold holds up even so.
func addUsage(a, b Usage) Usage {
	cost := a.CostUSD
	if b.CostUSD > 0 { // false for NaN
		cost = min(cost+b.CostUSD, math.MaxFloat64)
	}
	return Usage{
		InputTokens:      addSaturating(a.InputTokens, b.InputTokens),
		OutputTokens:     addSaturating(a.OutputTokens, b.OutputTokens),
		CacheReadTokens:  addSaturating(a.CacheReadTokens, b.CacheReadTokens),
		CacheWriteTokens: addSaturating(a.CacheWriteTokens, b.CacheWriteTokens),
		ReasoningTokens:  addSaturating(a.ReasoningTokens, b.ReasoningTokens),
		CostUSD:          cost,
	}
}

func addSaturating(a, b int64) int64 {
	switch s := a + b; {
	case b > 0 && s < a:
		return math.MaxInt64
	case b < 0 && s > a:
		return math.MinInt64
	default:
		return s
	}
}
