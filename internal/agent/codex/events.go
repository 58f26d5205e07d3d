package codex

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// onNotification maps one server notification to provider events.
// Notifications the adapter has no event for (plans, diffs, thread status,
// rate limits, MCP startup, …) are dropped.
func (t *turn) onNotification(m Message) {
	switch m.Method {
	case notifyTurnStarted:
		var n turnNotification
		if decode(m, &n) && t.ours(n.ThreadID, "") && n.Turn.ID != "" {
			t.setTurnID(n.Turn.ID)
		}
	case notifyTurnCompleted:
		var n turnNotification
		if !decode(m, &n) {
			t.fail("codex app-server sent a turn/completed that does not parse", false)
			return
		}
		if t.ours(n.ThreadID, n.Turn.ID) {
			t.completed(n.Turn)
		}
	case notifyError:
		var n errorNotification
		// A transient error Codex retries by itself does not end the turn.
		if decode(m, &n) && !n.WillRetry && t.ours(n.ThreadID, n.TurnID) {
			t.fail(errorText(n.Error), retryable(n.Error.CodexErrorInfo))
		}
	case notifyItemStarted, notifyItemCompleted:
		var n itemNotification
		var it threadItem
		if !decode(m, &n) || json.Unmarshal(n.Item, &it) != nil || !t.ours(n.ThreadID, n.TurnID) {
			return
		}
		if m.Method == notifyItemStarted {
			t.itemStarted(it)
		} else {
			t.itemCompleted(it)
		}
	case notifyAgentDelta:
		var n deltaNotification
		if decode(m, &n) && t.ours(n.ThreadID, n.TurnID) {
			t.stream(n.ItemID).streamed = true
			t.text(n.ItemID, n.Delta)
		}
	case notifyReasoningSummary, notifyReasoningText:
		var n deltaNotification
		if decode(m, &n) && t.ours(n.ThreadID, n.TurnID) {
			t.thinkingDelta(n)
		}
	case notifyCommandOutput:
		var n deltaNotification
		if decode(m, &n) && t.ours(n.ThreadID, n.TurnID) {
			if st := t.tools[n.ItemID]; st != nil {
				st.out.write(n.Delta)
			}
		}
	case notifyTokenUsage:
		var n tokenUsageNotification
		if decode(m, &n) && t.ours(n.ThreadID, n.TurnID) {
			t.usage.update(n.TokenUsage.Total, n.TokenUsage.Last)
		}
	}
}

func decode(m Message, v any) bool {
	return !isNull(m.Params) && json.Unmarshal(m.Params, v) == nil
}

// completed ends the turn as turn/completed says: completed or interrupted
// is TurnComplete, failed is a ProviderError.
func (t *turn) completed(turn turnInfo) {
	switch turn.Status {
	case "failed":
		e := turnError{Message: "codex turn failed"}
		if turn.Error != nil {
			e = *turn.Error
		}
		t.fail(errorText(e), retryable(e.CodexErrorInfo))
	case "interrupted":
		t.finish(domain.TurnComplete{StopReason: domain.StopCancelled, Usage: t.usage.usage()})
	case "completed":
		t.finish(domain.TurnComplete{StopReason: domain.StopEndTurn, Usage: t.usage.usage()})
	default:
		t.finish(domain.TurnComplete{StopReason: turn.Status, Usage: t.usage.usage()})
	}
}

func errorText(e turnError) string {
	msg := e.Message
	if msg == "" {
		msg = "codex turn failed"
	}
	if !isNull(e.CodexErrorInfo) {
		msg += " (" + string(e.CodexErrorInfo) + ")"
	}
	return agent.Truncate(msg, agent.MaxTextChunk)
}

func (t *turn) stream(itemID string) *streamState {
	st := t.streams[itemID]
	if st == nil {
		st = &streamState{}
		t.streams[itemID] = st
	}
	return st
}

// text emits an agent message delta, split to fit a provider event.
func (t *turn) text(itemID, delta string) {
	if delta == "" {
		return
	}
	for _, c := range agent.Chunks(delta, agent.MaxTextChunk) {
		t.send(domain.TextDelta{MessageID: safeID(itemID), Delta: c})
	}
}

func (t *turn) thinking(itemID, delta string) {
	if delta == "" {
		return
	}
	for _, c := range agent.Chunks(delta, agent.MaxTextChunk) {
		t.send(domain.ThinkingDelta{MessageID: safeID(itemID), Delta: c})
	}
}

// thinkingDelta streams reasoning: summary sections (summaryIndex) and raw
// reasoning blocks (contentIndex) are separated by a blank line.
func (t *turn) thinkingDelta(n deltaNotification) {
	section := ""
	switch {
	case n.SummaryIndex != nil:
		section = fmt.Sprintf("s%d", *n.SummaryIndex)
	case n.ContentIndex != nil:
		section = fmt.Sprintf("c%d", *n.ContentIndex)
	}
	st := t.stream(n.ItemID)
	delta := n.Delta
	if st.streamed && section != st.section && delta != "" {
		delta = "\n\n" + delta
	}
	if delta != "" {
		st.streamed, st.section = true, section
	}
	t.thinking(n.ItemID, delta)
}

// itemStarted reports a tool use as its ToolCall.
func (t *turn) itemStarted(it threadItem) {
	if it.Type == "agentMessage" || it.Type == "reasoning" {
		t.stream(it.ID)
		return
	}
	if t.tools[it.ID] != nil {
		return
	}
	call, ok := toolCall(it)
	if !ok {
		return
	}
	t.tools[it.ID] = &toolState{item: it, out: headBuffer{limit: agent.MaxFieldBytes}}
	t.send(call)
}

// itemCompleted reports a tool use's ToolResult, and the text of a message
// or reasoning that arrived whole instead of in deltas.
func (t *turn) itemCompleted(it threadItem) {
	switch it.Type {
	case "agentMessage":
		if st := t.streams[it.ID]; st == nil || !st.streamed {
			t.text(it.ID, it.Text)
		}
		delete(t.streams, it.ID)
		return
	case "reasoning":
		if st := t.streams[it.ID]; st == nil || !st.streamed {
			parts := it.Summary
			if len(parts) == 0 {
				parts = it.Content
			}
			t.thinking(it.ID, strings.Join(parts, "\n\n"))
		}
		delete(t.streams, it.ID)
		return
	}
	st := t.tools[it.ID]
	if st == nil {
		call, ok := toolCall(it)
		if !ok {
			return
		}
		t.send(call)
		st = &toolState{item: it}
	}
	delete(t.tools, it.ID)
	t.send(toolResult(it, st.out.String()))
}

// onRequest handles a server request: approvals become AwaitingApproval
// and wait for Respond; anything else is refused as not served, which
// Codex treats as a refusal of what it asked.
func (t *turn) onRequest(m Message) {
	kind := ""
	switch m.Method {
	case requestCommandApproval:
		kind = domain.ToolKindCommand
	case requestFileApproval:
		kind = domain.ToolKindFileChange
	}
	var p approvalParams
	if kind == "" || !decode(m, &p) {
		_ = t.write(Message{Kind: KindError, ID: m.ID, Error: &RPCError{
			Code: errMethodNotFound, Message: "peon does not serve " + m.Method,
		}})
		return
	}
	id := requestID(p.ItemID, idText(m.ID))
	ev := domain.AwaitingApproval{RequestID: id, Kind: kind}
	var item *threadItem
	if st := t.tools[p.ItemID]; st != nil {
		item = &st.item
		ev.ToolCallID = safeID(p.ItemID)
	}
	ev.Description = approvalDescription(m.Method, p, item)
	t.mu.Lock()
	t.pending[id] = m.ID
	// Waiting for a person is not a hang.
	t.proc.Watch(false)
	t.mu.Unlock()
	t.send(ev)
}
