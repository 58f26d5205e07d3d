package gitwork

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func TestCheckpointsAroundTurnsAndRestoringOne(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	ctx := context.Background()
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	nc, js := connect(t, s)
	c, err := NewCheckpointer(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	staged := func() string { return gittest.Run(t, dir, "diff", "--cached", "--name-status") }
	head := gittest.Run(t, dir, "rev-parse", "HEAD")
	gittest.Write(t, dir, "user-staged.txt", "mine\n")
	gittest.Run(t, dir, "add", "user-staged.txt")
	userIndex := staged()

	turn1 := runTurn(t, s, c, projectID, threadID, dir, true, func() {
		gittest.Write(t, dir, "main.go", "package main\n\nfunc main() {}\n")
		gittest.Write(t, dir, "README", "hello\nfrom the agent\n")
		gittest.Write(t, dir, "build.log", "ignored\n")
	})
	if gittest.Run(t, dir, "rev-parse", "HEAD") != head || staged() != userIndex {
		t.Fatal("a checkpoint changed HEAD or the user's index")
	}
	th := thread(t, s, projectID, threadID)
	if len(th.Checkpoints) != 1 {
		t.Fatalf("checkpoints %+v, want one", th.Checkpoints)
	}
	cp1 := th.Checkpoints[0]
	if cp1.TurnID != turn1 || cp1.Ref != TurnRef(threadID, turn1) || cp1.Commit != gittest.Run(t, dir, "rev-parse", cp1.Ref) {
		t.Fatalf("checkpoint %+v does not name the turn's snapshot", cp1)
	}
	want := map[string]domain.FileChange{
		"main.go": {Path: "main.go", Kind: domain.FileAdded, Additions: 3},
		"README":  {Path: "README", Kind: domain.FileModified, Additions: 1},
	}
	if len(cp1.Files) != len(want) {
		t.Fatalf("files %+v, want %v (the staged file was in the baseline, the log is ignored)", cp1.Files, want)
	}
	for _, f := range cp1.Files {
		if want[f.Path] != f {
			t.Errorf("file %+v, want %+v", f, want[f.Path])
		}
	}
	if base := gittest.Run(t, dir, "rev-parse", BaseRef(threadID)); gittest.Run(t, dir, "rev-parse", cp1.Commit+"^") != base {
		t.Fatal("the first checkpoint is not taken against the baseline")
	}

	// The diff is in peon_diffs.
	store, err := js.ObjectStore(ctx, contract.BucketDiffs)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := store.GetBytes(ctx, contract.DiffKey(threadID, turn1))
	if err != nil {
		t.Fatal(err)
	}
	var stored contract.TurnDiffReply
	if err := json.Unmarshal(raw, &stored); err != nil {
		t.Fatal(err)
	}
	if stored.TurnID != turn1 || stored.Truncated || !strings.Contains(stored.Diff, "+from the agent") || len(stored.Files) != 2 {
		t.Fatalf("stored diff %+v", stored)
	}

	// And read back through the query service, as `peon thread diff` reads it.
	reply, err := s.Client.TurnDiff(ctx, contract.TurnDiff{ThreadID: threadID, TurnID: turn1})
	if err != nil {
		t.Fatal(err)
	}
	if reply.TurnID != turn1 || reply.Diff != stored.Diff || len(reply.Files) != 2 || reply.Truncated {
		t.Fatalf("turn.diff %+v, want what was stored", reply)
	}
	if _, err := s.Client.TurnDiff(ctx, contract.TurnDiff{ThreadID: threadID, TurnID: "nope"}); !errors.Is(err, domain.ErrTurnNotFound) {
		t.Fatalf("turn.diff of an unknown turn: %v, want turn_not_found", err)
	}
	if _, err := s.Client.TurnDiff(ctx, contract.TurnDiff{ThreadID: "a.b", TurnID: turn1}); !errors.Is(err, domain.ErrInvalidCommand) {
		t.Fatalf("turn.diff with a bad id: %v, want invalid_command, as every query", err)
	}

	// A retry of the same turn's checkpoint is a duplicate, not a second one.
	if err := c.AfterTurn(ctx, TurnInfo{ProjectID: projectID, ThreadID: threadID, TurnID: turn1, Dir: dir}); err != nil {
		t.Fatal(err)
	}
	if n := len(thread(t, s, projectID, threadID).Checkpoints); n != 1 {
		t.Fatalf("%d checkpoints after a retry, want 1", n)
	}

	// Turn 2 counts against turn 1, not the baseline.
	turn2 := runTurn(t, s, c, projectID, threadID, dir, false, func() {
		if err := os.Remove(filepath.Join(dir, "main.go")); err != nil {
			t.Fatal(err)
		}
		gittest.Write(t, dir, "later.txt", "made in turn 2\n")
	})
	cp2 := thread(t, s, projectID, threadID).Checkpoints[1]
	if cp2.TurnID != turn2 || len(cp2.Files) != 2 {
		t.Fatalf("turn 2's checkpoint %+v", cp2)
	}
	for _, f := range cp2.Files {
		if (f.Path == "main.go" && f.Kind != domain.FileDeleted) || (f.Path == "later.txt" && f.Kind != domain.FileAdded) {
			t.Errorf("turn 2 change %+v", f)
		}
	}

	// Restoring turn 1 puts its files back through the executor.
	startExecutor(t, s, Config{AckWait: time.Second}, nil)
	op := s.Send(t, domain.RestoreCheckpoint{ThreadID: threadID, CheckpointID: cp1.ID}).OperationID
	got := waitOutcome(t, s, projectID, threadID, op)
	if got.Status != domain.GitStatusCompleted || got.SHA != cp1.Commit || got.Kind != domain.GitRestore {
		t.Fatalf("restore %+v", got)
	}
	if content, ok := gittest.Read(t, dir, "main.go"); !ok || !strings.Contains(content, "func main") {
		t.Fatal("main.go is not back after restoring turn 1")
	}
	if _, ok := gittest.Read(t, dir, "later.txt"); ok {
		t.Fatal("later.txt, made after turn 1, survived the restore")
	}
	if _, ok := gittest.Read(t, dir, "build.log"); !ok {
		t.Fatal("the restore removed an ignored file")
	}
	if gittest.Run(t, dir, "rev-parse", "HEAD") != head || staged() != userIndex {
		t.Fatal("the restore changed HEAD or the user's index")
	}
	if gittest.Run(t, dir, "rev-parse", LatestRef(threadID)) != cp1.Commit {
		t.Fatal("the next turn would not count from the restored snapshot")
	}
}

func TestRestoreOfADeletedCheckpointRefFails(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	nc, _ := connect(t, s)
	c, err := NewCheckpointer(context.Background(), nc)
	if err != nil {
		t.Fatal(err)
	}
	runTurn(t, s, c, projectID, threadID, dir, true, func() { gittest.Write(t, dir, "a.txt", "a\n") })
	cp := thread(t, s, projectID, threadID).Checkpoints[0]
	gittest.Run(t, dir, "update-ref", "-d", cp.Ref)
	startExecutor(t, s, Config{AckWait: time.Second}, nil)
	op := s.Send(t, domain.RestoreCheckpoint{ThreadID: threadID, CheckpointID: cp.ID}).OperationID
	got := waitOutcome(t, s, projectID, threadID, op)
	if got.Status != domain.GitStatusFailed || !strings.Contains(got.Error, "Needed a single revision") {
		t.Fatalf("restore of a deleted ref: %+v", got)
	}
}

// A turn that touches thousands of files: the stored diff lists the
// first MaxDiffFiles and counts them all, its diff is cut at the limit,
// and the checkpoint is still recorded.
func TestALargeTurnIsCutToFit(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	ctx := context.Background()
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	nc, _ := connect(t, s)
	c, err := NewCheckpointer(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	c.DiffLimit = 4096
	const n = MaxDiffFiles + 100
	turn := runTurn(t, s, c, projectID, threadID, dir, true, func() {
		for i := range n {
			gittest.Write(t, dir, fmt.Sprintf("gen/file-%04d.txt", i), "generated\n")
		}
	})
	reply, err := s.Client.TurnDiff(ctx, contract.TurnDiff{ThreadID: threadID, TurnID: turn})
	if err != nil {
		t.Fatal(err)
	}
	if reply.FilesTotal != n || len(reply.Files) != MaxDiffFiles || !reply.Truncated || len(reply.Diff) > 4096 || reply.Diff == "" {
		t.Fatalf("large turn: files_total %d, %d files listed, truncated %v, diff %d bytes",
			reply.FilesTotal, len(reply.Files), reply.Truncated, len(reply.Diff))
	}
	cps := thread(t, s, projectID, threadID).Checkpoints
	if len(cps) != 1 || len(cps[0].Files) == 0 || len(cps[0].Files) > MaxDiffFiles {
		t.Fatalf("large turn's checkpoint: %d checkpoints", len(cps))
	}
}

// A turn checkpointed with no baseline in the repository (its BeforeTurn
// ran elsewhere, or not at all) counts from HEAD, and its retry is the
// same command.
func TestAfterTurnWithoutABaselineCountsFromHEAD(t *testing.T) {
	gittest.Isolate(t)
	s := peontest.Start(t)
	s.WaitServing(t)
	ctx := context.Background()
	dir, _ := newRepo(t, "work")
	projectID, threadID := project(t, s, domain.DefaultHost, dir)
	nc, _ := connect(t, s)
	c, err := NewCheckpointer(ctx, nc)
	if err != nil {
		t.Fatal(err)
	}
	turn := s.Send(t, domain.StartTurn{ThreadID: threadID, Text: "go"}).TurnID
	gittest.Write(t, dir, "README", "hello\nagain\n")
	s.Send(t, domain.IngestProviderEvent{ThreadID: threadID, TurnID: turn, Events: []domain.ProviderEventBatchItem{
		{ProviderEventID: "done", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{StopReason: "end_turn"}}},
	}})
	info := TurnInfo{ProjectID: projectID, ThreadID: threadID, TurnID: turn, Dir: dir}
	for range 2 {
		if err := c.AfterTurn(ctx, info); err != nil {
			t.Fatal(err)
		}
	}
	cps := thread(t, s, projectID, threadID).Checkpoints
	if len(cps) != 1 || len(cps[0].Files) != 1 || cps[0].Files[0] != (domain.FileChange{Path: "README", Kind: domain.FileModified, Additions: 1}) {
		t.Fatalf("checkpoints %+v, want one with README modified against HEAD", cps)
	}
}
