package domain_test

import (
	"math"
	"reflect"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestProjectHostDefaults(t *testing.T) {
	// Events recorded before contract 1.1 carry none of its fields.
	m := fold(domain.ProjectCreated{ProjectID: p1, Name: "Peon", Path: pathPeon},
		domain.ThreadCreated{ThreadID: t1, ProjectID: p1},
		domain.ProjectCreated{ProjectID: p2, Name: "Other", Path: pathOther, Host: "studio"},
		domain.ThreadCreated{ThreadID: t2, ProjectID: p2, Provider: "codex", RuntimeMode: domain.RuntimeFullAccess})
	if h := m.Projects[p1].Host; h != domain.DefaultHost {
		t.Fatalf("old project's host = %q", h)
	}
	if h := m.Projects[p2].Host; h != "studio" {
		t.Fatalf("host = %q", h)
	}
	if th := m.Threads[t1]; th.Provider != "" || th.RuntimeMode != domain.RuntimeApprovalRequired || th.Session != nil {
		t.Fatalf("old thread = provider %q mode %q session %+v", th.Provider, th.RuntimeMode, th.Session)
	}
	if th := m.Threads[t2]; th.Provider != "codex" || th.RuntimeMode != domain.RuntimeFullAccess {
		t.Fatalf("thread = provider %q mode %q", th.Provider, th.RuntimeMode)
	}
}

func TestProjectThreadConfigured(t *testing.T) {
	m := fold(cat(withThread, []domain.Event{
		domain.ThreadConfigured{ThreadID: t1, Model: str("opus"), RuntimeMode: mode(domain.RuntimeFullAccess)},
		domain.ThreadConfigured{ThreadID: t1, Title: str(""), Provider: str("claude")},
	})...)
	th := m.Threads[t1]
	if th.Title != "" || th.Model != "opus" || th.Provider != "claude" || th.RuntimeMode != domain.RuntimeFullAccess || th.Seq != 4 {
		t.Fatalf("thread = %+v", th)
	}
}

func TestProjectSession(t *testing.T) {
	m := fold(cat(withTurn, []domain.Event{
		domain.AgentSessionStarted{ThreadID: t1, TurnID: u1, SessionID: "s1", Model: "opus", Host: "studio", ProviderEventIDs: ids(pe1)},
	})...)
	th := m.Threads[t1]
	want := &domain.Session{Status: domain.SessionStatusActive, SessionID: "s1", Host: "studio", Model: "opus", Seq: 5}
	if !reflect.DeepEqual(th.Session, want) {
		t.Fatalf("session = %+v", th.Session)
	}
	// The provider event is applied: a redelivery decides nothing.
	if events, err := domain.Decide(ingest(u1, pe1, domain.SessionStarted{SessionID: "s1"}), m); err != nil || len(events) != 0 {
		t.Fatalf("redelivery: %v %v", events, err)
	}
	domain.Project(m, stored(6, domain.AgentSessionExited{ThreadID: t1, TurnID: u1, ExitCode: 137, Error: "killed", ProviderEventIDs: ids(pe2)}))
	want = &domain.Session{Status: domain.SessionStatusExited, SessionID: "s1", Host: "studio", Model: "opus", ExitCode: 137, LastError: "killed", Seq: 6}
	if !reflect.DeepEqual(th.Session, want) {
		t.Fatalf("exited session = %+v", th.Session)
	}
	// A later session replaces it: the next turn resumes s2.
	domain.Project(m, stored(7, domain.AgentSessionStarted{ThreadID: t1, TurnID: u1, SessionID: "s2"}))
	want = &domain.Session{Status: domain.SessionStatusActive, SessionID: "s2", Seq: 7}
	if !reflect.DeepEqual(th.Session, want) {
		t.Fatalf("replaced session = %+v", th.Session)
	}
}

func TestProjectSessionExitedBeforeItStarted(t *testing.T) {
	m := fold(cat(withTurn, []domain.Event{domain.AgentSessionExited{ThreadID: t1, TurnID: u1, ExitCode: 127, Error: "claude: not found"}})...)
	want := &domain.Session{Status: domain.SessionStatusExited, ExitCode: 127, LastError: "claude: not found", Seq: 5}
	if got := m.Threads[t1].Session; !reflect.DeepEqual(got, want) {
		t.Fatalf("session = %+v", got)
	}
}

func TestProjectUsageTotal(t *testing.T) {
	turn := func(id, msg string, u domain.Usage) []domain.Event {
		return []domain.Event{turnStarted(t1, id, msg), status(t1, running),
			domain.TurnCompleted{ThreadID: t1, TurnID: id, StopReason: "end_turn", Usage: u}, status(t1, idle)}
	}
	a := domain.Usage{InputTokens: 100, OutputTokens: 10, CacheReadTokens: 50, CacheWriteTokens: 5, ReasoningTokens: 3, CostUSD: 0.25}
	b := domain.Usage{InputTokens: 1, OutputTokens: 2, CostUSD: 0.5}
	m := fold(cat(withThread, turn(u1, m1, a), turn(u2, m2, b),
		[]domain.Event{turnStarted(t1, "u3", m3), domain.TurnInterrupted{ThreadID: t1, TurnID: "u3"}})...)
	th := m.Threads[t1]
	want := domain.Usage{InputTokens: 101, OutputTokens: 12, CacheReadTokens: 50, CacheWriteTokens: 5, ReasoningTokens: 3, CostUSD: 0.75}
	if th.UsageTotal != want {
		t.Fatalf("usage total = %+v", th.UsageTotal)
	}
	if tu, _ := th.Turn(u1); tu.Usage != a {
		t.Fatalf("turn usage = %+v", tu.Usage)
	}
	// A restore drops turns but not what they consumed.
	domain.Project(m, stored(100, domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"}))
	domain.Project(m, stored(101, domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"}))
	if len(th.Turns) != 1 || th.UsageTotal != want {
		t.Fatalf("after restore: %d turns, total %+v", len(th.Turns), th.UsageTotal)
	}
}

func TestProjectUsageTotalSaturates(t *testing.T) {
	huge := domain.Usage{InputTokens: math.MaxInt64, CostUSD: math.MaxFloat64}
	m := fold(cat(withThread,
		[]domain.Event{turnStarted(t1, u1, m1), domain.TurnCompleted{ThreadID: t1, TurnID: u1, Usage: huge}},
		[]domain.Event{turnStarted(t1, u2, m2), domain.TurnCompleted{ThreadID: t1, TurnID: u2, Usage: huge}},
		[]domain.Event{turnStarted(t1, "u3", m3), domain.TurnCompleted{ThreadID: t1, TurnID: "u3", Usage: domain.Usage{CostUSD: math.NaN()}}},
	)...)
	if got := m.Threads[t1].UsageTotal; got.InputTokens != math.MaxInt64 || got.CostUSD != math.MaxFloat64 {
		t.Fatalf("usage total = %+v", got)
	}
}

func TestProjectToolCallKind(t *testing.T) {
	m := fold(cat(withTurn, []domain.Event{
		domain.ToolCallStarted{ThreadID: t1, TurnID: u1, ToolCallID: tc1, Name: "edit", Kind: domain.ToolKindFileChange},
		domain.ToolCallStarted{ThreadID: t1, TurnID: u1, ToolCallID: tc2, Name: "bash"}, // recorded before kinds
	})...)
	th := m.Threads[t1]
	if c, _ := th.ToolCall(tc1); c.Kind != domain.ToolKindFileChange {
		t.Fatalf("kind = %q", c.Kind)
	}
	if c, _ := th.ToolCall(tc2); c.Kind != domain.ToolKindOther {
		t.Fatalf("kind of an old tool call = %q", c.Kind)
	}
}

func TestProjectCheckpointAndGitOutcomes(t *testing.T) {
	m := fold(cat(withDoneTurn, []domain.Event{
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r", Commit: sha1, Files: allFileKinds()},
		domain.CommitRequested{ThreadID: t1, OperationID: op1, Message: "fix"},
		domain.PushRequested{ThreadID: t1, OperationID: op2, Branch: "main", Remote: "origin"},
		domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r", Commit: sha1, OperationID: op3},
		domain.GitOperationCompleted{ThreadID: t1, OperationID: op1, SHA: sha1, Output: "[main 0a1b2c3] fix"},
		domain.GitOperationFailed{ThreadID: t1, OperationID: op2, Error: "rejected"},
		domain.GitOperationCompleted{ThreadID: t1, OperationID: "nope"}, // unknown: changes nothing
	})...)
	th := m.Threads[t1]
	cp, _ := th.Checkpoint(cp1)
	if cp.Commit != sha1 || !reflect.DeepEqual(cp.Files, allFileKinds()) {
		t.Fatalf("checkpoint = %+v", cp)
	}
	want := []domain.GitOperation{
		{ID: op1, Kind: domain.GitCommit, Status: domain.GitStatusCompleted, Message: "fix", SHA: sha1, Output: "[main 0a1b2c3] fix", Seq: 11},
		{ID: op2, Kind: domain.GitPush, Status: domain.GitStatusFailed, Branch: "main", Remote: "origin", Error: "rejected", Seq: 12},
		{ID: op3, Kind: domain.GitRestore, Status: domain.GitOperationRequested, CheckpointID: cp1, Seq: 10},
	}
	if len(th.GitOperations) != len(want) {
		t.Fatalf("%d git operations", len(th.GitOperations))
	}
	for i, w := range want {
		if !reflect.DeepEqual(*th.GitOperations[i], w) {
			t.Fatalf("op %d = %+v, want %+v", i, *th.GitOperations[i], w)
		}
	}
	// A restore recorded before contract 1.1 requested no git operation.
	old := fold(cat(withDoneTurn, []domain.Event{
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"},
		domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"}})...)
	if n := len(old.Threads[t1].GitOperations); n != 0 {
		t.Fatalf("old restore recorded %d git operations", n)
	}
}
