package workspace_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/internal/workspace"
	"github.com/peonhq/peon/pkg/domain"
)

var ctx = context.Background()

func TestOpenRefusesADirectoryOutsideARepository(t *testing.T) {
	gittest.Isolate(t)
	_, err := workspace.Open(ctx, t.TempDir())
	var ge *workspace.GitError
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "not a git repository") {
		t.Fatalf("Open of a plain directory: %v, want git's 'not a git repository'", err)
	}
	if _, err := workspace.Open(ctx, "/does/not/exist"); !errors.As(err, &ge) {
		t.Fatalf("Open of a missing directory: %v, want a GitError", err)
	}
}

func TestSnapshotRecordsEveryKindOfChangeAndLeavesTheUserAlone(t *testing.T) {
	dir, _ := newRepo(t)
	gittest.Write(t, dir, "big.txt", strings.Repeat("line of text that is long enough\n", 20))
	gittest.Run(t, dir, "add", "big.txt")
	gittest.Run(t, dir, "commit", "--quiet", "-m", "big")
	r := open(t, dir)
	base, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/base", "")
	if err != nil {
		t.Fatal(err)
	}

	// The turn: modify, delete, rename, add untracked, add binary, add
	// ignored; and the user has a staged change of their own.
	gittest.Write(t, dir, "keep.txt", "one\nTWO\nthree\nfour\n") // +2 -1
	gittest.Write(t, dir, "README", "hello\nworld\nstaged\n")    // staged by the user: +1
	gittest.Run(t, dir, "add", "README")
	gittest.Run(t, dir, "mv", "big.txt", "big-moved.txt")                   // rename (the user's index too)
	gittest.Write(t, dir, "new/untracked.go", "package x\n\nfunc F() {}\n") // +3
	gittest.Write(t, dir, "image.bin", "\x00\x01\x02binary\x00")
	gittest.Write(t, dir, "debug.log", "ignored\n")
	before := stateOf(t, dir)

	turn, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/t1", base)
	if err != nil {
		t.Fatal(err)
	}
	if after := stateOf(t, dir); after != before {
		t.Fatalf("snapshot changed the user's git state:\n%+v\n%+v", before, after)
	}
	if got := gittest.Run(t, dir, "rev-parse", "refs/peon/checkpoints/th/t1"); got != turn {
		t.Fatalf("ref points at %s, snapshot is %s", got, turn)
	}
	if got := gittest.Run(t, dir, "rev-parse", turn+"^"); got != base {
		t.Fatalf("snapshot's parent is %s, want the previous snapshot %s", got, base)
	}

	files, err := r.Changes(ctx, base, turn)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]domain.FileChange{
		"keep.txt":         {Path: "keep.txt", Kind: domain.FileModified, Additions: 2, Deletions: 1},
		"README":           {Path: "README", Kind: domain.FileModified, Additions: 1},
		"big-moved.txt":    {Path: "big-moved.txt", OldPath: "big.txt", Kind: domain.FileRenamed},
		"new/untracked.go": {Path: "new/untracked.go", Kind: domain.FileAdded, Additions: 3},
		"image.bin":        {Path: "image.bin", Kind: domain.FileAdded, Binary: true},
	}
	if len(files) != len(want) {
		t.Fatalf("changes %+v, want %d files", files, len(want))
	}
	for _, f := range files {
		if w, ok := want[f.Path]; !ok || w != f {
			t.Errorf("change %+v, want %+v", f, w)
		}
	}

	// Deleting a file is a deletion with its lines counted.
	if err := removeFile(dir, "keep.txt"); err != nil {
		t.Fatal(err)
	}
	t2, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/t2", turn)
	if err != nil {
		t.Fatal(err)
	}
	files, err = r.Changes(ctx, turn, t2)
	if err != nil {
		t.Fatal(err)
	}
	if len(files) != 1 || files[0] != (domain.FileChange{Path: "keep.txt", Kind: domain.FileDeleted, Deletions: 4}) {
		t.Fatalf("changes after deleting keep.txt: %+v", files)
	}
}

func TestDiffIsCutAtTheLimitOnALineBoundary(t *testing.T) {
	dir, _ := newRepo(t)
	r := open(t, dir)
	base, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/base", "")
	if err != nil {
		t.Fatal(err)
	}
	gittest.Write(t, dir, "keep.txt", "one\n2\nthree\n")
	gittest.Write(t, dir, "bulk.txt", strings.Repeat("0123456789\n", 1000))
	turn, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/t1", base)
	if err != nil {
		t.Fatal(err)
	}
	full, truncated, err := r.Diff(ctx, base, turn, 0)
	if err != nil || truncated {
		t.Fatalf("full diff: truncated %v, err %v", truncated, err)
	}
	if !strings.Contains(full, "diff --git a/keep.txt b/keep.txt") || !strings.Contains(full, "-two\n+2\n") {
		t.Fatalf("full diff lacks keep.txt's change:\n%.500s", full)
	}
	cut, truncated, err := r.Diff(ctx, base, turn, 1000)
	if err != nil || !truncated {
		t.Fatalf("cut diff: truncated %v, err %v", truncated, err)
	}
	if len(cut) > 1000 || !strings.HasSuffix(cut, "\n") || !strings.HasPrefix(full, cut) {
		t.Fatalf("cut diff is %d bytes, not a line-ended prefix of the full diff", len(cut))
	}
}

func TestRestoreToAnEarlierSnapshotAndBack(t *testing.T) {
	dir, _ := newRepo(t)
	r := open(t, dir)
	gittest.Write(t, dir, "README", "hello\nstaged\n")
	gittest.Run(t, dir, "add", "README")
	base, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/base", "")
	if err != nil {
		t.Fatal(err)
	}
	// Turn 1 edits a tracked file, adds files, deletes one; an ignored file appears.
	gittest.Write(t, dir, "keep.txt", "changed\n")
	gittest.Write(t, dir, "src/a/new.go", "package a\n")
	gittest.Write(t, dir, "untracked.txt", "u\n")
	if err := removeFile(dir, "README"); err != nil {
		t.Fatal(err)
	}
	gittest.Write(t, dir, "cache.log", "ignored\n")
	t1, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/t1", base)
	if err != nil {
		t.Fatal(err)
	}
	gittest.Write(t, dir, "keep.txt", "changed again after the checkpoint\n")
	before := stateOf(t, dir)

	got, err := r.Restore(ctx, "refs/peon/checkpoints/th/base")
	if err != nil || got != base {
		t.Fatalf("restore to base: %s, %v", got, err)
	}
	if after := stateOf(t, dir); after != before {
		t.Fatalf("restore changed index, HEAD or branches:\n%+v\n%+v", before, after)
	}
	for name, want := range map[string]string{"README": "hello\nstaged\n", "keep.txt": "one\ntwo\nthree\n", "cache.log": "ignored\n"} {
		if content, ok := gittest.Read(t, dir, name); !ok || content != want {
			t.Errorf("%s after restore to base: %q (exists %v), want %q", name, content, ok, want)
		}
	}
	for _, gone := range []string{"src/a/new.go", "src/a", "src", "untracked.txt"} {
		if _, ok := gittest.Read(t, dir, gone); ok {
			t.Errorf("%s was created after the baseline and still exists", gone)
		}
	}
	if _, err := readDir(dir, "src"); err == nil {
		t.Errorf("directory src left behind")
	}

	if _, err := r.Restore(ctx, t1); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{"keep.txt": "changed\n", "src/a/new.go": "package a\n", "untracked.txt": "u\n", "cache.log": "ignored\n"} {
		if content, ok := gittest.Read(t, dir, name); !ok || content != want {
			t.Errorf("%s after restore to turn 1: %q (exists %v), want %q", name, content, ok, want)
		}
	}
	if _, ok := gittest.Read(t, dir, "README"); ok {
		t.Errorf("README was deleted in turn 1 and is back")
	}
}

func TestRestoreOfADeletedRefFailsWithGitsMessageAndChangesNothing(t *testing.T) {
	dir, _ := newRepo(t)
	r := open(t, dir)
	if _, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/base", ""); err != nil {
		t.Fatal(err)
	}
	gittest.Run(t, dir, "update-ref", "-d", "refs/peon/checkpoints/th/base")
	gittest.Write(t, dir, "later.txt", "x\n")
	_, err := r.Restore(ctx, "refs/peon/checkpoints/th/base")
	var ge *workspace.GitError
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "Needed a single revision") {
		t.Fatalf("restore of a deleted ref: %v", err)
	}
	if _, ok := gittest.Read(t, dir, "later.txt"); !ok {
		t.Fatal("a failed restore removed a file")
	}
}

func TestCommitRedeliveredCommitsOnce(t *testing.T) {
	dir, _ := newRepo(t)
	r := open(t, dir)
	head := gittest.Run(t, dir, "rev-parse", "HEAD")
	gittest.Write(t, dir, "feature.go", "package feature\n")
	first, err := r.Commit(ctx, "add the feature", "th/op1")
	if err != nil || first.Already {
		t.Fatalf("commit: %+v, %v", first, err)
	}
	if got := gittest.Run(t, dir, "rev-parse", "HEAD"); got != first.SHA || gittest.Run(t, dir, "rev-parse", "HEAD^") != head {
		t.Fatalf("HEAD %s, commit %s", got, first.SHA)
	}
	if msg := gittest.Run(t, dir, "log", "-1", "--format=%B"); !strings.Contains(msg, "add the feature") || !strings.Contains(msg, "Peon-Operation: th/op1") {
		t.Fatalf("commit message %q", msg)
	}
	gittest.Write(t, dir, "more.go", "package feature\n")
	again, err := r.Commit(ctx, "add the feature", "th/op1")
	if err != nil || !again.Already || again.SHA != first.SHA {
		t.Fatalf("redelivered commit: %+v, %v; want the first commit %s", again, err, first.SHA)
	}
	if n := gittest.Run(t, dir, "rev-list", "--count", "HEAD"); n != "2" {
		t.Fatalf("%s commits, want 2", n)
	}
}

func TestCommitWithNothingToCommitFails(t *testing.T) {
	dir, _ := newRepo(t)
	_, err := open(t, dir).Commit(ctx, "empty", "th/op1")
	var ge *workspace.GitError
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "nothing to commit") {
		t.Fatalf("commit of a clean tree: %v", err)
	}
}

func TestCreateBranchSwitchesAndIsIdempotentForItsOperation(t *testing.T) {
	dir, _ := newRepo(t)
	r := open(t, dir)
	head := gittest.Run(t, dir, "rev-parse", "HEAD")
	gittest.Write(t, dir, "wip.txt", "kept across the switch\n")
	out, err := r.CreateBranch(ctx, "feature/x", "", "th/op1")
	if err != nil || out.SHA != head || out.Already {
		t.Fatalf("create branch: %+v, %v", out, err)
	}
	if b := gittest.Run(t, dir, "symbolic-ref", "--short", "HEAD"); b != "feature/x" {
		t.Fatalf("on %s, want feature/x", b)
	}
	if _, ok := gittest.Read(t, dir, "wip.txt"); !ok {
		t.Fatal("switching lost the working tree's changes")
	}
	again, err := r.CreateBranch(ctx, "feature/x", "", "th/op1")
	if err != nil || !again.Already || again.SHA != head {
		t.Fatalf("redelivered branch: %+v, %v", again, err)
	}
	// Another operation asking for the same branch: git's refusal.
	_, err = r.CreateBranch(ctx, "feature/x", "main", "th/op2")
	var ge *workspace.GitError
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "already exists") {
		t.Fatalf("existing branch: %v", err)
	}
	if _, err := r.CreateBranch(ctx, "other", "no-such-base", "th/op3"); !errors.As(err, &ge) {
		t.Fatalf("unknown base: %v", err)
	}
}

func TestPushAndItsRedeliveryAndARefusal(t *testing.T) {
	dir, origin := newRepo(t)
	r := open(t, dir)
	out, err := r.Push(ctx, "", "main")
	if err != nil || out.Already {
		t.Fatalf("push: %+v, %v", out, err)
	}
	if got := gittest.Run(t, origin, "rev-parse", "refs/heads/main"); got != out.SHA {
		t.Fatalf("origin has main at %s, pushed %s", got, out.SHA)
	}
	again, err := r.Push(ctx, "origin", "main")
	if err != nil || !again.Already || again.SHA != out.SHA {
		t.Fatalf("repeated push: %+v, %v", again, err)
	}

	// Someone else pushes to origin; our diverging commit is refused.
	other := t.TempDir()
	gittest.Run(t, other, "clone", "--quiet", origin, "clone")
	gittest.Write(t, other, "clone/theirs.txt", "theirs\n")
	gittest.Run(t, other+"/clone", "add", "-A")
	gittest.Run(t, other+"/clone", "commit", "--quiet", "-m", "theirs")
	gittest.Run(t, other+"/clone", "push", "--quiet", "origin", "main")
	gittest.Write(t, dir, "ours.txt", "ours\n")
	if _, err := r.Commit(ctx, "ours", "th/op9"); err != nil {
		t.Fatal(err)
	}
	_, err = r.Push(ctx, "origin", "main")
	var ge *workspace.GitError
	if !errors.As(err, &ge) || !strings.Contains(ge.Message, "rejected") {
		t.Fatalf("diverging push: %v, want git's rejection", err)
	}
	if _, err := r.Push(ctx, "nowhere", "main"); !errors.As(err, &ge) {
		t.Fatalf("push to an unknown remote: %v", err)
	}
}

// A host that recorded where a branch goes and died before creating it:
// the redelivered operation creates it there, even though HEAD moved.
func TestCreateBranchAfterACrashBeforeCreatingIt(t *testing.T) {
	dir, _ := newRepo(t)
	r := open(t, dir)
	start := gittest.Run(t, dir, "rev-parse", "HEAD")
	gittest.Run(t, dir, "update-ref", "refs/peon/operations/th/op1", start)
	gittest.Write(t, dir, "later.txt", "x\n")
	gittest.Run(t, dir, "add", "-A")
	gittest.Run(t, dir, "commit", "--quiet", "-m", "later")
	out, err := r.CreateBranch(ctx, "feature/y", "", "th/op1")
	if err != nil || out.Already || out.SHA != start {
		t.Fatalf("branch after a crash: %+v, %v; want it created at %s", out, err, start)
	}
	if got := gittest.Run(t, dir, "rev-parse", "refs/heads/feature/y"); got != start {
		t.Fatalf("feature/y at %s, want %s", got, start)
	}
}

// A repository without commits yet: snapshots have no parent, and the
// changes against the empty tree list every file as added.
func TestSnapshotInARepositoryWithoutCommits(t *testing.T) {
	gittest.Isolate(t)
	dir := t.TempDir()
	gittest.Run(t, dir, "init", "--quiet")
	gittest.Write(t, dir, "first.txt", "a\nb\n")
	r := open(t, dir)
	snap, err := r.Snapshot(ctx, "refs/peon/checkpoints/th/base", "")
	if err != nil {
		t.Fatal(err)
	}
	if parents := gittest.Run(t, dir, "rev-list", "--parents", "-n", "1", snap); parents != snap {
		t.Fatalf("a snapshot without HEAD has parents: %s", parents)
	}
	empty, err := r.EmptyTree(ctx)
	if err != nil {
		t.Fatal(err)
	}
	files, err := r.Changes(ctx, empty, snap)
	if err != nil || len(files) != 1 || files[0] != (domain.FileChange{Path: "first.txt", Kind: domain.FileAdded, Additions: 2}) {
		t.Fatalf("changes from the empty tree: %+v, %v", files, err)
	}
	if _, err := r.Resolve(ctx, "HEAD"); err == nil {
		t.Fatal("the snapshot made a commit on HEAD")
	}
}
