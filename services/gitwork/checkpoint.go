package gitwork

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/internal/workspace"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// TurnInfo is the turn a host is about to run or has just run, in the
// project directory Dir. It is the host's own TurnInfo, so a Checkpointer
// is a host's Workspace as it is.
type TurnInfo = workspace.Turn

// Checkpointer takes the automatic checkpoints of a host's turns: the
// thread's baseline before its first turn, and after every turn a snapshot,
// its changes and diff against the previous one (stored in peon_diffs),
// recorded with CreateCheckpoint.
type Checkpointer struct {
	client *client.Client
	diffs  jetstream.ObjectStore
	// DiffLimit is where a stored diff is cut (workspace.DefaultDiffLimit
	// when 0).
	DiffLimit int
}

// NewCheckpointer opens peon_diffs (made by `peon setup`) over nc.
func NewCheckpointer(ctx context.Context, nc *nats.Conn) (*Checkpointer, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	diffs, err := js.ObjectStore(ctx, contract.BucketDiffs)
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w (run `peon setup`)", contract.BucketDiffs, err)
	}
	return &Checkpointer{client: client.New(nc, domain.MessagePack), diffs: diffs}, nil
}

// BeforeTurn snapshots the thread's baseline when this is its first turn
// (or when the thread has no snapshot in this repository yet, e.g. its
// earlier turns ran elsewhere). A directory that is not a git repository
// is an error: the host reports it and runs the turn without checkpoints.
func (c *Checkpointer) BeforeTurn(ctx context.Context, t TurnInfo) error {
	repo, err := workspace.Open(ctx, t.Dir)
	if err != nil {
		return err
	}
	defer lockRepo(repo.Root())()
	latest, err := repo.ResolveOptional(ctx, LatestRef(t.ThreadID))
	if err != nil {
		return err
	}
	if !t.First && latest != "" {
		return nil
	}
	base, err := repo.Snapshot(ctx, BaseRef(t.ThreadID), "")
	if err != nil {
		return err
	}
	return repo.SetRef(ctx, LatestRef(t.ThreadID), base)
}

// AfterTurn checkpoints the turn that just ended: it snapshots the tree
// under TurnRef, lists the changes and the diff against the previous
// snapshot, stores them in peon_diffs and sends CreateCheckpoint. Calling
// it again for the same turn (a retry) reuses the snapshot already taken
// and sends the same command with the same id, so the decider answers it
// as a duplicate.
func (c *Checkpointer) AfterTurn(ctx context.Context, t TurnInfo) error {
	repo, err := workspace.Open(ctx, t.Dir)
	if err != nil {
		return err
	}
	defer lockRepo(repo.Root())()
	ref := TurnRef(t.ThreadID, t.TurnID)
	commit, err := repo.ResolveOptional(ctx, ref)
	if err != nil {
		return err
	}
	if commit == "" { // not a retry: take the snapshot
		latest, err := repo.ResolveOptional(ctx, LatestRef(t.ThreadID))
		if err != nil {
			return err
		}
		if commit, err = repo.Snapshot(ctx, ref, latest); err != nil {
			return err
		}
	}
	if err := repo.SetRef(ctx, LatestRef(t.ThreadID), commit); err != nil {
		return err
	}
	// The changes count from the snapshot's parent: the thread's previous
	// snapshot, or HEAD when it has none (no BeforeTurn ran here), or the
	// empty tree in a repository without commits. A retry finds the same.
	from, err := repo.ResolveOptional(ctx, commit+"^")
	if err != nil {
		return err
	}
	if from == "" {
		if from, err = repo.EmptyTree(ctx); err != nil {
			return err
		}
	}
	files, err := repo.Changes(ctx, from, commit)
	if err != nil {
		return err
	}
	diff, truncated, err := repo.Diff(ctx, from, commit, c.DiffLimit)
	if err != nil {
		return err
	}
	total := len(files)
	files = files[:min(total, MaxDiffFiles)]
	if files == nil {
		files = []domain.FileChange{}
	}
	record, err := json.Marshal(contract.TurnDiffReply{TurnID: t.TurnID, Files: files, FilesTotal: total, Diff: diff, Truncated: truncated})
	if err != nil {
		return err
	}
	if _, err := c.diffs.PutBytes(ctx, contract.DiffKey(t.ThreadID, t.TurnID), record); err != nil {
		return fmt.Errorf("store diff of turn %s: %w", t.TurnID, err)
	}
	cmd := fitCommand(domain.CreateCheckpoint{
		CommandID: checkpointCommandID(t.ThreadID, t.TurnID), ThreadID: t.ThreadID, TurnID: t.TurnID,
		Ref: ref, Commit: commit, Files: files,
	})
	// The host calls this once it has published the turn's last provider
	// event; until ingest has applied it the turn still runs and the
	// checkpoint is refused thread_busy. That is a matter of milliseconds,
	// so it is retried, for up to turnEndWait.
	deadline := time.Now().Add(turnEndWait)
	for n := 1; ; n++ {
		_, err = c.client.Send(ctx, cmd)
		if !errors.Is(err, domain.ErrThreadBusy) || time.Now().After(deadline) {
			break
		}
		if werr := turnEndPolicy.Wait(ctx, n); werr != nil {
			return werr
		}
	}
	if errors.Is(err, domain.ErrCheckpointExists) {
		return nil // recorded before, under another command
	}
	return err
}

// turnEndWait bounds how long AfterTurn waits for the turn's end to be
// applied before its checkpoint is recorded; turnEndPolicy paces the tries.
const turnEndWait = 30 * time.Second

var turnEndPolicy = retry.Policy{First: 10 * time.Millisecond, Max: time.Second, Jitter: true}

// MaxDiffFiles bounds the files a stored turn diff lists (its files_total
// says how many changed), so a turn that touched a whole tree still fits a
// query reply next to its diff.
const MaxDiffFiles = 2000

// maxCheckpointBytes bounds the encoded CreateCheckpoint, below the
// decider's default body limit (domain.DefaultMaxCommandBytes) with room.
const maxCheckpointBytes = domain.DefaultMaxCommandBytes * 3 / 4

// fitCommand keeps the first files of the checkpoint that fit
// maxCheckpointBytes (all of them, but for very large turns): the
// checkpoint records where the turn's snapshot is, and the full list is
// in the snapshot itself. It is deterministic, so a retry sends the same
// command.
func fitCommand(c domain.CreateCheckpoint) domain.CreateCheckpoint {
	for len(c.Files) > 0 {
		b, err := domain.Marshal(domain.MessagePack, c)
		if err == nil && len(b) <= maxCheckpointBytes {
			break
		}
		c.Files = c.Files[:len(c.Files)/2]
	}
	return c
}

// checkpointNamespace derives the command id of a turn's CreateCheckpoint.
var checkpointNamespace = uuid.MustParse("3b0f1e6a-7d2c-4c55-8f0e-5a9d2b7c4e11")

// checkpointCommandID is the same for every attempt at one turn's
// checkpoint, so a retry is a duplicate, never a second checkpoint.
func checkpointCommandID(threadID, turnID string) string {
	return uuid.NewSHA1(checkpointNamespace, []byte(threadID+"\x00"+turnID)).String()
}
