package gitwork

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/workspace"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/domain"
)

// outcome is how an operation ended, as CompleteGitOperation reports it.
type outcome struct {
	sha, output string
	err         error
}

// execute runs the operation in the project's repository.
func (e *Executor) execute(ctx context.Context, dir, threadID string, ev domain.Event) outcome {
	repo, err := workspace.Open(ctx, dir)
	if err != nil {
		return outcome{err: err}
	}
	defer lockRepo(repo.Root())()
	var res workspace.Outcome
	switch o := ev.(type) {
	case domain.CommitRequested:
		res, err = repo.Commit(ctx, o.Message, operationKey(threadID, o.OperationID))
	case domain.BranchCreateRequested:
		res, err = repo.CreateBranch(ctx, o.Name, o.Base, operationKey(threadID, o.OperationID))
	case domain.PushRequested:
		res, err = repo.Push(ctx, o.Remote, o.Branch)
	case domain.CheckpointRestored:
		res, err = restore(ctx, repo, threadID, o)
	}
	if err != nil {
		return outcome{err: err}
	}
	return outcome{sha: res.SHA, output: res.Output}
}

// restore puts the working tree back to the checkpoint's snapshot, which
// must still be what the checkpoint recorded, and makes it the thread's
// latest snapshot (the next turn's changes count from it).
func restore(ctx context.Context, repo *workspace.Repo, threadID string, o domain.CheckpointRestored) (workspace.Outcome, error) {
	commit, err := repo.Resolve(ctx, o.Ref)
	if err != nil {
		return workspace.Outcome{}, err
	}
	if o.Commit != "" && commit != o.Commit {
		return workspace.Outcome{}, fmt.Errorf("checkpoint ref %s now points at %s, not at the checkpoint's snapshot %s", o.Ref, commit, o.Commit)
	}
	if _, err := repo.Restore(ctx, commit); err != nil {
		return workspace.Outcome{}, err
	}
	if err := repo.SetRef(ctx, LatestRef(threadID), commit); err != nil {
		return workspace.Outcome{}, err
	}
	return workspace.Outcome{SHA: commit, Output: "working tree restored to " + o.Ref}, nil
}

// record sends the outcome, retrying transient failures until ctx ends.
// An outcome the decider refuses for good (another instance recorded a
// different one, the thread is gone) is logged, not retried.
func (e *Executor) record(ctx context.Context, threadID, opID string, o outcome) error {
	cmd := domain.CompleteGitOperation{ThreadID: threadID, OperationID: opID, Status: domain.GitStatusCompleted,
		SHA: o.sha, Output: domain.BoundText(o.output)}
	if o.err != nil {
		cmd = domain.CompleteGitOperation{ThreadID: threadID, OperationID: opID, Status: domain.GitStatusFailed,
			Error: domain.BoundText(o.err.Error())}
	}
	for attempt := 0; ; attempt++ {
		sendCtx, cancel := context.WithTimeout(ctx, e.cfg.CommandTimeout)
		_, err := e.client.Send(sendCtx, cmd)
		cancel()
		var reply *client.Error
		switch {
		case err == nil:
			e.log.Info("git operation recorded", "thread", threadID, "operation", opID, "status", cmd.Status)
			return nil
		case errors.As(err, &reply) && !reply.Transient():
			e.log.Warn("git operation outcome refused", "thread", threadID, "operation", opID, "err", err)
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("record operation %s: %w", opID, err)
		case <-time.After(min(time.Duration(attempt+1)*200*time.Millisecond, 2*time.Second)):
		}
	}
}

// keepAlive marks m in progress every interval until stop is called.
func keepAlive(m jetstream.Msg, interval time.Duration) (stop func()) {
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(max(interval, 100*time.Millisecond))
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				_ = m.InProgress()
			}
		}
	}()
	return func() { close(done) }
}
