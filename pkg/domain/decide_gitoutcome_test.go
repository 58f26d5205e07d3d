package domain_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideCheckpointFiles(t *testing.T) {
	create := func(commit string, files ...domain.FileChange) domain.CreateCheckpoint {
		return domain.CreateCheckpoint{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/checkpoints/t1/u1", Commit: commit, Files: files}
	}
	file := func(path string, kind domain.FileChangeKind) domain.FileChange {
		return domain.FileChange{Path: path, Kind: kind}
	}
	sha256 := strings.Repeat("ab", 32)
	specs := []spec{
		{name: "ref, commit and structured files", given: withDoneTurn, when: create(sha1, allFileKinds()...),
			then: []domain.Event{domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1,
				Ref: "refs/peon/checkpoints/t1/u1", Commit: sha1, Files: allFileKinds()}}},
		{name: "a SHA-256 commit", given: withDoneTurn, when: create(sha256),
			then: []domain.Event{domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1,
				Ref: "refs/peon/checkpoints/t1/u1", Commit: sha256}}},
	}
	for name, c := range map[string]domain.CreateCheckpoint{
		"an abbreviated commit":        create("0a1b2c3"),
		"an uppercase commit":          create(strings.ToUpper(sha1)),
		"an empty path":                create("", file("", domain.FileAdded)),
		"an absolute path":             create("", file("/etc/passwd", domain.FileModified)),
		"a path with NUL":              create("", file("a\x00b", domain.FileModified)),
		"a path listed twice":          create("", file("a.go", domain.FileAdded), file("a.go", domain.FileModified)),
		"an unknown kind":              create("", file("a.go", "copied")),
		"no kind":                      create("", file("a.go", "")),
		"a rename without old path":    create("", file("a.go", domain.FileRenamed)),
		"an old path on a non-rename":  create("", domain.FileChange{Path: "a.go", OldPath: "b.go", Kind: domain.FileModified}),
		"negative additions":           create("", domain.FileChange{Path: "a.go", Kind: domain.FileModified, Additions: -1}),
		"negative deletions":           create("", domain.FileChange{Path: "a.go", Kind: domain.FileModified, Deletions: -1}),
		"an absolute old path":         create("", domain.FileChange{Path: "a.go", OldPath: "/b.go", Kind: domain.FileRenamed}),
		"a path longer than PATH_MAX":  create("", file(strings.Repeat("d/", 2049), domain.FileAdded)),
		"an empty old path of renamed": create("", domain.FileChange{Path: "a.go", Kind: domain.FileRenamed}),
	} {
		specs = append(specs, spec{name: name, given: withDoneTurn, when: c, err: domain.CodeInvalidCommand})
	}
	runSpecs(t, specs)
}

func TestDecideRestoreIsAGitOperation(t *testing.T) {
	checkpointed := cat(withDoneTurn, []domain.Event{
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/cp1", Commit: sha1}})
	runSpecs(t, []spec{
		{name: "the restore names its operation and the commit to restore", given: checkpointed,
			when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1, OperationID: op1},
			then: []domain.Event{domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "refs/peon/cp1",
				Commit: sha1, OperationID: op1}}},
		{name: "without an operation id", given: checkpointed,
			when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1}, err: domain.CodeInvalidCommand},
		{name: "with an operation id already used", given: cat(checkpointed, []domain.Event{
			domain.CommitRequested{ThreadID: t1, OperationID: op1, Message: "m"}}),
			when: domain.RestoreCheckpoint{ThreadID: t1, CheckpointID: cp1, OperationID: op1}, err: domain.CodeInvalidCommand},
	})
}

func TestDecideCompleteGitOperation(t *testing.T) {
	requested := cat(withThread, []domain.Event{
		domain.CommitRequested{ThreadID: t1, OperationID: op1, Message: "fix"},
		domain.PushRequested{ThreadID: t1, OperationID: op2, Branch: "main", Remote: "origin"},
	})
	done := cat(requested, []domain.Event{domain.GitOperationCompleted{ThreadID: t1, OperationID: op1, SHA: sha1, Output: "ok"}})
	failed := cat(requested, []domain.Event{domain.GitOperationFailed{ThreadID: t1, OperationID: op2, Error: "rejected"}})
	complete := func(op, sha, output string) domain.CompleteGitOperation {
		return domain.CompleteGitOperation{ThreadID: t1, OperationID: op, Status: domain.GitStatusCompleted, SHA: sha, Output: output}
	}
	fail := func(op, msg string) domain.CompleteGitOperation {
		return domain.CompleteGitOperation{ThreadID: t1, OperationID: op, Status: domain.GitStatusFailed, Error: msg}
	}
	long := strings.Repeat("é", domain.MaxGitTextBytes)
	runSpecs(t, []spec{
		{name: "a commit completed", given: requested, when: complete(op1, sha1, "[main 0a1b2c3] fix"),
			then: []domain.Event{domain.GitOperationCompleted{ThreadID: t1, OperationID: op1, SHA: sha1, Output: "[main 0a1b2c3] fix"}}},
		{name: "a push completed without a sha", given: requested, when: complete(op2, "", ""),
			then: []domain.Event{domain.GitOperationCompleted{ThreadID: t1, OperationID: op2}}},
		{name: "a push failed", given: requested, when: fail(op2, "! [rejected] main -> main (fetch first)"),
			then: []domain.Event{domain.GitOperationFailed{ThreadID: t1, OperationID: op2, Error: "! [rejected] main -> main (fetch first)"}}},
		{name: "output is bounded", given: requested, when: complete(op1, sha1, long),
			then: []domain.Event{domain.GitOperationCompleted{ThreadID: t1, OperationID: op1, SHA: sha1, Output: domain.BoundText(long)}}},
		{name: "an error is bounded", given: requested, when: fail(op2, long),
			then: []domain.Event{domain.GitOperationFailed{ThreadID: t1, OperationID: op2, Error: domain.BoundText(long)}}},
		{name: "the same outcome again changes nothing", given: done, when: complete(op1, sha1, "ok")},
		{name: "the same failure again changes nothing", given: failed, when: fail(op2, "rejected")},
		{name: "the same long output again changes nothing", given: cat(requested, []domain.Event{
			domain.GitOperationCompleted{ThreadID: t1, OperationID: op1, SHA: sha1, Output: domain.BoundText(long)}}),
			when: complete(op1, sha1, long)},
		{name: "another outcome for a completed operation", given: done, when: fail(op1, "boom"), err: domain.CodeGitOperationFinished},
		{name: "another sha for a completed operation", given: done, when: complete(op1, strings.Repeat("1", 40), "ok"),
			err: domain.CodeGitOperationFinished},
		{name: "completing a failed operation", given: failed, when: complete(op2, "", ""), err: domain.CodeGitOperationFinished},
		{name: "an unknown operation", given: requested, when: complete(op3, "", ""), err: domain.CodeGitOperationNotFound},
		{name: "an invalid operation id", given: requested, when: complete("op 1", "", ""), err: domain.CodeInvalidCommand},
		{name: "an unknown thread", when: complete(op1, sha1, ""), err: domain.CodeThreadNotFound},
		{name: "a completed commit without its sha", given: requested, when: complete(op1, "", "ok"), err: domain.CodeInvalidCommand},
		{name: "a sha that is not an object id", given: requested, when: complete(op1, "HEAD", ""), err: domain.CodeInvalidCommand},
		{name: "an unknown status", given: requested,
			when: domain.CompleteGitOperation{ThreadID: t1, OperationID: op1, Status: "running"}, err: domain.CodeInvalidCommand},
		{name: "a failure without its error", given: requested, when: fail(op2, " "), err: domain.CodeInvalidCommand},
		{name: "a failure with a sha", given: requested,
			when: domain.CompleteGitOperation{ThreadID: t1, OperationID: op2, Status: domain.GitStatusFailed, Error: "e", SHA: sha1},
			err:  domain.CodeInvalidCommand},
		{name: "a failure with output", given: requested,
			when: domain.CompleteGitOperation{ThreadID: t1, OperationID: op2, Status: domain.GitStatusFailed, Error: "e", Output: "o"},
			err:  domain.CodeInvalidCommand},
		{name: "a success with an error", given: requested,
			when: domain.CompleteGitOperation{ThreadID: t1, OperationID: op2, Status: domain.GitStatusCompleted, Error: "e"},
			err:  domain.CodeInvalidCommand},
		{name: "while a turn runs too", given: cat(requested, []domain.Event{turnStarted(t1, u1, m1), status(t1, running)}),
			when: complete(op2, "", ""), then: []domain.Event{domain.GitOperationCompleted{ThreadID: t1, OperationID: op2}}},
		{name: "a restore completed", given: cat(withDoneTurn, []domain.Event{
			domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r", Commit: sha1},
			domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r", Commit: sha1, OperationID: op3}}),
			when: complete(op3, sha1, ""), then: []domain.Event{domain.GitOperationCompleted{ThreadID: t1, OperationID: op3, SHA: sha1}}},
	})
}

func TestBoundText(t *testing.T) {
	if s := strings.Repeat("a", domain.MaxGitTextBytes); domain.BoundText(s) != s {
		t.Fatal("text that fits was changed")
	}
	for _, unit := range []string{"a", "é", "日本", "🙂"} {
		s := "HEAD:" + strings.Repeat(unit, 3*domain.MaxGitTextBytes/len(unit)) + ":TAIL"
		got := domain.BoundText(s)
		if len(got) > domain.MaxGitTextBytes || !strings.HasPrefix(got, "HEAD:") || !strings.HasSuffix(got, ":TAIL") ||
			!strings.Contains(got, "bytes cut") {
			t.Fatalf("%q: bounded to %d bytes: %q…%q", unit, len(got), got[:20], got[len(got)-20:])
		}
		if !utf8.ValidString(got) {
			t.Fatalf("%q: cut inside a character", unit)
		}
		if domain.BoundText(s) != got {
			t.Fatal("not deterministic")
		}
	}
}
