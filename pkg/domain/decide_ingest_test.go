package domain_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideIngest(t *testing.T) {
	text := func(msg, delta string) domain.ProviderEvent { return domain.TextDelta{MessageID: msg, Delta: delta} }
	batch := func(items ...domain.ProviderEventBatchItem) domain.IngestProviderEvent {
		return domain.IngestProviderEvent{ThreadID: t1, TurnID: u1, Events: items}
	}
	item := func(pid string, pe domain.ProviderEvent) domain.ProviderEventBatchItem {
		return domain.ProviderEventBatchItem{ProviderEventID: pid, Event: domain.ProviderEventEnvelope{ProviderEvent: pe}}
	}
	runSpecs(t, []spec{
		{name: "first text delta appends an assistant message", given: withTurn,
			when: ingest(u1, pe1, text(m2, "Hel")),
			then: []domain.Event{domain.MessageAppended{ThreadID: t1, TurnID: u1, MessageID: m2,
				Role: domain.RoleAssistant, Text: "Hel", ProviderEventIDs: ids(pe1)}}},
		{name: "next text delta is a chunk", given: withWork,
			when: ingest(u1, "pe9", text(m2, "lo")),
			then: []domain.Event{domain.MessageChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2,
				Delta: "lo", ProviderEventIDs: ids("pe9")}}},
		{name: "a redelivered provider event appends nothing", given: withWork,
			when: ingest(u1, pe1, text(m2, "on it")), then: nil},
		{name: "consecutive deltas of one message in a batch coalesce into one event", given: withTurn,
			when: batch(item(pe1, text(m2, "a")), item(pe2, text(m2, "b")), item(pe3, text(m2, "c"))),
			then: []domain.Event{domain.MessageAppended{ThreadID: t1, TurnID: u1, MessageID: m2,
				Role: domain.RoleAssistant, Text: "abc", ProviderEventIDs: ids(pe1, pe2, pe3)}}},
		{name: "a redelivery with other batch boundaries applies only what is new", given: withWork,
			when: batch(item(pe1, text(m2, "on it")), item("pe4", text(m2, "!")), item("pe4", text(m2, "!"))),
			then: []domain.Event{domain.MessageChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2,
				Delta: "!", ProviderEventIDs: ids("pe4")}}},
		{name: "text for the user's prompt id is refused", given: withTurn,
			when: ingest(u1, pe1, text(m1, "x")), err: domain.CodeInvalidCommand},
		{name: "thinking is kept apart", given: withTurn,
			when: batch(item(pe1, domain.ThinkingDelta{MessageID: m2, Delta: "hmm"}), item(pe2, domain.ThinkingDelta{MessageID: m2, Delta: "..."})),
			then: []domain.Event{domain.ThinkingChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2,
				Delta: "hmm...", ProviderEventIDs: ids(pe1, pe2)}}},
		{name: "tool call", given: withTurn,
			when: ingest(u1, pe1, domain.ToolCall{ToolCallID: tc1, Name: "bash", Input: map[string]any{"cmd": "ls"}}),
			then: []domain.Event{domain.ToolCallStarted{ThreadID: t1, TurnID: u1, ToolCallID: tc1, Name: "bash",
				Kind: domain.ToolKindOther, Input: map[string]any{"cmd": "ls"}, ProviderEventIDs: ids(pe1)}}},
		{name: "tool call id used twice", given: withWork,
			when: ingest(u1, "pe9", domain.ToolCall{ToolCallID: tc1, Name: "bash"}), err: domain.CodeInvalidCommand},
		{name: "tool result", given: withWork,
			when: ingest(u1, "pe9", domain.ToolResult{ToolCallID: tc1, Output: "ok"}),
			then: []domain.Event{domain.ToolCallCompleted{ThreadID: t1, ToolCallID: tc1, Output: "ok", ProviderEventIDs: ids("pe9")}}},
		{name: "tool result for an unknown tool call", given: withTurn,
			when: ingest(u1, pe1, domain.ToolResult{ToolCallID: tc2}), err: domain.CodeToolCallNotFound},
		{name: "awaiting approval", given: withTurn,
			when: ingest(u1, pe1, domain.AwaitingApproval{RequestID: r1, Kind: "exec", Description: "rm -rf build"}),
			then: []domain.Event{
				domain.PendingActionRequested{ThreadID: t1, TurnID: u1, RequestID: r1, Kind: "exec",
					Description: "rm -rf build", ProviderEventIDs: ids(pe1)},
				status(t1, awaiting)}},
		{name: "a second approval request while awaiting does not change status", given: withWork,
			when: ingest(u1, "pe9", domain.AwaitingApproval{RequestID: r2}),
			then: []domain.Event{domain.PendingActionRequested{ThreadID: t1, TurnID: u1, RequestID: r2, ProviderEventIDs: ids("pe9")}}},
		{name: "turn complete ends the turn", given: withWork,
			when: ingest(u1, "pe9", domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 10, OutputTokens: 20}}),
			then: []domain.Event{
				domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: cancelledState},
				domain.MessageCompleted{ThreadID: t1, MessageID: m2},
				domain.ToolCallCompleted{ThreadID: t1, ToolCallID: tc1, Cancelled: true},
				domain.TurnCompleted{ThreadID: t1, TurnID: u1, StopReason: "end_turn",
					Usage: domain.Usage{InputTokens: 10, OutputTokens: 20}, ProviderEventIDs: ids("pe9")},
				status(t1, idle)}},
		{name: "error fails the turn", given: withTurn,
			when: ingest(u1, pe1, domain.ProviderError{Message: "rate limited", Retryable: true}),
			then: []domain.Event{
				domain.TurnFailed{ThreadID: t1, TurnID: u1, Error: "rate limited", Retryable: true, ProviderEventIDs: ids(pe1)},
				domain.ThreadStatusChanged{ThreadID: t1, Status: statusError, LastError: "rate limited"}}},
		{name: "a whole turn in one batch", given: withTurn,
			when: batch(item(pe1, text(m2, "Hi")), item(pe2, domain.ThinkingDelta{MessageID: m2, Delta: "t"}),
				item(pe3, text(m2, "!")), item("pe4", domain.TurnComplete{StopReason: "end_turn"})),
			then: []domain.Event{
				domain.MessageAppended{ThreadID: t1, TurnID: u1, MessageID: m2, Role: domain.RoleAssistant, Text: "Hi", ProviderEventIDs: ids(pe1)},
				domain.ThinkingChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: "t", ProviderEventIDs: ids(pe2)},
				domain.MessageChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: "!", ProviderEventIDs: ids(pe3)},
				domain.MessageCompleted{ThreadID: t1, MessageID: m2},
				domain.MessageCompleted{ThreadID: t1, MessageID: domain.ThinkingMessageID(m2)},
				domain.TurnCompleted{ThreadID: t1, TurnID: u1, StopReason: "end_turn", ProviderEventIDs: ids("pe4")},
				status(t1, idle)}},
		{name: "an event after the end in the same batch is stale", given: withTurn,
			when: batch(item(pe1, domain.TurnComplete{}), item(pe2, text(m2, "late"))), err: domain.CodeStaleProviderEvent},
		{name: "stale: the turn already completed", given: withDoneTurn,
			when: ingest(u1, "pe9", text(m2, "late")), err: domain.CodeStaleProviderEvent},
		{name: "stale: another turn is active", given: withTurn,
			when: ingest(u2, pe1, text(m2, "x")), err: domain.CodeStaleProviderEvent},
		{name: "unknown thread", when: ingest(u1, pe1, text(m2, "x")), err: domain.CodeThreadNotFound},
		{name: "no provider event", given: withTurn,
			when: domain.IngestProviderEvent{ThreadID: t1, TurnID: u1}, err: domain.CodeInvalidCommand},
		{name: "bad provider event id", given: withTurn,
			when: ingest(u1, "a b", text(m2, "x")), err: domain.CodeInvalidCommand},
	})
}
