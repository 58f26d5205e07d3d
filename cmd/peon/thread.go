package main

import (
	"context"

	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// threadCmd: peon thread list | show ID | watch ID | diff ID [TURN] (also peon threads).
type threadCmd struct {
	List  threadListCmd  `cmd:"" default:"withargs" help:"List the threads."`
	Show  threadShowCmd  `cmd:"" help:"Show a thread: status, turns, transcript, tool calls, approvals."`
	Watch threadWatchCmd `cmd:"" help:"Show a thread, then follow its turn live until it ends."`
	Diff  threadDiffCmd  `cmd:"" help:"Show what a turn changed: its files with line counts, and the unified diff."`
}

type threadShowCmd struct {
	Client clientFlags `embed:""`
	ID     string      `arg:"" help:"the thread id"`
}

func (c *threadShowCmd) Run(ctx context.Context, env *environment) error {
	cl, nc, err := c.Client.dial("thread show", checkID("thread", c.ID))
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	t, msgs, err := threadSnapshot(ctx, cl, c.ID)
	if err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	if c.Client.JSON {
		return printJSON(env.stdout, map[string]any{"thread": t, "messages": msgs})
	}
	printThread(env.stdout, paint(env.colour(env.stdout)), t, msgs)
	return nil
}

// threadSnapshot reads a thread and its whole transcript, the transcript
// at least as recent as the thread record.
func threadSnapshot(ctx context.Context, cl *client.Client, id string) (*domain.ThreadState, []contract.MessageRecord, error) {
	var tr contract.ThreadReply
	if err := cl.Query(ctx, contract.ThreadGet{ThreadID: id}, &tr); err != nil {
		return nil, nil, err
	}
	var msgs []contract.MessageRecord
	for after := uint64(0); ; {
		var page contract.MessagesReply
		if err := cl.Query(ctx, contract.ThreadMessages{ThreadID: id, After: after, Limit: 1000, MinSequence: tr.Thread.Seq}, &page); err != nil {
			return nil, nil, err
		}
		msgs = append(msgs, page.Messages...)
		if page.Next == 0 {
			return tr.Thread, msgs, nil
		}
		after = page.Next
	}
}
