package host_test

import (
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/host"
)

// fakeClaude builds the fake Claude Code of the adapter's tests.
func fakeClaude(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "claude")
	out, err := exec.Command("go", "build", "-o", path, "../../internal/agent/claude/testdata/fakeclaude").CombinedOutput()
	if err != nil {
		t.Fatalf("building the fake claude: %v\n%s", err, out)
	}
	return path
}

// Claude Code asks for permission: the thread waits in AwaitingApproval;
// approved, the agent runs the tool and finishes; rejected, it is told the
// reason and finishes without it. The session it reports is recorded.
func TestApprovalReachesTheAgent(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	fake := fakeClaude(t)
	approve, err := host.ParseProvider("approving=claude:env FAKECLAUDE_SCENARIO=approve " + fake)
	if err != nil {
		t.Fatal(err)
	}
	deny, err := host.ParseProvider("denying=claude:env FAKECLAUDE_SCENARIO=deny 'FAKECLAUDE_EXPECT_REASON=not now' " + fake)
	if err != nil {
		t.Fatal(err)
	}
	h := startHost(t, s, host.Config{Name: "box", Providers: []host.ProviderSpec{approve, deny}})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID

	for _, c := range []struct {
		provider string
		approve  bool
	}{{"approving", true}, {"denying", false}} {
		th := s.Send(t, domain.CreateThread{ProjectID: p, Provider: c.provider}).ThreadID
		s.Send(t, domain.StartTurn{ThreadID: th, Text: "clean up"})
		st := waitThread(t, s, th, "a permission request", func(th *domain.ThreadState) bool { return th.Status == domain.StatusAwaitingApproval })
		req := st.PendingActions[0].RequestID
		if c.approve {
			s.Send(t, domain.ApprovePendingAction{ThreadID: th, RequestID: req})
		} else {
			s.Send(t, domain.RejectPendingAction{ThreadID: th, RequestID: req, Reason: "not now"})
		}
		st = idleAfter(t, s, th, 1)
		if st.Turns[0].Status != domain.TurnStatusCompleted {
			t.Fatalf("%s: turn %s (%s)", c.provider, st.Turns[0].Status, st.Turns[0].Error)
		}
		if len(st.ToolCalls) != 1 {
			t.Fatalf("%s: tool calls %+v", c.provider, st.ToolCalls)
		}
		if failed := st.ToolCalls[0].Status != domain.ToolCallSucceeded; failed == c.approve {
			t.Errorf("%s: tool call %s", c.provider, st.ToolCalls[0].Status)
		}
		if st.Session == nil || st.Session.SessionID == "" || st.Session.Host != "box" {
			t.Errorf("%s: session %+v", c.provider, st.Session)
		}
	}
}

// Codex asks twice (a command, then a patch): each request becomes a
// pending action, and the answer the user gives is the one Codex gets.
func TestCodexApprovals(t *testing.T) {
	s := stack(t)
	repo := gitRepo(t)
	fake := filepath.Join(t.TempDir(), "codex")
	if out, err := exec.Command("go", "build", "-o", fake, "../../internal/agent/codex/testdata/fakecodex").CombinedOutput(); err != nil {
		t.Fatalf("building the fake codex: %v\n%s", err, out)
	}
	var specs []host.ProviderSpec
	for _, d := range []string{"accept", "decline"} {
		spec, err := host.ParseProvider("cx-" + d + "=codex:env FAKECODEX_SCENARIO=approval FAKECODEX_DECISION=" + d + " CODEX_HOME=" + t.TempDir() + " " + fake)
		if err != nil {
			t.Fatal(err)
		}
		specs = append(specs, spec)
	}
	h := startHost(t, s, host.Config{Name: "box", Providers: specs})
	waitActive(t, h)
	p := s.Send(t, domain.CreateProject{Name: "p", Path: repo, Host: "box"}).ProjectID
	for _, approve := range []bool{true, false} {
		provider := "cx-decline"
		if approve {
			provider = "cx-accept"
		}
		th := s.Send(t, domain.CreateThread{ProjectID: p, Provider: provider}).ThreadID
		s.Send(t, domain.StartTurn{ThreadID: th, Text: "clean up"})
		for n := 1; n <= 2; n++ {
			st := waitThread(t, s, th, "a permission request", func(th *domain.ThreadState) bool {
				return th.Status == domain.StatusAwaitingApproval && len(th.PendingActions) == n
			})
			req := st.PendingActions[n-1].RequestID
			if approve {
				s.Send(t, domain.ApprovePendingAction{ThreadID: th, RequestID: req})
			} else {
				s.Send(t, domain.RejectPendingAction{ThreadID: th, RequestID: req, Reason: "no"})
			}
		}
		st := idleAfter(t, s, th, 1)
		if st.Turns[0].Status != domain.TurnStatusCompleted {
			t.Fatalf("%s: turn %s (%s)", provider, st.Turns[0].Status, st.Turns[0].Error)
		}
		if st.Session == nil || st.Session.Host != "box" {
			t.Errorf("%s: session %+v", provider, st.Session)
		}
	}
}
