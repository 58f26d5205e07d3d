package gitwork

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/domain"
)

func TestExecutorCommitsBranchesAndPushesAndReportsGitsFailures(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	dir, origin := newRepo(t, "work")
	projectID, threadID := project(t, s, "studio", dir)
	startExecutor(t, s, Config{Host: "studio", AckWait: time.Second}, nil)
	outcome := func(cmd domain.Command) *domain.GitOperation {
		t.Helper()
		return waitOutcome(t, s, projectID, threadID, s.Send(t, cmd).OperationID)
	}

	// Nothing to commit yet.
	op := outcome(domain.CommitChanges{ThreadID: threadID, Message: "empty"})
	if op.Status != domain.GitStatusFailed || !strings.Contains(op.Error, "nothing to commit") {
		t.Fatalf("empty commit: %+v", op)
	}

	if op := outcome(domain.CreateBranch{ThreadID: threadID, Name: "agent/work"}); op.Status != domain.GitStatusCompleted ||
		gittest.Run(t, dir, "symbolic-ref", "--short", "HEAD") != "agent/work" {
		t.Fatalf("branch: %+v", op)
	}
	gittest.Write(t, dir, "feature.go", "package feature\n")
	op = outcome(domain.CommitChanges{ThreadID: threadID, Message: "Add the feature"})
	if op.Status != domain.GitStatusCompleted || op.SHA != gittest.Run(t, dir, "rev-parse", "HEAD") ||
		gittest.Run(t, dir, "log", "-1", "--format=%s") != "Add the feature" {
		t.Fatalf("commit: %+v", op)
	}
	commit := op.SHA
	if op := outcome(domain.PushBranch{ThreadID: threadID}); op.Status != domain.GitStatusCompleted || op.SHA != commit {
		t.Fatalf("push: %+v", op)
	}
	if got := gittest.Run(t, origin, "rev-parse", "refs/heads/agent/work"); got != commit {
		t.Fatalf("origin has agent/work at %s, want %s", got, commit)
	}

	// An existing branch, and a push the remote refuses.
	if op := outcome(domain.CreateBranch{ThreadID: threadID, Name: "main"}); op.Status != domain.GitStatusFailed || !strings.Contains(op.Error, "already exists") {
		t.Fatalf("existing branch: %+v", op)
	}
	gittest.Run(t, origin, "update-ref", "refs/heads/agent/work", gittest.Run(t, dir, "rev-parse", "main"))
	gittest.Run(t, dir, "commit", "--quiet", "--amend", "-m", "rewritten")
	if op := outcome(domain.PushBranch{ThreadID: threadID, Branch: "agent/work"}); op.Status != domain.GitStatusCompleted {
		t.Fatalf("fast-forward push: %+v", op) // origin was behind: a fast-forward
	}
	gittest.Run(t, dir, "commit", "--quiet", "--amend", "-m", "rewritten again")
	if op := outcome(domain.PushBranch{ThreadID: threadID, Branch: "agent/work"}); op.Status != domain.GitStatusFailed || !strings.Contains(op.Error, "rejected") {
		t.Fatalf("refused push: %+v", op)
	}
}

func TestExecutorFailsEveryOperationInADirectoryThatIsNotARepository(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	dir := t.TempDir()
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	startExecutor(t, s, Config{AckWait: time.Second}, nil)
	op := waitOutcome(t, s, projectID, threadID, s.Send(t, domain.CommitChanges{ThreadID: threadID, Message: "x"}).OperationID)
	if op.Status != domain.GitStatusFailed || !strings.Contains(op.Error, "not a git repository") {
		t.Fatalf("commit outside a repository: %+v", op)
	}
}

// A host that commits and dies before recording: the next instance finds
// the commit by its trailer and records it, so there is one commit and
// the operation is completed with its sha.
func TestExecutorKilledBetweenCommitAndRecordCommitsOnce(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	cfg := Config{AckWait: 500 * time.Millisecond, PinnedTTL: 750 * time.Millisecond}
	stop, exited := runExecutor(t, s, cfg, func(domain.GitOperationKind) bool { return false })
	gittest.Write(t, dir, "work.txt", "the agent's work\n")
	before := gittest.Run(t, dir, "rev-list", "--count", "HEAD")
	opID := s.Send(t, domain.CommitChanges{ThreadID: threadID, Message: "the work"}).OperationID
	<-exited // Run stops by itself, at the hook, as a crash would
	if err := stop(); !errors.Is(err, errCrashed) {
		t.Fatalf("executor stopped with %v", err)
	}
	committed := gittest.Run(t, dir, "rev-parse", "HEAD")
	if op, _ := thread(t, s, projectID, threadID).GitOperation(opID); op.Status != domain.GitOperationRequested {
		t.Fatalf("recorded before the crash: %+v", op)
	}

	startExecutor(t, s, cfg, nil)
	op := waitOutcome(t, s, projectID, threadID, opID)
	if op.Status != domain.GitStatusCompleted || op.SHA != committed {
		t.Fatalf("after restart: %+v, want completed with %s", op, committed)
	}
	if n := gittest.Run(t, dir, "rev-list", "--count", "HEAD"); n != "2" || before != "1" {
		t.Fatalf("%s commits, want exactly one more than %s", n, before)
	}
}

// Two executor instances of one host: each operation runs once.
func TestTwoInstancesOfAHostRunEachOperationOnce(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	var runs atomic.Int32
	count := func(domain.GitOperationKind) bool { runs.Add(1); return true }
	startExecutor(t, s, Config{AckWait: time.Second}, count)
	startExecutor(t, s, Config{AckWait: time.Second}, count)
	var ops []string
	for i := range 3 {
		gittest.Write(t, dir, "f.txt", strings.Repeat("x", i+1))
		op := s.Send(t, domain.CommitChanges{ThreadID: threadID, Message: "change"}).OperationID
		waitOutcome(t, s, projectID, threadID, op)
		ops = append(ops, op)
	}
	for _, op := range ops {
		if got, _ := thread(t, s, projectID, threadID).GitOperation(op); got.Status != domain.GitStatusCompleted {
			t.Fatalf("operation %+v", got)
		}
	}
	if n := runs.Load(); n != 3 {
		t.Fatalf("%d executions for 3 operations", n)
	}
	if n := gittest.Run(t, dir, "rev-list", "--count", "HEAD"); n != "4" {
		t.Fatalf("%s commits, want 4", n)
	}
}

// hook installs a pre-commit hook.
func hook(t *testing.T, dir, script string) {
	t.Helper()
	path := filepath.Join(dir, ".git", "hooks", "pre-commit")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+script), 0o755); err != nil {
		t.Fatal(err)
	}
}

// Two threads of one project committing at once run one after the other;
// two projects run at the same time. The hooks prove it without timing:
// each project's commit waits, inside git, until the other project's
// commit has started — which only a parallel executor lets happen.
func TestOneProjectAtATimeAndProjectsInParallel(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	flags := t.TempDir()
	dirA, _ := newRepo(t, "a")
	dirB, _ := newRepo(t, "b")
	waitFor := func(me, other string) string {
		return "touch " + flags + "/" + me + "\n" +
			"i=0; while [ ! -e " + flags + "/" + other + " ]; do i=$((i+1)); [ $i -gt 600 ] && exit 1; sleep 0.05; done\n"
	}
	hook(t, dirA, waitFor("a", "b"))
	hook(t, dirB, waitFor("b", "a"))
	pA, tA := project(t, s, domain.DefaultHost, dirA)
	pB, tB := project(t, s, domain.DefaultHost, dirB)
	gittest.Write(t, dirA, "x.txt", "a\n")
	gittest.Write(t, dirB, "x.txt", "b\n")
	startExecutor(t, s, Config{AckWait: time.Second}, nil)
	opA := s.Send(t, domain.CommitChanges{ThreadID: tA, Message: "a"}).OperationID
	opB := s.Send(t, domain.CommitChanges{ThreadID: tB, Message: "b"}).OperationID
	for _, o := range []*domain.GitOperation{waitOutcome(t, s, pA, tA, opA), waitOutcome(t, s, pB, tB, opB)} {
		if o.Status != domain.GitStatusCompleted {
			t.Fatalf("projects did not run in parallel: %+v", o)
		}
	}

	// One project, two threads: the hook logs start and end; the two
	// commits never overlap.
	dirC, _ := newRepo(t, "c")
	log := filepath.Join(flags, "c.log")
	hook(t, dirC, "echo start >> "+log+"\nsleep 0.3\necho end >> "+log+"\n")
	pC, t1 := project(t, s, domain.DefaultHost, dirC)
	t2 := s.Send(t, domain.CreateThread{ProjectID: pC}).ThreadID
	gittest.Write(t, dirC, "one.txt", "1\n")
	op1 := s.Send(t, domain.CommitChanges{ThreadID: t1, Message: "one"}).OperationID
	op2 := s.Send(t, domain.CommitChanges{ThreadID: t2, Message: "two"}).OperationID
	first, second := waitOutcome(t, s, pC, t1, op1), waitOutcome(t, s, pC, t2, op2)
	if first.Status != domain.GitStatusCompleted {
		t.Fatalf("first commit: %+v", first)
	}
	// The second found nothing left to commit: the first took everything.
	if second.Status != domain.GitStatusFailed || !strings.Contains(second.Error, "nothing to commit") {
		t.Fatalf("second commit: %+v", second)
	}
	got, _ := os.ReadFile(log)
	if string(got) != "start\nend\n" && string(got) != "start\nend\nstart\nend\n" {
		t.Fatalf("the commits of one project overlapped:\n%s", got)
	}
}

// An executor works only in the projects of its host. The consumer
// delivers in stream order, so once an operation of its own host requested
// later has its outcome, the other host's operation has been passed over.
func TestExecutorLeavesOtherHostsProjectsAlone(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	theirs, _ := newRepo(t, "theirs")
	ours, _ := newRepo(t, "ours")
	pT, tT := project(t, s, "elsewhere", theirs)
	pO, tO := project(t, s, "here", ours)
	gittest.Write(t, theirs, "x.txt", "x\n")
	gittest.Write(t, ours, "x.txt", "x\n")
	startExecutor(t, s, Config{Host: "here", AckWait: time.Second}, nil)
	opT := s.Send(t, domain.CommitChanges{ThreadID: tT, Message: "theirs"}).OperationID
	opO := s.Send(t, domain.CommitChanges{ThreadID: tO, Message: "ours"}).OperationID
	if op := waitOutcome(t, s, pO, tO, opO); op.Status != domain.GitStatusCompleted {
		t.Fatalf("our commit: %+v", op)
	}
	if op, _ := thread(t, s, pT, tT).GitOperation(opT); op.Status != domain.GitOperationRequested {
		t.Fatalf("the other host's operation: %+v", op)
	}
	if n := gittest.Run(t, theirs, "rev-list", "--count", "HEAD"); n != "1" {
		t.Fatalf("the other host's repository has %s commits", n)
	}
}

// A git operation that hangs (here a hook that never returns) is stopped
// at GitTimeout and fails with why; the repository stays usable and the
// project's next operation runs.
func TestAHungGitOperationIsStoppedAndFails(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	hook(t, dir, "sleep 600\n")
	gittest.Write(t, dir, "x.txt", "x\n")
	startExecutor(t, s, Config{AckWait: time.Second, GitTimeout: 300 * time.Millisecond}, nil)
	op := waitOutcome(t, s, projectID, threadID, s.Send(t, domain.CommitChanges{ThreadID: threadID, Message: "hangs"}).OperationID)
	if op.Status != domain.GitStatusFailed || !strings.Contains(op.Error, "stopped: context deadline exceeded") {
		t.Fatalf("hung commit: %+v", op)
	}
	if _, err := os.Stat(filepath.Join(dir, ".git", "index.lock")); !os.IsNotExist(err) {
		t.Fatalf("the stopped commit left index.lock behind (%v)", err)
	}
	if err := os.Remove(filepath.Join(dir, ".git", "hooks", "pre-commit")); err != nil {
		t.Fatal(err)
	}
	op = waitOutcome(t, s, projectID, threadID, s.Send(t, domain.CommitChanges{ThreadID: threadID, Message: "works"}).OperationID)
	if op.Status != domain.GitStatusCompleted {
		t.Fatalf("the next commit: %+v", op)
	}
}
