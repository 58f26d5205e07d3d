package simulator

import (
	"context"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Ask puts a permission request to the user (it is the caller's to report
// it) and waits for the answer; ok is false when ctx ended first.
type Ask func(ctx context.Context, req domain.AwaitingApproval) (res domain.Resolution, ok bool)

// Play plays one scripted turn of the fake agent, reporting every event to
// emit: thinking, text deltas at the script's rate, a tool call half-way
// (every ApprovalEvery-th turn asks first, when ask is not nil), its
// result, then TurnComplete — or a retryable ProviderError every
// ErrorEvery-th turn. n is the thread's turn number, from 1. It stops
// without a terminal event when ctx ends. Ids derive from turnID, so a
// replayed turn reports the same ids.
func Play(ctx context.Context, script Script, turnID string, n int, emit func(domain.ProviderEvent), ask Ask) {
	if script.Deltas <= 0 {
		script.Deltas = 40
	}
	msg := "a-" + turnID
	emit(domain.ThinkingDelta{MessageID: msg, Delta: "Reading the code. "})
	var tick <-chan time.Time
	if script.Rate > 0 {
		t := time.NewTicker(time.Duration(float64(time.Second) / script.Rate))
		defer t.Stop()
		tick = t.C
	}
	for i := 0; i < script.Deltas && ctx.Err() == nil; i++ {
		if tick != nil {
			select {
			case <-tick:
			case <-ctx.Done():
				return
			}
		}
		emit(domain.TextDelta{MessageID: msg, Delta: words[i%len(words)] + " "})
		if i == script.Deltas/2 {
			toolCall(ctx, script, turnID, n, emit, ask)
		}
	}
	if ctx.Err() != nil {
		return
	}
	if script.ErrorEvery > 0 && n%script.ErrorEvery == 0 {
		emit(domain.ProviderError{Message: "simulated provider error", Retryable: true})
		return
	}
	emit(domain.TurnComplete{StopReason: domain.StopEndTurn, Usage: domain.Usage{InputTokens: 1200, OutputTokens: int64(script.Deltas)}})
}

// toolCall runs a tool, asking for approval first on every Nth turn.
func toolCall(ctx context.Context, script Script, turnID string, n int, emit func(domain.ProviderEvent), ask Ask) {
	tool := "tool-" + turnID
	emit(domain.ToolCall{ToolCallID: tool, Name: "bash", Kind: "command", Input: map[string]any{"command": "go test ./..."}})
	if ask != nil && script.ApprovalEvery > 0 && n%script.ApprovalEvery == 0 {
		res, ok := ask(ctx, domain.AwaitingApproval{RequestID: "req-" + turnID, ToolCallID: tool, Kind: "command", Description: "run go test ./..."})
		if !ok {
			return
		}
		if res != domain.ResolutionApproved {
			emit(domain.ToolResult{ToolCallID: tool, Output: "rejected by the user", IsError: true})
			return
		}
	}
	emit(domain.ToolResult{ToolCallID: tool, Output: "ok  \tpeon\t0.42s"})
}
