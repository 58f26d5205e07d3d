package host_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/sysstatus"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/host"
)

// fakeSession is the session the fake Claude Code reports.
const fakeSession = "6f1c1b52-0d5e-4a3e-9a57-3f1c2d4e5a60"

// The session an agent reports is resumed by the thread's next turn.
func TestNextTurnResumesTheSession(t *testing.T) {
	s := stack(t)
	fake := fakeClaude(t)
	// The fake fails unless a resume names exactly the session it reported.
	wrapper := script(t, `for a; do case "$a" in --resume=*) export FAKECLAUDE_EXPECT_RESUME=`+fakeSession+`;; esac; done
FAKECLAUDE_SCENARIO=resume exec `+fake+` "$@"
`)
	spec, err := host.ParseProvider("cc=claude:" + wrapper)
	if err != nil {
		t.Fatal(err)
	}
	h := startHost(t, s, host.Config{Name: "box", Providers: []host.ProviderSpec{spec}, DefaultProvider: "cc"})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: gitRepo(t), Host: "box"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	u1 := s.Send(t, domain.StartTurn{ThreadID: th, Text: "one"}).TurnID
	st := idleAfter(t, s, th, 1)
	if got := transcript(t, s, th, u1); got != "New session." || st.Session == nil || st.Session.SessionID != fakeSession {
		t.Fatalf("first turn %q, session %+v", got, st.Session)
	}
	u2 := s.Send(t, domain.StartTurn{ThreadID: th, Text: "two"}).TurnID
	if st := idleAfter(t, s, th, 2); st.Turns[1].Status != domain.TurnStatusCompleted {
		t.Fatalf("second turn %s: %s", st.Turns[1].Status, st.Turns[1].Error)
	}
	if got, want := transcript(t, s, th, u2), "Resumed "+st.Session.SessionID+"."; got != want {
		t.Errorf("second turn %q, want %q", got, want)
	}
}

// The simulator provider answers a thread (what `peon dev` does), and the
// host is listed as a micro service with its name and providers.
func TestSimulatorAndRegistration(t *testing.T) {
	s := stack(t)
	h := startHost(t, s, host.Config{Name: "local", Providers: []host.ProviderSpec{{Name: "simulator", Kind: host.KindSimulator}}, DefaultProvider: "simulator"})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: t.TempDir()}).ProjectID // host defaults to local
	th := s.Send(t, domain.CreateThread{ProjectID: p, RuntimeMode: domain.RuntimeFullAccess}).ThreadID
	s.Send(t, domain.StartTurn{ThreadID: th, Text: "hi"})
	if st := idleAfter(t, s, th, 1); st.Turns[0].Status != domain.TurnStatusCompleted || len(st.ToolCalls) != 1 {
		t.Fatalf("simulated turn %s, %d tool calls", st.Turns[0].Status, len(st.ToolCalls))
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var found bool
	for _, svc := range sysstatus.Discover(ctx, s.NC) {
		if svc.Name != host.ServiceName {
			continue
		}
		for _, in := range svc.Instances {
			found = in.Metadata["host"] == "local" && in.Metadata["providers"] == "external,simulator"
		}
	}
	if !found {
		t.Errorf("no %s instance with host local and its providers", host.ServiceName)
	}
	hosts := sysstatus.DiscoverHosts(ctx, s.NC)
	if len(hosts) != 1 || hosts[0].Host != "local" || !hosts[0].Active || hosts[0].DefaultProvider != "simulator" ||
		strings.Join(hosts[0].Providers, ",") != "external,simulator" {
		t.Errorf("hosts = %+v", hosts)
	}
}
