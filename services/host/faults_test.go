package host_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/host"
)

// Two threads of one project play their turns at the same time: each
// agent waits until the other has started.
func TestTwoThreadsInParallel(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	// Each turn writes its marker, then waits for two markers.
	body := `prompt=$(cat)
touch "started-$prompt"
i=0
while [ "$(ls started-* | wc -l)" -lt 2 ]; do i=$((i+1)); [ $i -gt 400 ] && exit 7; sleep 0.05; done
echo "both running ($prompt)"
`
	h := startHost(t, s, host.Config{Name: "box", Providers: []host.ProviderSpec{execProvider(t, "script", body)}, DefaultProvider: "script"})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	a := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	b := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	ua := s.Send(t, domain.StartTurn{ThreadID: a, Text: "a"}).TurnID
	ub := s.Send(t, domain.StartTurn{ThreadID: b, Text: "b"}).TurnID
	for _, c := range []struct{ thread, turn, prompt string }{{a, ua, "a"}, {b, ub, "b"}} {
		th := idleAfter(t, s, c.thread, 1)
		if th.Turns[0].Status != domain.TurnStatusCompleted {
			t.Fatalf("thread %s: turn %s (%s)", c.prompt, th.Turns[0].Status, th.Turns[0].Error)
		}
		if got := transcript(t, s, c.thread, c.turn); got != "both running ("+c.prompt+")\n" {
			t.Errorf("thread %s transcript %q", c.prompt, got)
		}
	}
}

// A failing agent ends the turn in Error with stderr's tail; an unknown
// provider name ends it with an error naming the host's providers; an
// agent that cannot start ends it saying why; the thread takes its next
// turn.
func TestFailuresEndTheTurn(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	h := startHost(t, s, host.Config{Name: "box", DefaultProvider: "script", Providers: []host.ProviderSpec{
		execProvider(t, "script", "cat >/dev/null; echo ok"),
		execProvider(t, "broken", "cat >/dev/null; echo 'fatal: no model configured' >&2; exit 2"),
	}})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID

	th := s.Send(t, domain.CreateThread{ProjectID: p, Provider: "broken"}).ThreadID
	s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"})
	st := idleAfter(t, s, th, 1)
	if st.Status != domain.StatusError || !strings.Contains(st.Turns[0].Error, "no model configured") || !strings.Contains(st.Turns[0].Error, "status 2") {
		t.Errorf("broken agent: thread %s, turn error %q", st.Status, st.Turns[0].Error)
	}

	other := s.Send(t, domain.CreateThread{ProjectID: p, Provider: "nope"}).ThreadID
	s.Send(t, domain.StartTurn{ThreadID: other, Text: "go"})
	st = idleAfter(t, s, other, 1)
	if st.Status != domain.StatusError || !strings.Contains(st.Turns[0].Error, `no provider "nope"`) || !strings.Contains(st.Turns[0].Error, "broken, external, script") {
		t.Errorf("unknown provider: thread %s, turn error %q", st.Status, st.Turns[0].Error)
	}

	// An agent that cannot start (the project's path is gone) fails the turn.
	gone := s.Send(t, domain.CreateProject{Name: "gone", Path: filepath.Join(t.TempDir(), "missing"), Host: "box"}).ProjectID
	lost := s.Send(t, domain.CreateThread{ProjectID: gone}).ThreadID
	s.Send(t, domain.StartTurn{ThreadID: lost, Text: "go"})
	st = idleAfter(t, s, lost, 1)
	if st.Status != domain.StatusError || !strings.Contains(st.Turns[0].Error, "missing is not a directory") {
		t.Errorf("missing path: thread %s, turn error %q", st.Status, st.Turns[0].Error)
	}

	provider := "script"
	s.Send(t, domain.ConfigureThread{ThreadID: other, Provider: &provider})
	s.Send(t, domain.StartTurn{ThreadID: other, Text: "again"})
	if st = idleAfter(t, s, other, 2); st.Turns[1].Status != domain.TurnStatusCompleted {
		t.Errorf("after configuring a known provider: %s (%s)", st.Turns[1].Status, st.Turns[1].Error)
	}
}

// Provider external runs nothing: an outside adapter answers, and a host
// restarted meanwhile leaves the adapter's turn alone.
func TestExternalRunsNothing(t *testing.T) {
	s := stack(t)
	h := startHost(t, s, host.Config{Name: "box", Instance: "first"})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: t.TempDir(), Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
	h.stop()
	h = startHost(t, s, host.Config{Name: "box", Instance: "second"})
	waitActive(t, h)
	time.Sleep(300 * time.Millisecond) // nothing may happen; a later event must still be the first
	s.Publish(t, th, u, "ext-1", domain.TurnComplete{StopReason: domain.StopEndTurn})
	if st := idleAfter(t, s, th, 1); st.Turns[0].Status != domain.TurnStatusCompleted || transcript(t, s, th, u) != "" {
		t.Errorf("external turn: %s (%s), transcript %q", st.Turns[0].Status, st.Turns[0].Error, transcript(t, s, th, u))
	}
}

// Threads of projects on another host are not this host's to play.
func TestOtherHostsProjectsAreLeftAlone(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	h := startHost(t, s, host.Config{Name: "box", Providers: []host.ProviderSpec{execProvider(t, "script", editor)}, DefaultProvider: "script"})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "elsewhere"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"})
	time.Sleep(500 * time.Millisecond)
	if _, err := os.Stat(filepath.Join(repo, "notes.txt")); !os.IsNotExist(err) {
		t.Errorf("the host ran an agent for another host's project (%v)", err)
	}
	st := waitThread(t, s, th, "the turn to be running", func(th *domain.ThreadState) bool { return th.ActiveTurnID != "" })
	if st.Status != domain.StatusRunning {
		t.Errorf("thread %s, want Running", st.Status)
	}
}

// Interrupting a turn stops the agent's process; the next turn works.
func TestInterruptStopsTheAgent(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	body := `cat >/dev/null
echo working
while :; do date +%s%N >> ticks; sleep 0.05; done
`
	h := startHost(t, s, host.Config{Name: "box", Providers: []host.ProviderSpec{execProvider(t, "script", body)}, DefaultProvider: "script"})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
	waitThread(t, s, th, "the agent's output", func(*domain.ThreadState) bool { return transcript(t, s, th, u) != "" })
	s.Send(t, domain.InterruptTurn{ThreadID: th})
	if st := idleAfter(t, s, th, 1); st.Turns[0].Status != domain.TurnStatusInterrupted {
		t.Fatalf("turn %s, want interrupted", st.Turns[0].Status)
	}
	ticks := filepath.Join(repo, "ticks")
	eventually(t, "the agent to stop", func() bool {
		before, _ := os.ReadFile(ticks)
		time.Sleep(300 * time.Millisecond)
		after, _ := os.ReadFile(ticks)
		return len(before) == len(after)
	})
	eventually(t, "the host to let the turn go", func() bool { return len(h.svc.Status().Sessions) == 0 })
	os.Remove(ticks)
}
