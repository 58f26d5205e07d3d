package domain

// Memory accounting of folded state.
//
// The decider and the projector cache folded aggregates within a memory
// budget, charging each aggregate what folding its events added. The charge
// must not fall short of the truth by much (the budget would not bound the
// memory), nor overshoot it by so much that a budget holds a fraction of
// what it could: a cache that overcharges thrashes, and every miss is a
// reload of the aggregate from the stream. TestFoldedSizeTracksTheHeap holds
// the charge between 1× and 4× of the measured heap for several kinds of
// traffic.

// ProjectMeasured is Project, returning by about how many bytes the model
// grew (negative when it shrank). encoded is the event's encoded size.
func ProjectMeasured(m *Model, se StoredEvent, encoded int) int {
	before := appliedIDs(m, se.Event)
	Project(m, se)
	// A turn remembers the provider event ids applied in it while it is
	// active and drops them when it ends.
	return foldedSize(se.Event, encoded) + (appliedIDs(m, se.Event)-before)*appliedIDSize
}

// appliedIDSize is what one remembered provider event id costs: a map entry
// and its string.
const appliedIDSize = 80

func appliedIDs(m *Model, e Event) int {
	te, ok := e.(ThreadEvent)
	if !ok {
		return 0
	}
	t, ok := m.Threads[te.EventThreadID()]
	if !ok {
		return 0
	}
	turn, ok := t.ActiveTurn()
	if !ok {
		return 0
	}
	return len(turn.applied)
}

// foldedSize is what an event adds to a model besides remembered provider
// event ids.
func foldedSize(e Event, encoded int) int {
	switch ev := e.(type) {
	case MessageChunkReceived:
		return 2*len(ev.Delta) + 16 // text appended (with the slice's spare capacity)
	case ThinkingChunkReceived:
		return 2*len(ev.Delta) + 16
	case ThreadStatusChanged, ThreadSelected, MessageCompleted, TurnCompleted:
		return 16 // fields changed in place
	case ThreadConfigured, AgentSessionStarted, AgentSessionExited, GitOperationCompleted, GitOperationFailed:
		return hostFoldedSize(ev)
	}
	// Events that create objects (turns, messages, tool calls, requests,
	// checkpoints) or keep their payload: its Go structs, map entries and
	// indexes. Measured: a tool call with a small input map takes ~800
	// bytes beyond its encoding.
	return encoded + 800
}

// hostFoldedSize is what the contract 1.1 events that change a thread in
// place add: the strings they keep (a session also allocates its record;
// the one it replaces is not credited back, a small overcharge per session).
func hostFoldedSize(e Event) int {
	const sessionSize = 128 // the Session struct and its pointer
	switch ev := e.(type) {
	case ThreadConfigured:
		n := 16
		for _, p := range []*string{ev.Title, ev.Model, ev.Provider} {
			if p != nil {
				n += len(*p)
			}
		}
		return n
	case AgentSessionStarted:
		return sessionSize + len(ev.SessionID) + len(ev.Model) + len(ev.Host)
	case AgentSessionExited:
		return 16 + len(ev.Error)
	case GitOperationCompleted:
		return 16 + len(ev.SHA) + len(ev.Output)
	case GitOperationFailed:
		return 16 + len(ev.Error)
	}
	return 16
}
