package domain_test

import (
	"reflect"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestProjectProjects(t *testing.T) {
	m := fold(projectCreated(p1, pathPeon), domain.ProjectRenamed{ProjectID: p1, Name: "Grunt"}, threadCreated(t1, p1))
	p := m.Projects[p1]
	if p.Name != "Grunt" || p.Path != pathPeon || p.Deleted || !reflect.DeepEqual(p.ThreadIDs, []string{t1}) {
		t.Fatalf("project = %+v", p)
	}
	if p.Seq != 3 || !p.CreatedAt.Equal(epoch.Add(1e9)) || !p.UpdatedAt.Equal(epoch.Add(3e9)) {
		t.Fatalf("project stamps = seq %d created %v updated %v", p.Seq, p.CreatedAt, p.UpdatedAt)
	}
	if id, ok := m.ProjectByPath(pathPeon); !ok || id != p1 {
		t.Fatalf("ProjectByPath = %q, %v", id, ok)
	}
	domain.Project(m, stored(4, domain.ProjectDeleted{ProjectID: p1}))
	if !m.Projects[p1].Deleted {
		t.Fatal("project not flagged deleted")
	}
	if _, ok := m.ProjectByPath(pathPeon); ok {
		t.Fatal("a deleted project still holds its path")
	}
	if _, ok := m.ActiveProject(p1); ok {
		t.Fatal("deleted project is active")
	}
}

func TestProjectThreadLifecycle(t *testing.T) {
	m := fold(cat(withThread, []domain.Event{domain.ThreadSelected{ThreadID: t1}})...)
	th := m.Threads[t1]
	if th.ProjectID != p1 || th.Title != "Fix the bug" || th.Model != "claude" || th.Status != idle {
		t.Fatalf("thread = %+v", th)
	}
	if m.SelectedThreadID != t1 {
		t.Fatalf("selected = %q", m.SelectedThreadID)
	}
	domain.Project(m, stored(4, domain.ThreadDeleted{ThreadID: t1}))
	if !th.Deleted || m.SelectedThreadID != "" {
		t.Fatalf("after delete: deleted=%v selected=%q", th.Deleted, m.SelectedThreadID)
	}
}

func TestProjectTurnAndTranscript(t *testing.T) {
	m := fold(cat(withWork, []domain.Event{
		domain.MessageChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: ", done", ProviderEventIDs: ids("pe4")},
		domain.ThinkingChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: "think", ProviderEventIDs: ids("pe5")},
		domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: domain.ResolutionApproved},
		status(t1, running),
		domain.ToolCallCompleted{ThreadID: t1, ToolCallID: tc1, Output: "out", IsError: true},
	})...)
	th := m.Threads[t1]
	if th.Status != running || th.ActiveTurnID != u1 {
		t.Fatalf("status %s active %q", th.Status, th.ActiveTurnID)
	}
	wantTranscript := []struct {
		id   string
		role domain.Role
		text string
		open bool
	}{{m1, domain.RoleUser, "please fix it", false}, {m2, domain.RoleAssistant, "on it, done", true},
		{domain.ThinkingMessageID(m2), domain.RoleThinking, "think", true}}
	if len(th.Messages) != len(wantTranscript) {
		t.Fatalf("%d messages", len(th.Messages))
	}
	for i, w := range wantTranscript {
		got := th.Messages[i]
		if got.ID != w.id || got.Role != w.role || got.Text() != w.text || got.Streaming != w.open || got.TurnID != u1 {
			t.Fatalf("message %d = %+v %q, want %+v", i, got, got.Text(), w)
		}
	}
	if p, _ := th.PendingAction(r1); p.Resolution != domain.ResolutionApproved {
		t.Fatalf("pending = %+v", p)
	}
	if c, _ := th.ToolCall(tc1); c.Status != domain.ToolCallErrored || c.Output != "out" {
		t.Fatalf("tool call = %+v", c)
	}

	// Ending the turn: the decider's events, folded, close everything.
	events, err := domain.Decide(ingest(u1, "pe6", domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 1, OutputTokens: 2}}), m)
	if err != nil {
		t.Fatal(err)
	}
	for i, e := range events {
		domain.Project(m, stored(m.LastSequence+uint64(i)+1, e))
	}
	turn, _ := th.Turn(u1)
	if turn.Status != domain.TurnStatusCompleted || turn.StopReason != "end_turn" || turn.Usage.OutputTokens != 2 || turn.EndedAt.IsZero() {
		t.Fatalf("turn = %+v", turn)
	}
	if th.ActiveTurnID != "" || th.Status != idle {
		t.Fatalf("thread after end: %s %q", th.Status, th.ActiveTurnID)
	}
	for _, msg := range th.Messages {
		if msg.Streaming {
			t.Fatalf("message %s still streaming", msg.ID)
		}
	}
}

func TestProjectFailedTurnRecordsError(t *testing.T) {
	m := fold(cat(withTurn, []domain.Event{domain.TurnFailed{ThreadID: t1, TurnID: u1, Error: "boom"},
		domain.ThreadStatusChanged{ThreadID: t1, Status: statusError, LastError: "boom"}})...)
	th := m.Threads[t1]
	turn, _ := th.Turn(u1)
	if th.Status != statusError || th.LastError != "boom" || turn.Status != domain.TurnStatusFailed || turn.Error != "boom" {
		t.Fatalf("thread %+v turn %+v", th, turn)
	}
}

func TestProjectRestoreDropsLaterTurns(t *testing.T) {
	m := fold(cat(withDoneTurn, []domain.Event{
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "a"},
		turnStarted(t1, u2, m3), status(t1, running),
		domain.ToolCallStarted{ThreadID: t1, TurnID: u2, ToolCallID: tc2, Name: "edit"},
		domain.TurnInterrupted{ThreadID: t1, TurnID: u2}, status(t1, idle),
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp2, TurnID: u2, Ref: "b"},
		domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "a"},
	})...)
	th := m.Threads[t1]
	if len(th.Turns) != 1 || th.Turns[0].ID != u1 {
		t.Fatalf("turns = %d", len(th.Turns))
	}
	if len(th.Messages) != 1 || th.Messages[0].ID != m1 {
		t.Fatalf("messages = %d", len(th.Messages))
	}
	if len(th.Checkpoints) != 1 || len(th.ToolCalls) != 0 {
		t.Fatalf("checkpoints %d tool calls %d", len(th.Checkpoints), len(th.ToolCalls))
	}
	if _, ok := th.Message(m3); ok {
		t.Fatal("dropped message still indexed")
	}
	// Ids of dropped turns may be used again.
	if _, err := domain.Decide(domain.StartTurn{ThreadID: t1, TurnID: u2, MessageID: m3, Text: "again"}, m); err != nil {
		t.Fatalf("restart after restore: %v", err)
	}
}

func TestProjectGitOperations(t *testing.T) {
	m := fold(cat(withThread, []domain.Event{
		domain.CommitRequested{ThreadID: t1, OperationID: op1, Message: "fix"},
		domain.BranchCreateRequested{ThreadID: t1, OperationID: op2, Name: "feat", Base: "main"},
		domain.PushRequested{ThreadID: t1, OperationID: op3, Branch: "feat", Remote: "origin"},
	})...)
	th := m.Threads[t1]
	want := []domain.GitOperation{
		{ID: op1, Kind: domain.GitCommit, Status: domain.GitOperationRequested, Message: "fix", Seq: 3},
		{ID: op2, Kind: domain.GitBranch, Status: domain.GitOperationRequested, Branch: "feat", Base: "main", Seq: 4},
		{ID: op3, Kind: domain.GitPush, Status: domain.GitOperationRequested, Branch: "feat", Remote: "origin", Seq: 5},
	}
	for i, w := range want {
		if !reflect.DeepEqual(*th.GitOperations[i], w) {
			t.Fatalf("op %d = %+v, want %+v", i, *th.GitOperations[i], w)
		}
	}
	if th.LastBranch != "feat" {
		t.Fatalf("last branch %q", th.LastBranch)
	}
}

func TestProjectIgnoresWhatDoesNotApply(t *testing.T) {
	m := fold(withProject...)
	before := fold(withProject...)
	domain.Project(m, stored(2, domain.MessageChunkReceived{ThreadID: "nope", MessageID: m1, Delta: "x"}))
	domain.Project(m, stored(3, domain.ProjectRenamed{ProjectID: "nope", Name: "x"}))
	domain.Project(m, stored(4, nil))
	if m.LastSequence != 4 {
		t.Fatalf("LastSequence = %d", m.LastSequence)
	}
	before.LastSequence = 4
	if !reflect.DeepEqual(m, before) {
		t.Fatal("irrelevant events changed the model beyond LastSequence")
	}
}

func TestProjectThreadWithoutItsProject(t *testing.T) {
	m := fold(threadCreated(t1, p1), turnStarted(t1, u1, m1), threadCreated(t1, p2))
	th, ok := m.ActiveThread(t1)
	if !ok || th.ProjectID != p1 || th.ActiveTurnID != u1 {
		t.Fatalf("thread = %+v", th)
	}
}
