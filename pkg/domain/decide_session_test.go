package domain_test

import (
	"math"
	"strings"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideSessions(t *testing.T) {
	item := func(pid string, pe domain.ProviderEvent) domain.ProviderEventBatchItem {
		return domain.ProviderEventBatchItem{ProviderEventID: pid, Event: domain.ProviderEventEnvelope{ProviderEvent: pe}}
	}
	started := cat(withTurn, []domain.Event{domain.AgentSessionStarted{ThreadID: t1, TurnID: u1, SessionID: "s1", ProviderEventIDs: ids(pe1)}})
	long := strings.Repeat("x", domain.MaxGitTextBytes+1)
	runSpecs(t, []spec{
		{name: "a session started", given: withTurn,
			when: ingest(u1, pe1, domain.SessionStarted{SessionID: "s1", Model: "opus", Host: "studio"}),
			then: []domain.Event{domain.AgentSessionStarted{ThreadID: t1, TurnID: u1, SessionID: "s1", Model: "opus", Host: "studio",
				ProviderEventIDs: ids(pe1)}}},
		{name: "a redelivered session start appends nothing", given: started,
			when: ingest(u1, pe1, domain.SessionStarted{SessionID: "s1"})},
		{name: "an empty session id", given: withTurn,
			when: ingest(u1, pe1, domain.SessionStarted{SessionID: " "}), err: domain.CodeInvalidCommand},
		{name: "a session id over 256 bytes", given: withTurn,
			when: ingest(u1, pe1, domain.SessionStarted{SessionID: strings.Repeat("s", 257)}), err: domain.CodeInvalidCommand},
		{name: "a host that is not an id", given: withTurn,
			when: ingest(u1, pe1, domain.SessionStarted{SessionID: "s1", Host: "a b"}), err: domain.CodeInvalidCommand},
		{name: "a session exit does not end the turn; the Error after it does", given: started,
			when: domain.IngestProviderEvent{ThreadID: t1, TurnID: u1, Events: []domain.ProviderEventBatchItem{
				item(pe2, domain.SessionExited{ExitCode: 137, Error: "killed"}),
				item(pe3, domain.ProviderError{Message: "agent died", Retryable: true}),
			}},
			then: []domain.Event{
				domain.AgentSessionExited{ThreadID: t1, TurnID: u1, ExitCode: 137, Error: "killed", ProviderEventIDs: ids(pe2)},
				domain.TurnFailed{ThreadID: t1, TurnID: u1, Error: "agent died", Retryable: true, ProviderEventIDs: ids(pe3)},
				domain.ThreadStatusChanged{ThreadID: t1, Status: statusError, LastError: "agent died"},
			}},
		{name: "an exit's error is bounded", given: withTurn,
			when: ingest(u1, pe1, domain.SessionExited{ExitCode: 1, Error: long}),
			then: []domain.Event{domain.AgentSessionExited{ThreadID: t1, TurnID: u1, ExitCode: 1, Error: domain.BoundText(long),
				ProviderEventIDs: ids(pe1)}}},
		{name: "a session event after the turn ended is stale", given: withDoneTurn,
			when: ingest(u1, pe1, domain.SessionExited{ExitCode: 0}), err: domain.CodeStaleProviderEvent},
	})
}

func TestDecideToolKinds(t *testing.T) {
	call := func(pid, id, kind string) domain.IngestProviderEvent {
		return ingest(u1, pid, domain.ToolCall{ToolCallID: id, Name: "tool", Kind: kind})
	}
	started := func(pid, id, kind string) []domain.Event {
		return []domain.Event{domain.ToolCallStarted{ThreadID: t1, TurnID: u1, ToolCallID: id, Name: "tool", Kind: kind, ProviderEventIDs: ids(pid)}}
	}
	specs := []spec{
		{name: "an unknown kind is recorded as other", given: withTurn, when: call(pe1, tc1, "shell"), then: started(pe1, tc1, domain.ToolKindOther)},
		{name: "no kind is other", given: withTurn, when: call(pe1, tc1, ""), then: started(pe1, tc1, domain.ToolKindOther)},
	}
	for _, k := range []string{domain.ToolKindCommand, domain.ToolKindFileChange, domain.ToolKindFileRead, domain.ToolKindWeb,
		domain.ToolKindMCP, domain.ToolKindOther} {
		specs = append(specs, spec{name: "kind " + k, given: withTurn, when: call(pe1, tc1, k), then: started(pe1, tc1, k)})
	}
	runSpecs(t, specs)
}

func TestDecideUsage(t *testing.T) {
	complete := func(u domain.Usage) domain.IngestProviderEvent {
		return ingest(u1, pe1, domain.TurnComplete{StopReason: domain.StopEndTurn, Usage: u})
	}
	full := domain.Usage{InputTokens: 100, OutputTokens: 20, CacheReadTokens: 80, CacheWriteTokens: 10, ReasoningTokens: 5, CostUSD: 0.0042}
	specs := []spec{
		{name: "usage with cache, reasoning and cost is kept", given: withTurn, when: complete(full),
			then: []domain.Event{
				domain.TurnCompleted{ThreadID: t1, TurnID: u1, StopReason: domain.StopEndTurn, Usage: full, ProviderEventIDs: ids(pe1)},
				status(t1, idle)}},
	}
	for name, u := range map[string]domain.Usage{
		"negative input tokens":       {InputTokens: -1},
		"negative output tokens":      {OutputTokens: -1},
		"negative cache read tokens":  {CacheReadTokens: -1},
		"negative cache write tokens": {CacheWriteTokens: -1},
		"negative reasoning tokens":   {ReasoningTokens: -1},
		"negative cost":               {CostUSD: -0.01},
		"NaN cost":                    {CostUSD: math.NaN()},
		"infinite cost":               {CostUSD: math.Inf(1)},
	} {
		specs = append(specs, spec{name: name, given: withTurn, when: complete(u), err: domain.CodeInvalidCommand})
	}
	runSpecs(t, specs)
}
