package domain_test

import (
	"fmt"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// BenchmarkDecide measures one decision per command type on a model that
// holds a thread in the middle of a turn.
func BenchmarkDecide(b *testing.B) {
	idleModel := fold(cat(withDoneTurn, []domain.Event{
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"},
		domain.BranchCreateRequested{ThreadID: t1, OperationID: op1, Name: "b"}})...)
	busy := fold(withWork...)
	cases := []struct {
		name string
		m    *domain.Model
		cmd  domain.Command
	}{
		{"CreateProject", idleModel, domain.CreateProject{ProjectID: p2, Name: "n", Path: pathOther}},
		{"DeleteProject", idleModel, domain.DeleteProject{ProjectID: p1, Force: true}},
		{"RenameProject", idleModel, domain.RenameProject{ProjectID: p1, Name: "x"}},
		{"CreateThread", idleModel, domain.CreateThread{ThreadID: t2, ProjectID: p1}},
		{"DeleteThread", busy, domain.DeleteThread{ThreadID: t1}},
		{"SelectThread", idleModel, domain.SelectThread{ThreadID: t1}},
		{"StartTurn", idleModel, domain.StartTurn{ThreadID: t1, TurnID: u2, MessageID: m3, Text: "go"}},
		{"InterruptTurn", busy, domain.InterruptTurn{ThreadID: t1}},
		{"ApprovePendingAction", busy, domain.ApprovePendingAction{ThreadID: t1, RequestID: r1}},
		{"RejectPendingAction", busy, domain.RejectPendingAction{ThreadID: t1, RequestID: r1}},
		{"IngestProviderEvent/TextDelta", busy, ingest(u1, "pe9", domain.TextDelta{MessageID: m2, Delta: "token"})},
		{"IngestProviderEvent/TurnComplete", busy, ingest(u1, "pe9", domain.TurnComplete{StopReason: "end_turn"})},
		{"CreateCheckpoint", idleModel, domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp2, TurnID: u1, Ref: "r"}},
		{"RestoreCheckpoint", idleModel, domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1}},
		{"CommitChanges", idleModel, domain.CommitChanges{ThreadID: t1, OperationID: op2, Message: "m"}},
		{"CreateBranch", idleModel, domain.CreateBranch{ThreadID: t1, OperationID: op2, Name: "feature/x"}},
		{"PushBranch", idleModel, domain.PushBranch{ThreadID: t1, OperationID: op2}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			if _, err := domain.Decide(c.cmd, c.m); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				_, _ = domain.Decide(c.cmd, c.m)
			}
		})
	}
}

// BenchmarkProject measures folding one event of each type. Each iteration
// folds into a fresh copy of a small model, so the figure includes building
// it; BenchmarkProject/baseline is that cost alone.
func BenchmarkProject(b *testing.B) {
	b.Run("baseline", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_ = fold(withWork...)
		}
	})
	for _, e := range oneOfEach() {
		b.Run(e.EventType(), func(b *testing.B) {
			b.ReportAllocs()
			se := stored(100, e)
			for b.Loop() {
				domain.Project(fold(withWork...), se)
			}
		})
	}
}

// BenchmarkFoldMixed folds a realistic mix: 100 threads, each running turns
// of text and thinking deltas, tool calls and approvals. Reported as events/s.
func BenchmarkFoldMixed(b *testing.B) {
	const total = 1_000_000
	events := mixedHistory(total)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		m := domain.NewModel()
		for i, e := range events {
			domain.Project(m, domain.StoredEvent{Sequence: uint64(i + 1), Event: e, StoredAt: epoch})
		}
	}
	b.ReportMetric(float64(len(events))*float64(b.N)/b.Elapsed().Seconds(), "events/s")
}

// BenchmarkFoldStreamedMessage folds one message streamed as N chunks. The
// per-chunk cost must stay flat from 10k to 100k chunks (linear total cost).
func BenchmarkFoldStreamedMessage(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprintf("chunks=%d", n), func(b *testing.B) {
			chunk := domain.MessageChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: "token "}
			b.ReportAllocs()
			for b.Loop() {
				m := fold(withWork...)
				for i := range n {
					domain.Project(m, domain.StoredEvent{Sequence: uint64(100 + i), Event: chunk, StoredAt: epoch})
				}
			}
			b.ReportMetric(b.Elapsed().Seconds()*1e9/float64(b.N*n), "ns/chunk")
		})
	}
}

// mixedHistory builds n events of plausible traffic over 100 threads.
func mixedHistory(n int) []domain.Event {
	events := []domain.Event{projectCreated(p1, pathPeon)}
	const threads = 100
	for i := range threads {
		events = append(events, threadCreated(fmt.Sprintf("t%d", i), p1))
	}
	turn := 0
	for len(events) < n {
		for i := 0; i < threads && len(events) < n; i++ {
			th := fmt.Sprintf("t%d", i)
			tu, msg := fmt.Sprintf("u%d", turn), fmt.Sprintf("m%d", turn)
			events = append(events, turnStarted(th, tu, msg+"p"), status(th, running),
				domain.MessageAppended{ThreadID: th, TurnID: tu, MessageID: msg, Role: domain.RoleAssistant, Text: "Sure"})
			for k := range 40 {
				events = append(events, domain.MessageChunkReceived{ThreadID: th, TurnID: tu, MessageID: msg, Delta: " token"})
				if k%10 == 0 {
					events = append(events, domain.ThinkingChunkReceived{ThreadID: th, TurnID: tu, MessageID: msg, Delta: "hmm"})
				}
			}
			tool := fmt.Sprintf("tc%d", turn)
			events = append(events,
				domain.ToolCallStarted{ThreadID: th, TurnID: tu, ToolCallID: tool, Name: "bash"},
				domain.PendingActionRequested{ThreadID: th, TurnID: tu, RequestID: "r" + tool, ToolCallID: tool}, status(th, awaiting),
				domain.PendingActionResolved{ThreadID: th, RequestID: "r" + tool, Resolution: domain.ResolutionApproved}, status(th, running),
				domain.ToolCallCompleted{ThreadID: th, ToolCallID: tool, Output: "ok"},
				domain.MessageCompleted{ThreadID: th, MessageID: msg},
				domain.MessageCompleted{ThreadID: th, MessageID: domain.ThinkingMessageID(msg)},
				domain.TurnCompleted{ThreadID: th, TurnID: tu, StopReason: "end_turn"}, status(th, idle))
		}
		turn++
	}
	return events[:n]
}
