package domain_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideCheckpoints(t *testing.T) {
	checkpointed := cat(withDoneTurn, []domain.Event{
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/cp1"}})
	runSpecs(t, []spec{
		{name: "create after a turn", given: withDoneTurn,
			when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/cp1", Files: []domain.FileChange{{Path: "a.go", Kind: domain.FileModified}}},
			then: []domain.Event{domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/cp1", Files: []domain.FileChange{{Path: "a.go", Kind: domain.FileModified}}}}},
		{name: "create for a running turn", given: withTurn,
			when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"}, err: domain.CodeThreadBusy},
		{name: "create for an unknown turn", given: withDoneTurn,
			when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u2, Ref: "r"}, err: domain.CodeTurnNotFound},
		{name: "second checkpoint for one turn", given: checkpointed,
			when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp2, TurnID: u1, Ref: "r"}, err: domain.CodeCheckpointExists},
		{name: "checkpoint id reused", given: cat(checkpointed, []domain.Event{turnStarted(t1, u2, m3),
			domain.TurnInterrupted{ThreadID: t1, TurnID: u2}, status(t1, idle)}),
			when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u2, Ref: "r"}, err: domain.CodeCheckpointExists},
		{name: "create with empty ref", given: withDoneTurn,
			when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u1}, err: domain.CodeInvalidCommand},
		{name: "create on unknown thread", when: domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r"},
			err: domain.CodeThreadNotFound},

		{name: "restore", given: checkpointed, when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1, OperationID: op1},
			then: []domain.Event{domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/cp1", OperationID: op1}}},
		{name: "restore while running", given: cat(checkpointed, []domain.Event{turnStarted(t1, u2, m3), status(t1, running)}),
			when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1}, err: domain.CodeThreadBusy},
		{name: "restore while awaiting approval", given: withWork,
			when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1}, err: domain.CodeThreadBusy},
		{name: "restore unknown checkpoint", given: withDoneTurn,
			when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1}, err: domain.CodeCheckpointNotFound},
		{name: "restore on unknown thread", when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1},
			err: domain.CodeThreadNotFound},
	})
}

func TestDecideGit(t *testing.T) {
	branched := cat(withThread, []domain.Event{domain.BranchCreateRequested{ThreadID: t1, OperationID: op1, Name: "feature/x"}})
	runSpecs(t, []spec{
		{name: "commit", given: withDoneTurn, when: domain.CommitChanges{ThreadID: t1, OperationID: op1, Message: "fix"},
			then: []domain.Event{domain.CommitRequested{ThreadID: t1, OperationID: op1, Message: "fix"}}},
		{name: "commit while running", given: withTurn, when: domain.CommitChanges{ThreadID: t1, OperationID: op1, Message: "fix"},
			err: domain.CodeThreadBusy},
		{name: "commit with empty message", given: withThread, when: domain.CommitChanges{ThreadID: t1, OperationID: op1},
			err: domain.CodeInvalidCommand},
		{name: "commit on unknown thread", when: domain.CommitChanges{ThreadID: t1, OperationID: op1, Message: "m"},
			err: domain.CodeThreadNotFound},
		{name: "operation id reused", given: branched, when: domain.CommitChanges{ThreadID: t1, OperationID: op1, Message: "m"},
			err: domain.CodeInvalidCommand},

		{name: "branch", given: withThread, when: domain.CreateBranch{ThreadID: t1, OperationID: op1, Name: "feature/x", Base: "main"},
			then: []domain.Event{domain.BranchCreateRequested{ThreadID: t1, OperationID: op1, Name: "feature/x", Base: "main"}}},
		{name: "branch with invalid name", given: withThread, when: domain.CreateBranch{ThreadID: t1, OperationID: op1, Name: "a..b"},
			err: domain.CodeInvalidCommand},
		{name: "branch with invalid base", given: withThread, when: domain.CreateBranch{ThreadID: t1, OperationID: op1, Name: "x", Base: "-x"},
			err: domain.CodeInvalidCommand},
		{name: "branch on unknown thread", when: domain.CreateBranch{ThreadID: t1, OperationID: op1, Name: "x"},
			err: domain.CodeThreadNotFound},

		{name: "push a named branch", given: withThread, when: domain.PushBranch{ThreadID: t1, OperationID: op2, Branch: "main", Remote: "upstream"},
			then: []domain.Event{domain.PushRequested{ThreadID: t1, OperationID: op2, Branch: "main", Remote: "upstream"}}},
		{name: "push the branch the thread created, to origin", given: branched, when: domain.PushBranch{ThreadID: t1, OperationID: op2},
			then: []domain.Event{domain.PushRequested{ThreadID: t1, OperationID: op2, Branch: "feature/x", Remote: "origin"}}},
		{name: "push with no branch given or known", given: withThread, when: domain.PushBranch{ThreadID: t1, OperationID: op3},
			err: domain.CodeInvalidCommand},
		{name: "push on unknown thread", when: domain.PushBranch{ThreadID: t1, OperationID: op3, Branch: "x"},
			err: domain.CodeThreadNotFound},
	})
}

func TestValidBranchName(t *testing.T) {
	for name, want := range map[string]bool{
		"main": true, "feature/x": true, "fix-123": true, "v1.2": true, "a/b/c": true,
		"": false, "@": false, "-x": false, "/x": false, "x/": false, "x.": false, "a..b": false,
		"a b": false, "a~b": false, "a^b": false, "a:b": false, "a?b": false, "a*b": false, "a[b": false,
		`a\b`: false, "a@{b": false, "a//b": false, ".hidden": false, "a/.b": false, "x.lock": false,
		"a/b.lock/c": false, "tab\tx": false,
	} {
		if got := domain.ValidBranchName(name); got != want {
			t.Errorf("ValidBranchName(%q) = %v, want %v", name, got, want)
		}
	}
}
