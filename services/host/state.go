package host

import "github.com/peonhq/peon/pkg/domain"

// state is what a host folds from the event stream: just enough to know
// which threads are its own and how to run their turns.
type state struct {
	projects map[string]*project
	threads  map[string]*thread
}

type project struct {
	host, path string
	deleted    bool
}

type thread struct {
	id, projectID   string
	provider, model string
	mode            domain.RuntimeMode
	sessionID       string
	activeTurn      string
	turns           int // turns started so far
	deleted         bool
}

func newState() *state {
	return &state{projects: map[string]*project{}, threads: map[string]*thread{}}
}

// folded lists the event types the fold reads; others are skipped
// undecoded (most of the stream is streamed text).
var folded = map[string]bool{
	domain.TypeProjectCreated: true, domain.TypeProjectDeleted: true,
	domain.TypeThreadCreated: true, domain.TypeThreadConfigured: true, domain.TypeThreadDeleted: true,
	domain.TypeTurnStarted: true, domain.TypeTurnCompleted: true, domain.TypeTurnFailed: true, domain.TypeTurnInterrupted: true,
	domain.TypePendingActionResolved: true, domain.TypeAgentSessionStarted: true,
}

// apply folds one event.
func (s *state) apply(e domain.Event) {
	switch e := e.(type) {
	case domain.ProjectCreated:
		host := e.Host
		if host == "" {
			host = domain.DefaultHost
		}
		s.projects[e.ProjectID] = &project{host: host, path: e.Path}
	case domain.ProjectDeleted:
		if p, ok := s.projects[e.ProjectID]; ok {
			p.deleted = true
		}
	case domain.ThreadCreated:
		s.threads[e.ThreadID] = &thread{id: e.ThreadID, projectID: e.ProjectID, provider: e.Provider, model: e.Model, mode: e.RuntimeMode}
	case domain.ThreadConfigured:
		if t, ok := s.threads[e.ThreadID]; ok {
			if e.Provider != nil {
				if *e.Provider != t.provider {
					// Another agent cannot resume this one's session.
					t.sessionID = ""
				}
				t.provider = *e.Provider
			}
			if e.Model != nil {
				t.model = *e.Model
			}
			if e.RuntimeMode != nil {
				t.mode = *e.RuntimeMode
			}
		}
	case domain.ThreadDeleted:
		if t, ok := s.threads[e.ThreadID]; ok {
			t.deleted = true
		}
	case domain.TurnStarted:
		if t, ok := s.threads[e.ThreadID]; ok {
			t.activeTurn = e.TurnID
			t.turns++
		}
	case domain.TurnCompleted:
		s.endTurn(e.ThreadID, e.TurnID)
	case domain.TurnFailed:
		s.endTurn(e.ThreadID, e.TurnID)
	case domain.TurnInterrupted:
		s.endTurn(e.ThreadID, e.TurnID)
	case domain.AgentSessionStarted:
		if t, ok := s.threads[e.ThreadID]; ok {
			t.sessionID = e.SessionID
		}
	}
}

func (s *state) endTurn(threadID, turnID string) {
	if t, ok := s.threads[threadID]; ok && t.activeTurn == turnID {
		t.activeTurn = ""
	}
}

// serves reports whether host runs thread's agent, and the project.
func (s *state) serves(host string, t *thread) (*project, bool) {
	if t == nil || t.deleted {
		return nil, false
	}
	p, ok := s.projects[t.projectID]
	if !ok || p.deleted || p.host != host {
		return nil, false
	}
	return p, true
}

// threadOf returns the thread an event is about, if the fold knows it.
func (s *state) threadOf(e domain.Event) *thread {
	te, ok := e.(domain.ThreadEvent)
	if !ok {
		return nil
	}
	return s.threads[te.EventThreadID()]
}
