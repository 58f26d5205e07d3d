package domain

// projectHostEvent folds the thread events contract 1.1 adds: settings,
// the agent's session, and git operation outcomes. Each changes a field or
// two in place.
func projectHostEvent(t *ThreadState, se StoredEvent) {
	seq := se.Sequence
	switch e := se.Event.(type) {
	case ThreadConfigured:
		if e.Title != nil {
			t.Title = *e.Title
		}
		if e.Model != nil {
			t.Model = *e.Model
		}
		if e.Provider != nil {
			t.Provider = *e.Provider
		}
		if e.RuntimeMode != nil {
			t.RuntimeMode = *e.RuntimeMode
		}
	case AgentSessionStarted:
		t.turnFor(e.TurnID, e.ProviderEventIDs)
		// A later session replaces the earlier one: the next turn resumes it.
		t.Session = &Session{Status: SessionStatusActive, SessionID: e.SessionID, Host: e.Host, Model: e.Model, Seq: seq}
	case AgentSessionExited:
		t.turnFor(e.TurnID, e.ProviderEventIDs)
		if t.Session == nil {
			t.Session = &Session{} // the agent died before naming a session
		}
		t.Session.Status, t.Session.ExitCode, t.Session.LastError, t.Session.Seq = SessionStatusExited, e.ExitCode, e.Error, seq
	case GitOperationCompleted:
		if o, ok := t.operations[e.OperationID]; ok {
			o.Status, o.SHA, o.Output, o.Error, o.Seq = GitStatusCompleted, e.SHA, e.Output, "", seq
		}
	case GitOperationFailed:
		if o, ok := t.operations[e.OperationID]; ok {
			o.Status, o.SHA, o.Output, o.Error, o.Seq = GitStatusFailed, "", "", e.Error, seq
		}
	}
}
