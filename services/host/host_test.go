package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/host"
)

// An exec agent edits a file in a real repository: the turn streams its
// output into the transcript and the thread is Idle again; the workspace
// hooks run around each turn, in order.
func TestExecTurnEditsTheRepository(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	ws := &recordingWorkspace{}
	h := startHost(t, s, host.Config{Name: "box", Providers: []host.ProviderSpec{execProvider(t, "script", editor)},
		DefaultProvider: "script", Workspace: ws})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u1 := s.Send(t, domain.StartTurn{ThreadID: th, Text: "add a note"}).TurnID
	state := idleAfter(t, s, th, 1)
	if state.Status != domain.StatusIdle || state.Turns[0].Status != domain.TurnStatusCompleted {
		t.Fatalf("after the turn: %s, turn %s (%s)", state.Status, state.Turns[0].Status, state.Turns[0].Error)
	}
	if got, want := transcript(t, s, th, u1), "editing notes.txt\ndone: add a note\n"; got != want {
		t.Errorf("transcript = %q, want %q", got, want)
	}
	notes, err := os.ReadFile(filepath.Join(repo, "notes.txt"))
	if err != nil || string(notes) != "add a note\n" {
		t.Errorf("notes.txt = %q (%v)", notes, err)
	}
	if st := gittest.Run(t, repo, "status", "--porcelain"); !strings.Contains(st, "notes.txt") {
		t.Errorf("git status does not show the edit: %q", st)
	}
	u2 := s.Send(t, domain.StartTurn{ThreadID: th, Text: "another"}).TurnID
	idleAfter(t, s, th, 2)
	want := []string{"before " + u1 + " first=true", "after " + u1, "before " + u2 + " first=false", "after " + u2}
	if got := ws.list(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("workspace calls = %q, want %q", got, want)
	}
}

// The workspace hears of every turn of the host's projects, whoever plays
// it: an outside adapter's (after the turn has ended in the stream) and
// one whose provider the host does not have.
func TestWorkspaceHearsOfEveryTurn(t *testing.T) {
	s := stack(t)
	ws := &recordingWorkspace{}
	h := startHost(t, s, host.Config{Name: "box", Workspace: ws})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: t.TempDir(), Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u1 := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
	eventually(t, "BeforeTurn", func() bool { return len(ws.list()) == 1 })
	s.Publish(t, th, u1, "ext-1", domain.TurnComplete{StopReason: domain.StopEndTurn})
	idleAfter(t, s, th, 1)
	ghost := "ghost"
	s.Send(t, domain.ConfigureThread{ThreadID: th, Provider: &ghost})
	u2 := s.Send(t, domain.StartTurn{ThreadID: th, Text: "again"}).TurnID
	if st := idleAfter(t, s, th, 2); st.Turns[1].Status != domain.TurnStatusFailed {
		t.Fatalf("unknown provider: turn %s", st.Turns[1].Status)
	}
	want := []string{"before " + u1 + " first=true", "after " + u1, "before " + u2 + " first=false", "after " + u2}
	eventually(t, "the hooks", func() bool { return strings.Join(ws.list(), "|") == strings.Join(want, "|") })
}
