package domain_test

import (
	"fmt"
	"math"
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
		switch rapid.IntRange(0, 12).Draw(t, "provider") {
		case 0, 1, 2:
			return domain.TextDelta{MessageID: msg(), Delta: rapid.StringN(0, 5, -1).Draw(t, "delta")}
		case 3:
			return domain.ThinkingDelta{MessageID: msg(), Delta: "…"}
		case 4:
			return domain.ToolCall{ToolCallID: tool(), Name: "bash", Kind: id("kind", "", "command", "file_read", "shell"),
				Input: map[string]any{"n": int64(rapid.IntRange(-3, 3).Draw(t, "n"))}}
		case 5:
			return domain.ToolResult{ToolCallID: tool(), Output: "o"}
		case 6, 7:
			return domain.AwaitingApproval{RequestID: req(), ToolCallID: tool()}
		case 8:
			return domain.TurnComplete{StopReason: "end_turn"}
		case 10:
			return domain.TurnComplete{StopReason: "end_turn", Usage: genUsage(t)}
		case 11:
			return domain.SessionStarted{SessionID: id("session", "s1", "s2"), Model: "m", Host: id("host", "", "local")}
		case 12:
			return domain.SessionExited{ExitCode: rapid.IntRange(-9, 2).Draw(t, "exit"), Error: "gone"}
		default:
			return domain.ProviderError{Message: "boom"}
		}
	}
	op := func() string { return id("op", "o1", "o2", "o3", "o4") }
	switch rapid.IntRange(0, 24).Draw(t, "command") {
	case 0:
		return domain.CreateProject{ProjectID: project(), Name: "n", Path: id("path", "/a", "/a/", "/b", "/a/../b"), Host: id("host", "", "studio")}
	case 1:
		if rapid.IntRange(0, 3).Draw(t, "rarely") > 0 {
			return domain.CreateProject{ProjectID: project(), Name: "n", Path: "/a"}
		}
		return domain.DeleteProject{ProjectID: project(), Force: rapid.Bool().Draw(t, "force")}
	case 2:
		return domain.RenameProject{ProjectID: project(), Name: id("name", "n", "m")}
	case 3:
		return domain.CreateThread{ThreadID: thread(), ProjectID: project(), Provider: id("provider", "", "codex"),
			RuntimeMode: domain.RuntimeMode(id("mode", "", "full-access", "approval-required"))}
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
	case 13, 23:
		th := thread()
		return domain.CreateCheckpoint{ThreadID: th, CheckpointID: id("cp", "cp1", "cp2", "cp3"), TurnID: lastTurn(th), Ref: "r",
			Commit: id("commit", "", sha1), Files: genFiles(t)}
	case 14:
		return domain.RestoreCheckpoint{ThreadID: thread(), CheckpointID: id("cp", "cp1", "cp2", "cp3"), OperationID: op()}
	case 15:
		return domain.CommitChanges{ThreadID: thread(), OperationID: op(), Message: "m"}
	case 21:
		c := domain.ConfigureThread{ThreadID: thread()}
		if rapid.Bool().Draw(t, "title?") {
			c.Title = str(id("title", "", "a", "b"))
		}
		if rapid.Bool().Draw(t, "model?") {
			c.Model = str(id("model", "", "opus"))
		}
		if rapid.Bool().Draw(t, "provider?") {
			c.Provider = str(id("provider", "", "codex", "bad name"))
		}
		if rapid.Bool().Draw(t, "mode?") {
			c.RuntimeMode = mode(domain.RuntimeMode(id("mode", "full-access", "approval-required", "")))
		}
		return c
	case 22:
		c := domain.CompleteGitOperation{ThreadID: thread(), OperationID: op(), Status: id("status", "completed", "failed", "running")}
		if c.Status == domain.GitStatusFailed {
			c.Error = id("error", "rejected", "")
		} else {
			c.SHA, c.Output = id("sha", sha1, ""), id("output", "", "ok")
		}
		return c
	default:
		return domain.CreateBranch{ThreadID: thread(), OperationID: op(), Name: "b"}
	}
}

func genUsage(t *rapid.T) domain.Usage {
	n := func(label string) int64 { return int64(rapid.IntRange(-1, 1000).Draw(t, label)) }
	return domain.Usage{InputTokens: n("in"), OutputTokens: n("out"), CacheReadTokens: n("cache_read"),
		CacheWriteTokens: n("cache_write"), ReasoningTokens: n("reasoning"), CostUSD: rapid.Float64Range(-0.5, 2).Draw(t, "cost")}
}

// genFiles draws a checkpoint's file list, now and then an invalid one.
func genFiles(t *rapid.T) []domain.FileChange {
	var files []domain.FileChange
	for i := range rapid.IntRange(0, 3).Draw(t, "files") {
		f := domain.FileChange{Path: fmt.Sprint("dir/f", i, ".go"),
			Kind:      domain.FileChangeKind(rapid.SampledFrom([]string{"added", "modified", "deleted", "renamed"}).Draw(t, "kind")),
			Additions: int64(rapid.IntRange(0, 50).Draw(t, "additions")), Deletions: int64(rapid.IntRange(0, 50).Draw(t, "deletions"))}
		if f.Kind == domain.FileRenamed {
			f.OldPath = fmt.Sprint("old", i, ".go")
		}
		switch rapid.IntRange(0, 15).Draw(t, "corrupt") {
		case 0:
			f.Path = "/abs"
		case 1:
			f.Kind = "copied"
		case 2:
			f.Additions = -1
		}
		files = append(files, f)
	}
	return files
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
		checkHostInvariants(t, th)
	}
}

// checkHostInvariants asserts what contract 1.1 promises a UI about a thread
// record: closed sets of kinds and statuses, and sane totals.
func checkHostInvariants(t *rapid.T, th *domain.ThreadState) {
	if th.RuntimeMode != domain.RuntimeApprovalRequired && th.RuntimeMode != domain.RuntimeFullAccess {
		t.Fatalf("thread %s: runtime mode %q", th.ID, th.RuntimeMode)
	}
	for _, c := range th.ToolCalls {
		if domain.ToolKindOf(c.Kind) != c.Kind {
			t.Fatalf("thread %s: tool call %s has kind %q", th.ID, c.ID, c.Kind)
		}
	}
	for _, o := range th.GitOperations {
		switch {
		case o.Status == domain.GitOperationRequested && o.SHA == "" && o.Error == "":
		case o.Status == domain.GitStatusCompleted && o.Error == "":
		case o.Status == domain.GitStatusFailed && o.Error != "" && o.SHA == "":
		default:
			t.Fatalf("thread %s: git operation %+v", th.ID, o)
		}
	}
	if s := th.Session; s != nil && s.Status != domain.SessionStatusActive && s.Status != domain.SessionStatusExited {
		t.Fatalf("thread %s: session %+v", th.ID, s)
	}
	u := th.UsageTotal
	if u.InputTokens < 0 || u.OutputTokens < 0 || u.CacheReadTokens < 0 || u.CacheWriteTokens < 0 || u.ReasoningTokens < 0 ||
		u.CostUSD < 0 || math.IsInf(u.CostUSD, 0) || math.IsNaN(u.CostUSD) {
		t.Fatalf("thread %s: usage total %+v", th.ID, u)
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
