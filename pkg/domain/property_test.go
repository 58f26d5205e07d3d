package domain_test

import (
	"fmt"
	"reflect"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
	"pgregory.net/rapid"
)

// genCommand draws a command over a small universe of ids, so that random
// sequences hit both the accepted and the rejected paths of every rule.
// It looks at the model to aim most provider events at the active turn.
func genCommand(t *rapid.T, m *domain.Model) domain.Command {
	id := func(label string, pool ...string) string { return rapid.SampledFrom(pool).Draw(t, label) }
	project := func() string { return id("project", "p1", "p1", "p1", "p2") }
	thread := func() string { return id("thread", "t1", "t2", "t3") }
	turnIn := func(thread string) string {
		if th, ok := m.Threads[thread]; ok && th.ActiveTurnID != "" && rapid.IntRange(0, 9).Draw(t, "aim") > 0 {
			return th.ActiveTurnID
		}
		return id("turn", "u1", "u2", "u3", "u4", "u5")
	}
	lastTurn := func(thread string) string {
		if th, ok := m.Threads[thread]; ok && len(th.Turns) > 0 {
			return th.Turns[len(th.Turns)-1].ID
		}
		return "u1"
	}
	turn := func() string { return id("turn", "u1", "u2", "u3", "u4", "u5") }
	msg := func() string { return id("message", "m1", "m2", "m3", "m4", "m5", "m6") }
	tool := func() string { return id("tool", "tc1", "tc2", "tc3") }
	req := func() string { return id("request", "r1", "r2", "r3") }
	pid := func() string { return fmt.Sprintf("pe%d", rapid.IntRange(1, 40).Draw(t, "pid")) }
	provider := func() domain.ProviderEvent {
		switch rapid.IntRange(0, 9).Draw(t, "provider") {
		case 0, 1, 2:
			return domain.TextDelta{MessageID: msg(), Delta: rapid.StringN(0, 5, -1).Draw(t, "delta")}
		case 3:
			return domain.ThinkingDelta{MessageID: msg(), Delta: "…"}
		case 4:
			return domain.ToolCall{ToolCallID: tool(), Name: "bash", Input: map[string]any{"n": int64(rapid.IntRange(-3, 3).Draw(t, "n"))}}
		case 5:
			return domain.ToolResult{ToolCallID: tool(), Output: "o"}
		case 6, 7:
			return domain.AwaitingApproval{RequestID: req(), ToolCallID: tool()}
		case 8:
			return domain.TurnComplete{StopReason: "end_turn"}
		default:
			return domain.ProviderError{Message: "boom"}
		}
	}
	switch rapid.IntRange(0, 20).Draw(t, "command") {
	case 0:
		return domain.CreateProject{ProjectID: project(), Name: "n", Path: id("path", "/a", "/a/", "/b", "/a/../b")}
	case 1:
		if rapid.IntRange(0, 3).Draw(t, "rarely") > 0 {
			return domain.CreateProject{ProjectID: project(), Name: "n", Path: "/a"}
		}
		return domain.DeleteProject{ProjectID: project(), Force: rapid.Bool().Draw(t, "force")}
	case 2:
		return domain.RenameProject{ProjectID: project(), Name: id("name", "n", "m")}
	case 3:
		return domain.CreateThread{ThreadID: thread(), ProjectID: project()}
	case 4:
		return domain.DeleteThread{ThreadID: thread()}
	case 5:
		return domain.SelectThread{ThreadID: thread()}
	case 6, 7:
		return domain.StartTurn{ThreadID: thread(), TurnID: turn(), MessageID: msg(), Text: "go"}
	case 8:
		return domain.InterruptTurn{ThreadID: thread()}
	case 9:
		return domain.ApprovePendingAction{ThreadID: thread(), RequestID: req()}
	case 10:
		return domain.RejectPendingAction{ThreadID: thread(), RequestID: req(), Reason: "no"}
	case 11, 12, 17, 18, 19, 20:
		n := rapid.IntRange(1, 4).Draw(t, "batch")
		th := thread()
		c := domain.IngestProviderEvent{ThreadID: th, TurnID: turnIn(th)}
		for range n {
			c.Events = append(c.Events, domain.ProviderEventBatchItem{ProviderEventID: pid(), Event: domain.ProviderEventEnvelope{ProviderEvent: provider()}})
		}
		return c
	case 13:
		th := thread()
		return domain.CreateCheckpoint{ThreadID: th, CheckpointID: id("cp", "cp1", "cp2", "cp3"), TurnID: lastTurn(th), Ref: "r"}
	case 14:
		return domain.RestoreCheckpoint{ThreadID: thread(), CheckpointID: id("cp", "cp1", "cp2", "cp3")}
	case 15:
		return domain.CommitChanges{ThreadID: thread(), OperationID: id("op", "o1", "o2", "o3", "o4"), Message: "m"}
	default:
		return domain.CreateBranch{ThreadID: thread(), OperationID: id("op", "o1", "o2", "o3", "o4"), Name: "b"}
	}
}

// checkInvariants asserts what no sequence of accepted commands may break.
func checkInvariants(t *rapid.T, m *domain.Model) {
	paths := map[string]string{}
	for _, p := range m.Projects {
		if p.Deleted {
			continue
		}
		if other, dup := paths[p.Path]; dup {
			t.Fatalf("projects %s and %s share path %s", p.ID, other, p.Path)
		}
		paths[p.Path] = p.ID
	}
	for _, th := range m.Threads {
		if !th.Deleted && m.Projects[th.ProjectID].Deleted {
			t.Fatalf("active thread %s in deleted project %s", th.ID, th.ProjectID)
		}
		running := 0
		for _, tu := range th.Turns {
			if tu.Status == domain.TurnStatusRunning {
				running++
				if tu.ID != th.ActiveTurnID {
					t.Fatalf("thread %s: running turn %s is not the active turn %q", th.ID, tu.ID, th.ActiveTurnID)
				}
			}
		}
		if running > 1 {
			t.Fatalf("thread %s has %d running turns", th.ID, running)
		}
		pending := 0
		for _, p := range th.PendingActions {
			if p.Resolution == domain.ResolutionPending {
				pending++
				if p.TurnID != th.ActiveTurnID {
					t.Fatalf("thread %s: request %s pending outside the active turn", th.ID, p.RequestID)
				}
			}
		}
		switch th.Status {
		case domain.StatusRunning:
			if running != 1 || pending != 0 {
				t.Fatalf("thread %s Running with %d running turns, %d pending", th.ID, running, pending)
			}
		case domain.StatusAwaitingApproval:
			if running != 1 || pending == 0 {
				t.Fatalf("thread %s AwaitingApproval with %d running turns, %d pending", th.ID, running, pending)
			}
		default:
			if running != 0 || pending != 0 || th.ActiveTurnID != "" {
				t.Fatalf("thread %s %s with %d running turns, %d pending", th.ID, th.Status, running, pending)
			}
		}
		for _, msg := range th.Messages {
			if msg.Streaming && msg.TurnID != th.ActiveTurnID {
				t.Fatalf("thread %s: message %s streams outside the active turn", th.ID, msg.ID)
			}
		}
	}
}

// runRandomHistory decides random commands, folding what they cause, and
// returns the stored events.
func runRandomHistory(t *rapid.T) (*domain.Model, []domain.StoredEvent) {
	m := domain.NewModel()
	var history []domain.StoredEvent
	for range rapid.IntRange(1, 200).Draw(t, "length") {
		events, err := domain.Decide(genCommand(t, m), m)
		if err != nil {
			continue
		}
		for _, e := range events {
			se := stored(uint64(len(history)+1), e)
			history = append(history, se)
			domain.Project(m, se)
		}
		checkInvariants(t, m)
	}
	return m, history
}

func TestPropertyInvariantsHold(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) { runRandomHistory(t) })
}

func TestPropertyProjectIsDeterministic(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		live, history := runRandomHistory(t)
		replay := domain.NewModel()
		for _, se := range history {
			domain.Project(replay, se)
		}
		if !reflect.DeepEqual(live, replay) {
			t.Fatal("replaying the history gives a different model")
		}
	})
}

func TestPropertyReencodedEventsFoldTheSame(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		live, history := runRandomHistory(t)
		for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
			m := domain.NewModel()
			for _, se := range history {
				b, err := domain.EncodeEvent(se.Event, enc)
				if err != nil {
					t.Fatal(err)
				}
				e, err := domain.DecodeEvent(b, enc)
				if err != nil {
					t.Fatalf("decode %s: %v", se.Event.EventType(), err)
				}
				domain.Project(m, domain.StoredEvent{Sequence: se.Sequence, Event: e, StoredAt: se.StoredAt})
			}
			if !reflect.DeepEqual(live, m) {
				t.Fatalf("folding re-encoded events (encoding %d) gives a different model", enc)
			}
		}
	})
}

func TestPropertyCommandsRoundTrip(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		c := genCommand(t, domain.NewModel())
		for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
			b, err := domain.EncodeCommand(c, enc)
			if err != nil {
				t.Fatal(err)
			}
			got, err := domain.DecodeCommand(c.CommandType(), b, enc, 0)
			if err != nil {
				t.Fatalf("decode: %v", err)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("got %#v want %#v", got, c)
			}
		}
	})
}
