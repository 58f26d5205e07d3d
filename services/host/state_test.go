package host

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// The fold keeps a thread's settings, its session and its active turn; a
// change of provider drops the session (another agent cannot resume it).
func TestFold(t *testing.T) {
	s := newState()
	model, other := "m2", "codex"
	for _, e := range []domain.Event{
		domain.ProjectCreated{ProjectID: "p", Path: "/src"},
		domain.ThreadCreated{ThreadID: "t", ProjectID: "p", Provider: "claude", RuntimeMode: domain.RuntimeFullAccess},
		domain.TurnStarted{ThreadID: "t", TurnID: "u1", Text: "go"},
		domain.AgentSessionStarted{ThreadID: "t", TurnID: "u1", SessionID: "s1"},
	} {
		s.apply(e)
	}
	th := s.threads["t"]
	if p, ok := s.serves(domain.DefaultHost, th); !ok || p.path != "/src" {
		t.Fatalf("a project without a host is not local's: %+v", p)
	}
	if th.activeTurn != "u1" || th.sessionID != "s1" || th.turns != 1 || th.mode != domain.RuntimeFullAccess {
		t.Fatalf("thread %+v", th)
	}
	s.apply(domain.TurnCompleted{ThreadID: "t", TurnID: "u1"})
	s.apply(domain.ThreadConfigured{ThreadID: "t", Model: &model})
	if th.activeTurn != "" || th.model != "m2" || th.sessionID != "s1" {
		t.Fatalf("after the turn and a model change: %+v", th)
	}
	s.apply(domain.ThreadConfigured{ThreadID: "t", Provider: &other})
	if th.provider != "codex" || th.sessionID != "" {
		t.Fatalf("after a provider change: %+v", th)
	}
	s.apply(domain.ThreadDeleted{ThreadID: "t"})
	if _, ok := s.serves(domain.DefaultHost, th); ok {
		t.Fatal("a deleted thread is still served")
	}
}
