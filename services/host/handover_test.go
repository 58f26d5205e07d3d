package host_test

import (
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/host"
)

// hang is an agent that writes a line, then waits until it is killed.
const hang = `cat >/dev/null
echo started
exec sleep 600
`

// oneShot answers once per prompt.
const oneShot = `prompt=$(cat)
echo "answer: $prompt"
`

func hangThenAnswer(t *testing.T) []host.ProviderSpec {
	return []host.ProviderSpec{execProvider(t, "hang", hang), execProvider(t, "script", oneShot)}
}

// startTurnOn starts a turn with the given provider (configuring the
// thread first) and returns its id.
func startTurnOn(t *testing.T, s *peontest.Stack, thread, provider, text string) string {
	t.Helper()
	s.Send(t, domain.ConfigureThread{ThreadID: thread, Provider: &provider})
	return s.Send(t, domain.StartTurn{ThreadID: thread, Text: text}).TurnID
}

// A host stopped mid-turn and started again: the turn ends in a retryable
// Error, and the next turn is played.
func TestRestartMidTurn(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	cfg := host.Config{Name: "box", Instance: "first", Providers: hangThenAnswer(t), DefaultProvider: "hang"}
	h := startHost(t, s, cfg)
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
	waitThread(t, s, th, "the agent's output", func(*domain.ThreadState) bool { return transcript(t, s, th, u) != "" })
	h.stop()
	cfg.Instance = "second"
	h = startHost(t, s, cfg)
	waitActive(t, h)
	st := idleAfter(t, s, th, 1)
	if st.Status != domain.StatusError || st.Turns[0].Status != domain.TurnStatusFailed {
		t.Fatalf("after the restart: thread %s, turn %s", st.Status, st.Turns[0].Status)
	}
	u2 := startTurnOn(t, s, th, "script", "again")
	if st = idleAfter(t, s, th, 2); st.Turns[1].Status != domain.TurnStatusCompleted || transcript(t, s, th, u2) != "answer: again\n" {
		t.Fatalf("the next turn: %s %q", st.Turns[1].Status, transcript(t, s, th, u2))
	}
}

// A turn running on an instance that vanishes without a word (its lease
// just expires) is ended by the instance that takes over.
func TestLostTurnIsEndedByTheNextActive(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	// Nobody runs the turn: it is what a host that died leaves behind.
	s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"})
	h := startHost(t, s, host.Config{Name: "box", Providers: hangThenAnswer(t), DefaultProvider: "script"})
	waitActive(t, h)
	st := idleAfter(t, s, th, 1)
	if st.Status != domain.StatusError || !strings.Contains(st.Turns[0].Error, "host stopped") {
		t.Fatalf("left-over turn: thread %s, error %q", st.Status, st.Turns[0].Error)
	}
}

// Two instances of one host: one is active; when it stops, the standby
// takes over and serves the next turn.
func TestStandbyTakesOver(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	specs := hangThenAnswer(t)
	a := startHost(t, s, host.Config{Name: "box", Instance: "a", Providers: specs, DefaultProvider: "script"})
	waitActive(t, a)
	b := startHost(t, s, host.Config{Name: "box", Instance: "b", Providers: specs, DefaultProvider: "script"})
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	s.Send(t, domain.StartTurn{ThreadID: th, Text: "one"})
	idleAfter(t, s, th, 1)
	if b.svc.Active() || !a.svc.Active() {
		t.Fatalf("active: a %v, b %v", a.svc.Active(), b.svc.Active())
	}
	a.stop()
	waitActive(t, b)
	u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "two"}).TurnID
	if st := idleAfter(t, s, th, 2); st.Turns[1].Status != domain.TurnStatusCompleted || transcript(t, s, th, u) != "answer: two\n" {
		t.Fatalf("after the handover: %s (%s) %q", st.Turns[1].Status, st.Turns[1].Error, transcript(t, s, th, u))
	}
	// A third instance stands by while b is active.
	c := startHost(t, s, host.Config{Name: "box", Instance: "c", Providers: specs, DefaultProvider: "script"})
	s.Send(t, domain.StartTurn{ThreadID: th, Text: "three"})
	idleAfter(t, s, th, 3)
	if c.svc.Active() {
		t.Error("two instances active at once")
	}
}

// The active instance vanishes mid-turn without a word (its connection
// drops: no lease release, no last event): the standby takes over once
// the lease has gone stale, ends the orphaned turn with a retryable error
// and serves the next turn.
func TestStandbyTakesOverFromADeadInstance(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	specs := hangThenAnswer(t)
	aEnded := make(chan error, 1)
	a := startHostWith(t, s, host.Config{Name: "box", Instance: "a", Providers: specs, DefaultProvider: "hang"}, aEnded)
	waitActive(t, a)
	b := startHost(t, s, host.Config{Name: "box", Instance: "b", Providers: specs, DefaultProvider: "hang"})
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
	waitThread(t, s, th, "the agent's output", func(*domain.ThreadState) bool { return transcript(t, s, th, u) != "" })
	a.nc.Close()
	select {
	case err := <-aEnded:
		if err == nil || !strings.Contains(err.Error(), "connection closed") {
			t.Errorf("the instance without a connection returned %v", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("the instance without a connection still runs")
	}
	waitActive(t, b)
	st := idleAfter(t, s, th, 1)
	if st.Status != domain.StatusError || !strings.Contains(st.Turns[0].Error, "host stopped") {
		t.Fatalf("the dead instance's turn: thread %s, error %q", st.Status, st.Turns[0].Error)
	}
	eventually(t, "the dead instance to stand down", func() bool { return !a.svc.Active() })
	u2 := startTurnOn(t, s, th, "script", "next")
	if st = idleAfter(t, s, th, 2); st.Turns[1].Status != domain.TurnStatusCompleted || transcript(t, s, th, u2) != "answer: next\n" {
		t.Fatalf("after the takeover: %s (%s)", st.Turns[1].Status, st.Turns[1].Error)
	}
}
