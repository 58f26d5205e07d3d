package domain_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideTurns(t *testing.T) {
	start := domain.StartTurn{ThreadID: t1, TurnID: u2, MessageID: m3, Text: "next"}
	started := []domain.Event{
		domain.TurnStarted{ThreadID: t1, TurnID: u2, MessageID: m3, Text: "next"}, status(t1, running)}
	failed := cat(withTurn, []domain.Event{domain.TurnFailed{ThreadID: t1, TurnID: u1, Error: "boom"},
		domain.ThreadStatusChanged{ThreadID: t1, Status: statusError, LastError: "boom"}})
	runSpecs(t, []spec{
		{name: "start on idle thread", given: withThread, when: start, then: started},
		{name: "start after a completed turn", given: withDoneTurn, when: start, then: started},
		{name: "start after an error", given: failed, when: start, then: started},
		{name: "second start while running", given: withTurn, when: start, err: domain.CodeThreadBusy},
		{name: "start while awaiting approval", given: withWork, when: start, err: domain.CodeThreadBusy},
		{name: "start with empty text", given: withThread,
			when: domain.StartTurn{ThreadID: t1, TurnID: u1, MessageID: m1, Text: " \n"}, err: domain.CodeInvalidCommand},
		{name: "start on unknown thread", when: start, err: domain.CodeThreadNotFound},
		{name: "start reusing a turn id", given: withDoneTurn,
			when: domain.StartTurn{ThreadID: t1, TurnID: u1, MessageID: m3, Text: "x"}, err: domain.CodeInvalidCommand},
		{name: "start reusing a message id", given: withDoneTurn,
			when: domain.StartTurn{ThreadID: t1, TurnID: u2, MessageID: m1, Text: "x"}, err: domain.CodeInvalidCommand},

		{name: "interrupt running turn", given: withTurn, when: domain.InterruptTurn{ThreadID: t1},
			then: []domain.Event{domain.TurnInterrupted{ThreadID: t1, TurnID: u1}, status(t1, idle)}},
		{name: "interrupt while awaiting approval cancels pending actions, completes messages, cancels tool calls",
			given: withWork, when: domain.InterruptTurn{ThreadID: t1, TurnID: u1},
			then: []domain.Event{
				domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: cancelledState},
				domain.MessageCompleted{ThreadID: t1, MessageID: m2},
				domain.ToolCallCompleted{ThreadID: t1, ToolCallID: tc1, Cancelled: true},
				domain.TurnInterrupted{ThreadID: t1, TurnID: u1},
				status(t1, idle),
			}},
		{name: "interrupt with no active turn", given: withDoneTurn, when: domain.InterruptTurn{ThreadID: t1},
			err: domain.CodeNoActiveTurn},
		{name: "interrupt naming another turn", given: withTurn, when: domain.InterruptTurn{ThreadID: t1, TurnID: u2},
			err: domain.CodeTurnMismatch},
		{name: "interrupt on unknown thread", when: domain.InterruptTurn{ThreadID: t1}, err: domain.CodeThreadNotFound},
	})
}

func TestDecideApprovals(t *testing.T) {
	twoPending := cat(withWork, []domain.Event{
		domain.PendingActionRequested{ThreadID: t1, TurnID: u1, RequestID: r2, Kind: "write"}})
	runSpecs(t, []spec{
		{name: "approve the last pending action resumes the turn", given: withWork,
			when: domain.ApprovePendingAction{ThreadID: t1, RequestID: r1},
			then: []domain.Event{
				domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: domain.ResolutionApproved},
				status(t1, running)}},
		{name: "approve one of two keeps waiting", given: twoPending,
			when: domain.ApprovePendingAction{ThreadID: t1, RequestID: r2},
			then: []domain.Event{
				domain.PendingActionResolved{ThreadID: t1, RequestID: r2, Resolution: domain.ResolutionApproved}}},
		{name: "reject with a reason", given: withWork,
			when: domain.RejectPendingAction{ThreadID: t1, RequestID: r1, Reason: "too risky"},
			then: []domain.Event{
				domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: domain.ResolutionRejected, Reason: "too risky"},
				status(t1, running)}},
		{name: "approve when not awaiting approval", given: withTurn,
			when: domain.ApprovePendingAction{ThreadID: t1, RequestID: r1}, err: domain.CodePendingActionNotFound},
		{name: "approve an unknown request", given: withWork,
			when: domain.ApprovePendingAction{ThreadID: t1, RequestID: r2}, err: domain.CodePendingActionNotFound},
		{name: "reject a request already resolved", given: cat(twoPending, []domain.Event{
			domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: domain.ResolutionApproved}}),
			when: domain.RejectPendingAction{ThreadID: t1, RequestID: r1}, err: domain.CodePendingActionNotFound},
		{name: "approve on unknown thread", when: domain.ApprovePendingAction{ThreadID: t1, RequestID: r1},
			err: domain.CodeThreadNotFound},
	})
}
