package domain

import "slices"

// MaxIngestBatch bounds the provider events of one IngestProviderEvent, so
// that the events of one command always fit one atomic append.
const MaxIngestBatch = 256

func decideIngest(c IngestProviderEvent, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	items := c.Items()
	switch {
	case len(items) == 0:
		return nil, Errorf(CodeInvalidCommand, "no provider event given (event or events)")
	case len(items) > MaxIngestBatch:
		return nil, Errorf(CodeInvalidCommand, "%d provider events in one command (at most %d)", len(items), MaxIngestBatch)
	}
	for _, it := range items {
		if err := checkID("provider_event_id", it.ProviderEventID); err != nil {
			return nil, err
		}
		if it.Event.ProviderEvent == nil {
			return nil, Errorf(CodeInvalidCommand, "provider event %s has no event", it.ProviderEventID)
		}
	}
	turn, ok := t.ActiveTurn()
	if !ok || turn.ID != c.TurnID {
		return nil, Errorf(CodeStaleProviderEvent, "turn %s is not the active turn of thread %s", c.TurnID, t.ID)
	}
	s := newIngestScratch(t, turn)
	for _, it := range items {
		if s.applied(it.ProviderEventID) {
			continue // redelivered: it was applied before, never apply it twice
		}
		if s.ended {
			return nil, Errorf(CodeStaleProviderEvent, "provider event %s comes after the end of turn %s", it.ProviderEventID, turn.ID)
		}
		if err := s.apply(it.ProviderEventID, it.Event.ProviderEvent); err != nil {
			return nil, err
		}
	}
	return s.events, nil
}

// ingestScratch decides a batch of provider events one after the other
// without touching the model: it tracks what the events decided so far would
// change in the active turn (a small overlay, not a copy of the thread).
type ingestScratch struct {
	t       *ThreadState
	turn    *Turn
	events  []Event
	status  ThreadStatus
	open    openWork
	created map[string]bool // message, tool call and request ids created by this batch
	seen    map[string]bool // provider event ids applied by this batch
	ended   bool
}

func newIngestScratch(t *ThreadState, turn *Turn) *ingestScratch {
	return &ingestScratch{
		t: t, turn: turn, status: t.Status,
		open: openWork{
			requests:  slices.Clone(turn.openRequests),
			messages:  slices.Clone(turn.openMessages),
			toolCalls: slices.Clone(turn.openToolCalls),
		},
		created: map[string]bool{},
		seen:    map[string]bool{},
	}
}

func (s *ingestScratch) applied(providerEventID string) bool {
	_, before := s.turn.applied[providerEventID]
	return before || s.seen[providerEventID]
}

func (s *ingestScratch) apply(pid string, pe ProviderEvent) error {
	s.seen[pid] = true
	ids := []string{pid}
	threadID, turnID := s.t.ID, s.turn.ID
	switch e := pe.(type) {
	case TextDelta:
		isNew, err := s.openMessage("message_id", e.MessageID, e.MessageID)
		if err != nil {
			return err
		}
		if isNew {
			s.events = append(s.events, MessageAppended{ThreadID: threadID, TurnID: turnID, MessageID: e.MessageID,
				Role: RoleAssistant, Text: e.Delta, ProviderEventIDs: ids})
			return nil
		}
		s.appendText(e.MessageID, e.Delta, pid)
	case ThinkingDelta:
		if _, err := s.openMessage("message_id", e.MessageID, ThinkingMessageID(e.MessageID)); err != nil {
			return err
		}
		s.appendThinking(e.MessageID, e.Delta, pid)
	case ToolCall:
		if err := create(s, "tool_call_id", e.ToolCallID, s.t.toolCalls); err != nil {
			return err
		}
		s.open.toolCalls = append(s.open.toolCalls, e.ToolCallID)
		s.events = append(s.events, ToolCallStarted{ThreadID: threadID, TurnID: turnID, ToolCallID: e.ToolCallID,
			Name: e.Name, Kind: ToolKindOf(e.Kind), Input: e.Input, ProviderEventIDs: ids})
	case ToolResult:
		if !slices.Contains(s.open.toolCalls, e.ToolCallID) {
			return Errorf(CodeToolCallNotFound, "no open tool call %q in turn %s", e.ToolCallID, turnID)
		}
		s.open.toolCalls = remove(s.open.toolCalls, e.ToolCallID)
		s.events = append(s.events, ToolCallCompleted{ThreadID: threadID, ToolCallID: e.ToolCallID,
			Output: e.Output, IsError: e.IsError, ProviderEventIDs: ids})
	case AwaitingApproval:
		if err := create(s, "request_id", e.RequestID, s.t.pending); err != nil {
			return err
		}
		s.open.requests = append(s.open.requests, e.RequestID)
		s.events = append(s.events, PendingActionRequested{ThreadID: threadID, TurnID: turnID, RequestID: e.RequestID,
			ToolCallID: e.ToolCallID, Kind: e.Kind, Description: e.Description, ProviderEventIDs: ids})
		if s.status != StatusAwaitingApproval {
			s.status = StatusAwaitingApproval
			s.events = append(s.events, ThreadStatusChanged{ThreadID: threadID, Status: StatusAwaitingApproval})
		}
	case TurnComplete:
		if err := checkUsage(e.Usage); err != nil {
			return err
		}
		s.end(turnEnd{event: TurnCompleted{ThreadID: threadID, TurnID: turnID, StopReason: e.StopReason,
			Usage: e.Usage, ProviderEventIDs: ids}, status: StatusIdle})
	case ProviderError:
		s.end(turnEnd{event: TurnFailed{ThreadID: threadID, TurnID: turnID, Error: e.Message,
			Retryable: e.Retryable, ProviderEventIDs: ids}, status: StatusError, lastError: e.Message})
	case SessionStarted, SessionExited:
		return s.applySession(pid, pe)
	default:
		return Errorf(CodeBadRequest, "unknown provider event %T", pe)
	}
	return nil
}

// openMessage makes sure key names a message streaming in this turn. It
// reports whether the message is new; an id already used elsewhere in the
// thread (another turn, the user's prompt) is refused.
func (s *ingestScratch) openMessage(field, id, key string) (bool, error) {
	if err := checkID(field, id); err != nil {
		return false, err
	}
	if slices.Contains(s.open.messages, key) {
		return false, nil
	}
	if _, used := s.t.messages[key]; used || s.created[key] {
		return false, Errorf(CodeInvalidCommand, "%s %s is already used in thread %s", field, id, s.t.ID)
	}
	s.created[key] = true
	s.open.messages = append(s.open.messages, key)
	return true, nil
}

// create claims a new tool call or request id for this turn.
func create[T any](s *ingestScratch, field, id string, existing map[string]T) error {
	if err := checkID(field, id); err != nil {
		return err
	}
	key := field + ":" + id
	if _, used := existing[id]; used || s.created[key] {
		return Errorf(CodeInvalidCommand, "%s %s is already used in thread %s", field, id, s.t.ID)
	}
	s.created[key] = true
	return nil
}

// appendText adds a text chunk, coalescing it into the previous event when
// that one streams the same message: a batch of deltas becomes one event.
func (s *ingestScratch) appendText(messageID, delta, pid string) {
	if n := len(s.events); n > 0 {
		switch last := s.events[n-1].(type) {
		case MessageAppended:
			if last.MessageID == messageID {
				last.Text += delta
				last.ProviderEventIDs = append(last.ProviderEventIDs, pid)
				s.events[n-1] = last
				return
			}
		case MessageChunkReceived:
			if last.MessageID == messageID {
				last.Delta += delta
				last.ProviderEventIDs = append(last.ProviderEventIDs, pid)
				s.events[n-1] = last
				return
			}
		}
	}
	s.events = append(s.events, MessageChunkReceived{ThreadID: s.t.ID, TurnID: s.turn.ID, MessageID: messageID,
		Delta: delta, ProviderEventIDs: []string{pid}})
}

// appendThinking is appendText for reasoning chunks.
func (s *ingestScratch) appendThinking(messageID, delta, pid string) {
	if n := len(s.events); n > 0 {
		if last, ok := s.events[n-1].(ThinkingChunkReceived); ok && last.MessageID == messageID {
			last.Delta += delta
			last.ProviderEventIDs = append(last.ProviderEventIDs, pid)
			s.events[n-1] = last
			return
		}
	}
	s.events = append(s.events, ThinkingChunkReceived{ThreadID: s.t.ID, TurnID: s.turn.ID, MessageID: messageID,
		Delta: delta, ProviderEventIDs: []string{pid}})
}

func (s *ingestScratch) end(end turnEnd) {
	s.events = append(s.events, endActiveTurn(s.t.ID, s.open, end)...)
	s.open = openWork{}
	s.ended = true
}
