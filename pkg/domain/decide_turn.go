package domain

import "strings"

func decideStartTurn(c StartTurn, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := checkID("turn_id", c.TurnID); err != nil {
		return nil, err
	}
	if err := checkID("message_id", c.MessageID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Text) == "" {
		return nil, Errorf(CodeInvalidCommand, "prompt text is empty")
	}
	if t.Status.busy() {
		return nil, Errorf(CodeThreadBusy, "thread %s already has turn %s in flight", t.ID, t.ActiveTurnID)
	}
	if _, used := t.Turn(c.TurnID); used {
		return nil, Errorf(CodeInvalidCommand, "turn_id %s is already used in thread %s", c.TurnID, t.ID)
	}
	if _, used := t.Message(c.MessageID); used {
		return nil, Errorf(CodeInvalidCommand, "message_id %s is already used in thread %s", c.MessageID, t.ID)
	}
	return []Event{
		TurnStarted{ThreadID: t.ID, TurnID: c.TurnID, MessageID: c.MessageID, Text: c.Text},
		ThreadStatusChanged{ThreadID: t.ID, Status: StatusRunning},
	}, nil
}

func decideInterruptTurn(c InterruptTurn, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if t.ActiveTurnID == "" {
		return nil, Errorf(CodeNoActiveTurn, "thread %s has no active turn", t.ID)
	}
	if c.TurnID != "" && c.TurnID != t.ActiveTurnID {
		return nil, Errorf(CodeTurnMismatch, "turn %s is not the active turn (%s)", c.TurnID, t.ActiveTurnID)
	}
	return interruptActiveTurn(t), nil
}

func decideResolve(threadID, requestID string, res Resolution, reason string, m *Model) ([]Event, error) {
	t, err := activeThread(m, threadID)
	if err != nil {
		return nil, err
	}
	turn, active := t.ActiveTurn()
	if t.Status != StatusAwaitingApproval || !active {
		return nil, Errorf(CodePendingActionNotFound, "thread %s is not awaiting approval", t.ID)
	}
	p, ok := t.PendingAction(requestID)
	if !ok || p.Resolution != ResolutionPending || p.TurnID != turn.ID {
		return nil, Errorf(CodePendingActionNotFound, "request %q is not pending in thread %s", requestID, t.ID)
	}
	events := []Event{PendingActionResolved{ThreadID: t.ID, RequestID: requestID, Resolution: res, Reason: reason}}
	if len(turn.openRequests) == 1 {
		events = append(events, ThreadStatusChanged{ThreadID: t.ID, Status: StatusRunning})
	}
	return events, nil
}

// turnEnd is how a turn ends: the event recording it and the status after it.
type turnEnd struct {
	event     Event
	status    ThreadStatus
	lastError string
}

// openWork is what is still open in the active turn when it ends.
type openWork struct {
	requests, messages, toolCalls []string
}

func (t *ThreadState) openWork(turn *Turn) openWork {
	return openWork{requests: turn.openRequests, messages: turn.openMessages, toolCalls: turn.openToolCalls}
}

// endActiveTurn is the one shared step that ends a turn: cancel every pending
// action, complete every streaming message, cancel every open tool call, then
// record the turn's end and the status change.
func endActiveTurn(threadID string, open openWork, end turnEnd) []Event {
	events := make([]Event, 0, len(open.requests)+len(open.messages)+len(open.toolCalls)+2)
	for _, id := range open.requests {
		events = append(events, PendingActionResolved{ThreadID: threadID, RequestID: id, Resolution: ResolutionCancelled})
	}
	for _, id := range open.messages {
		events = append(events, MessageCompleted{ThreadID: threadID, MessageID: id})
	}
	for _, id := range open.toolCalls {
		events = append(events, ToolCallCompleted{ThreadID: threadID, ToolCallID: id, Cancelled: true})
	}
	return append(events, end.event, ThreadStatusChanged{ThreadID: threadID, Status: end.status, LastError: end.lastError})
}

// interruptActiveTurn ends the active turn as interrupted; no events if none.
func interruptActiveTurn(t *ThreadState) []Event {
	turn, ok := t.ActiveTurn()
	if !ok {
		return nil
	}
	return endActiveTurn(t.ID, t.openWork(turn), turnEnd{
		event:  TurnInterrupted{ThreadID: t.ID, TurnID: turn.ID},
		status: StatusIdle,
	})
}
