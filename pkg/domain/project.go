package domain

import "slices"

// Project folds one stored event into m and returns m. It never fails: an
// event is a fact. Events that do not apply (unknown type, unknown entity)
// leave the model unchanged apart from LastSequence.
//
// Project mutates m in place; see Model for ownership.
func Project(m *Model, se StoredEvent) *Model {
	m.LastSequence = se.Sequence
	switch e := se.Event.(type) {
	case ProjectCreated, ProjectRenamed, ProjectDeleted:
		projectProjectEvent(m, se)
	case ThreadCreated:
		if _, exists := m.Threads[e.ThreadID]; exists {
			return m // the first creation stands
		}
		// A model may hold a thread without its project (the decider folds
		// one thread's events alone), so the thread does not need it.
		m.Threads[e.ThreadID] = newThreadState(e, se.StoredAt, se.Sequence)
		if p, ok := m.Projects[e.ProjectID]; ok {
			p.ThreadIDs = append(p.ThreadIDs, e.ThreadID)
			p.UpdatedAt, p.Seq = se.StoredAt, se.Sequence
		}
	case ThreadSelected:
		if t, ok := m.Threads[e.ThreadID]; ok {
			m.SelectedThreadID = e.ThreadID
			t.UpdatedAt, t.Seq = se.StoredAt, se.Sequence
		}
	case ThreadEvent:
		t, ok := m.Threads[e.EventThreadID()]
		if !ok {
			return m
		}
		if !IsTranscriptEvent(e) {
			// Streaming text changes the message, not the thread record:
			// a thread's seq and updated_at do not move per chunk.
			t.UpdatedAt, t.Seq = se.StoredAt, se.Sequence
		}
		if _, deleted := e.(ThreadDeleted); deleted {
			t.Deleted = true
			if m.SelectedThreadID == t.ID {
				m.SelectedThreadID = ""
			}
			return m
		}
		projectThreadEvent(t, se)
	}
	return m
}

func projectProjectEvent(m *Model, se StoredEvent) {
	switch e := se.Event.(type) {
	case ProjectCreated:
		if _, exists := m.Projects[e.ProjectID]; exists {
			return
		}
		m.Projects[e.ProjectID] = &ProjectState{
			ID: e.ProjectID, Name: e.Name, Path: e.Path, Host: orDefaultHost(e.Host),
			CreatedAt: se.StoredAt, UpdatedAt: se.StoredAt, ThreadIDs: []string{}, Seq: se.Sequence,
		}
		m.activePaths[e.Path] = e.ProjectID
	case ProjectRenamed:
		if p, ok := m.Projects[e.ProjectID]; ok {
			p.Name, p.UpdatedAt, p.Seq = e.Name, se.StoredAt, se.Sequence
		}
	case ProjectDeleted:
		if p, ok := m.Projects[e.ProjectID]; ok {
			p.Deleted, p.UpdatedAt, p.Seq = true, se.StoredAt, se.Sequence
			if m.activePaths[p.Path] == p.ID {
				delete(m.activePaths, p.Path)
			}
		}
	}
}

// IsTranscriptEvent reports whether e changes only a message of the
// transcript (its text or streaming flag), not the thread record itself.
func IsTranscriptEvent(e Event) bool {
	switch e.(type) {
	case MessageAppended, MessageChunkReceived, MessageCompleted, ThinkingChunkReceived:
		return true
	}
	return false
}

// projectThreadEvent folds the events that change a thread's inside.
func projectThreadEvent(t *ThreadState, se StoredEvent) {
	seq := se.Sequence
	switch e := se.Event.(type) {
	case ThreadStatusChanged:
		t.Status, t.LastError = e.Status, e.LastError
	case TurnStarted:
		turn := &Turn{ID: e.TurnID, Status: TurnStatusRunning, UserMessageID: e.MessageID,
			StartedAt: se.StoredAt, Seq: seq, applied: map[string]struct{}{}}
		t.Turns = append(t.Turns, turn)
		t.turns[e.TurnID] = turn
		t.ActiveTurnID = e.TurnID
		t.addMessage(&Message{ID: e.MessageID, ThreadID: t.ID, TurnID: e.TurnID, Role: RoleUser,
			Seq: seq, text: []byte(e.Text)})
	case TurnCompleted:
		t.endTurn(e.TurnID, TurnStatusCompleted, se, e.ProviderEventIDs, func(tu *Turn) {
			tu.StopReason, tu.Usage = e.StopReason, e.Usage
			t.UsageTotal = addUsage(t.UsageTotal, e.Usage)
		})
	case TurnInterrupted:
		t.endTurn(e.TurnID, TurnStatusInterrupted, se, nil, nil)
	case TurnFailed:
		t.endTurn(e.TurnID, TurnStatusFailed, se, e.ProviderEventIDs, func(tu *Turn) { tu.Error = e.Error })
	case MessageAppended:
		turn := t.turnFor(e.TurnID, e.ProviderEventIDs)
		t.addMessage(&Message{ID: e.MessageID, ThreadID: t.ID, TurnID: e.TurnID, Role: e.Role,
			Streaming: true, Seq: seq, text: []byte(e.Text)})
		if turn != nil {
			turn.openMessages = append(turn.openMessages, e.MessageID)
		}
	case MessageChunkReceived:
		t.turnFor(e.TurnID, e.ProviderEventIDs)
		if msg, ok := t.messages[e.MessageID]; ok {
			msg.text = append(msg.text, e.Delta...)
			msg.Seq = seq
		}
	case ThinkingChunkReceived:
		turn := t.turnFor(e.TurnID, e.ProviderEventIDs)
		id := ThinkingMessageID(e.MessageID)
		msg, ok := t.messages[id]
		if !ok {
			msg = &Message{ID: id, ThreadID: t.ID, TurnID: e.TurnID, Role: RoleThinking, Streaming: true, Seq: seq}
			t.addMessage(msg)
			if turn != nil {
				turn.openMessages = append(turn.openMessages, id)
			}
		}
		msg.text = append(msg.text, e.Delta...)
		msg.Seq = seq
	case MessageCompleted:
		if msg, ok := t.messages[e.MessageID]; ok {
			msg.Streaming, msg.Seq = false, seq
			if turn, ok := t.turns[msg.TurnID]; ok {
				turn.openMessages = remove(turn.openMessages, e.MessageID)
			}
		}
	default:
		projectThreadActivity(t, se)
	}
}

// projectThreadActivity folds tool calls, approvals, checkpoints and git requests.
func projectThreadActivity(t *ThreadState, se StoredEvent) {
	seq := se.Sequence
	switch e := se.Event.(type) {
	case ToolCallStarted:
		turn := t.turnFor(e.TurnID, e.ProviderEventIDs)
		c := &ToolCallState{ID: e.ToolCallID, TurnID: e.TurnID, Name: e.Name, Kind: ToolKindOf(e.Kind),
			Input: e.Input, Status: ToolCallRunning, Seq: seq}
		t.ToolCalls = append(t.ToolCalls, c)
		t.toolCalls[c.ID] = c
		if turn != nil {
			turn.openToolCalls = append(turn.openToolCalls, c.ID)
		}
	case ToolCallCompleted:
		c, ok := t.toolCalls[e.ToolCallID]
		if !ok {
			return
		}
		t.turnFor(c.TurnID, e.ProviderEventIDs)
		c.Output, c.Seq = e.Output, seq
		switch {
		case e.Cancelled:
			c.Status = ToolCallCancelled
		case e.IsError:
			c.Status = ToolCallErrored
		default:
			c.Status = ToolCallSucceeded
		}
		if turn, ok := t.turns[c.TurnID]; ok {
			turn.openToolCalls = remove(turn.openToolCalls, c.ID)
		}
	case PendingActionRequested:
		turn := t.turnFor(e.TurnID, e.ProviderEventIDs)
		p := &PendingAction{RequestID: e.RequestID, TurnID: e.TurnID, ToolCallID: e.ToolCallID,
			Kind: e.Kind, Description: e.Description, Resolution: ResolutionPending, Seq: seq}
		t.PendingActions = append(t.PendingActions, p)
		t.pending[p.RequestID] = p
		if turn != nil {
			turn.openRequests = append(turn.openRequests, p.RequestID)
		}
	case PendingActionResolved:
		p, ok := t.pending[e.RequestID]
		if !ok {
			return
		}
		p.Resolution, p.Reason, p.Seq = e.Resolution, e.Reason, seq
		if turn, ok := t.turns[p.TurnID]; ok {
			turn.openRequests = remove(turn.openRequests, p.RequestID)
		}
	case CheckpointCreated:
		c := &Checkpoint{ID: e.CheckpointID, TurnID: e.TurnID, Ref: e.Ref, Commit: e.Commit, Files: e.Files, Seq: seq}
		t.Checkpoints = append(t.Checkpoints, c)
		t.checkpoints[c.ID] = c
	case CheckpointRestored:
		t.restore(e.CheckpointID)
		if e.OperationID != "" {
			t.addOperation(&GitOperation{ID: e.OperationID, Kind: GitRestore, CheckpointID: e.CheckpointID, Seq: seq})
		}
	case CommitRequested:
		t.addOperation(&GitOperation{ID: e.OperationID, Kind: GitCommit, Message: e.Message, Seq: seq})
	case BranchCreateRequested:
		t.addOperation(&GitOperation{ID: e.OperationID, Kind: GitBranch, Branch: e.Name, Base: e.Base, Seq: seq})
		t.LastBranch = e.Name
	case PushRequested:
		t.addOperation(&GitOperation{ID: e.OperationID, Kind: GitPush, Branch: e.Branch, Remote: e.Remote, Seq: seq})
	default:
		projectHostEvent(t, se)
	}
}

func (t *ThreadState) addMessage(m *Message) {
	m.CreatedSeq = m.Seq
	t.Messages = append(t.Messages, m)
	t.messages[m.ID] = m
}

func (t *ThreadState) addOperation(o *GitOperation) {
	o.Status = GitOperationRequested
	t.GitOperations = append(t.GitOperations, o)
	t.operations[o.ID] = o
}

// turnFor returns the turn an ingested event belongs to and records the
// provider event ids it covers as applied.
func (t *ThreadState) turnFor(turnID string, providerEventIDs []string) *Turn {
	turn, ok := t.turns[turnID]
	if !ok {
		return nil
	}
	if turn.applied != nil {
		for _, id := range providerEventIDs {
			turn.applied[id] = struct{}{}
		}
	}
	return turn
}

// endTurn records a turn's end. The open messages, tool calls and requests
// were closed by the events before this one.
func (t *ThreadState) endTurn(turnID string, status TurnStatus, se StoredEvent, providerEventIDs []string, set func(*Turn)) {
	turn, ok := t.turns[turnID]
	if !ok {
		return
	}
	t.turnFor(turnID, providerEventIDs)
	turn.Status, turn.EndedAt, turn.Seq = status, se.StoredAt, se.Sequence
	if set != nil {
		set(turn)
	}
	turn.applied = nil
	if t.ActiveTurnID == turnID {
		t.ActiveTurnID = ""
	}
}

// restore drops every turn after the checkpoint's turn, with the messages,
// tool calls, pending actions and checkpoints that belong to those turns.
func (t *ThreadState) restore(checkpointID string) {
	cp, ok := t.checkpoints[checkpointID]
	if !ok {
		return
	}
	idx := slices.IndexFunc(t.Turns, func(tu *Turn) bool { return tu.ID == cp.TurnID })
	if idx < 0 {
		return
	}
	dropped := map[string]bool{}
	for _, tu := range t.Turns[idx+1:] {
		dropped[tu.ID] = true
		delete(t.turns, tu.ID)
	}
	t.Turns = slices.Clip(t.Turns[:idx+1])
	t.Messages = dropWhere(t.Messages, t.messages, func(m *Message) (string, bool) { return m.ID, dropped[m.TurnID] })
	t.ToolCalls = dropWhere(t.ToolCalls, t.toolCalls, func(c *ToolCallState) (string, bool) { return c.ID, dropped[c.TurnID] })
	t.PendingActions = dropWhere(t.PendingActions, t.pending, func(p *PendingAction) (string, bool) { return p.RequestID, dropped[p.TurnID] })
	t.Checkpoints = dropWhere(t.Checkpoints, t.checkpoints, func(c *Checkpoint) (string, bool) { return c.ID, dropped[c.TurnID] })
}

// dropWhere removes from list (and its index) the items drop selects.
func dropWhere[T any](list []T, index map[string]T, drop func(T) (string, bool)) []T {
	return slices.DeleteFunc(list, func(item T) bool {
		id, gone := drop(item)
		if gone {
			delete(index, id)
		}
		return gone
	})
}

func remove(list []string, id string) []string {
	if i := slices.Index(list, id); i >= 0 {
		return slices.Delete(list, i, i+1)
	}
	return list
}
