package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// threadDiffCmd: peon thread diff ID [TURN] — what a turn changed, as the
// host checkpointed it: the files with their line counts, then the
// unified diff.
type threadDiffCmd struct {
	Client clientFlags `embed:""`
	ID     string      `arg:"" help:"the thread id"`
	Turn   string      `arg:"" optional:"" help:"the turn id (default: the thread's last checkpointed turn)"`
}

func (c *threadDiffCmd) Run(ctx context.Context, env *environment) error {
	problem := checkID("thread", c.ID)
	if problem == nil && c.Turn != "" {
		problem = checkID("turn", c.Turn)
	}
	cl, nc, err := c.Client.dial("thread diff", problem)
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	turn := c.Turn
	if turn == "" {
		if turn, err = lastCheckpointedTurn(ctx, cl, c.ID); err != nil {
			return queryFailed(env, err, c.Client.JSON)
		}
	}
	d, err := cl.TurnDiff(ctx, contract.TurnDiff{ThreadID: c.ID, TurnID: turn})
	if err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	if c.Client.JSON {
		return printJSON(env.stdout, d)
	}
	printTurnDiff(env.stdout, d)
	return nil
}

// lastCheckpointedTurn is the turn of the thread's last checkpoint.
func lastCheckpointedTurn(ctx context.Context, cl *client.Client, threadID string) (string, error) {
	t, err := cl.Thread(ctx, contract.ThreadGet{ThreadID: threadID})
	if err != nil {
		return "", err
	}
	if len(t.Checkpoints) == 0 {
		return "", &client.Error{Code: domain.CodeTurnNotFound, Status: contract.Status(domain.CodeTurnNotFound),
			Message: fmt.Sprintf("thread %s has no checkpointed turn yet", threadID)}
	}
	return t.Checkpoints[len(t.Checkpoints)-1].TurnID, nil
}

// printTurnDiff prints the file summary, then the diff.
func printTurnDiff(w io.Writer, d contract.TurnDiffReply) {
	var add, del int64
	for _, f := range d.Files {
		add, del = add+f.Additions, del+f.Deletions
	}
	total := max(d.FilesTotal, len(d.Files))
	fmt.Fprintf(w, "turn %s: %d file(s) changed, +%d -%d\n", d.TurnID, total, add, del)
	for _, f := range d.Files {
		name := f.Path
		if f.Kind == domain.FileRenamed {
			name = f.OldPath + " -> " + f.Path
		}
		counts := fmt.Sprintf("+%d -%d", f.Additions, f.Deletions)
		if f.Binary {
			counts = "binary"
		}
		fmt.Fprintf(w, "  %-8s  %-12s  %s\n", f.Kind, counts, name)
	}
	if total > len(d.Files) {
		fmt.Fprintf(w, "  … and %d more file(s), not listed (the line counts above are of the listed ones)\n", total-len(d.Files))
	}
	if d.Diff != "" {
		fmt.Fprintf(w, "\n%s", d.Diff)
	}
	if d.Truncated {
		fmt.Fprintln(w, "[diff truncated at the host's size limit]")
	}
}

// printCheckpoint prints the line of a turn's checkpoint, if it has one.
func printCheckpoint(w io.Writer, p paint, t *domain.ThreadState, turnID string) {
	for _, c := range t.Checkpoints {
		if c.TurnID != turnID {
			continue
		}
		var add, del int64
		for _, f := range c.Files {
			add, del = add+f.Additions, del+f.Deletions
		}
		fmt.Fprintln(w, p.dim(fmt.Sprintf("  checkpoint %s (commit %s) · %d file(s), +%d -%d · peon thread diff %s %s",
			c.ID, shortSHA(c.Commit), len(c.Files), add, del, t.ID, turnID)))
	}
}

// printGitOperations prints each git operation of the thread with its
// outcome: the sha it left, or git's message when it failed.
func printGitOperations(w io.Writer, p paint, t *domain.ThreadState) {
	if len(t.GitOperations) == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", p.bold("git operations"))
	for _, op := range t.GitOperations {
		what := string(op.Kind)
		switch op.Kind {
		case domain.GitCommit:
			what += fmt.Sprintf(" %q", firstLineOf(op.Message))
		case domain.GitBranch:
			what += " " + op.Branch
			if op.Base != "" {
				what += " from " + op.Base
			}
		case domain.GitPush:
			what += " " + op.Branch + " to " + op.Remote
		case domain.GitRestore:
			what += " to checkpoint " + op.CheckpointID
		}
		switch op.Status {
		case domain.GitStatusCompleted:
			fmt.Fprintf(w, "  %s  %s %s\n", what, p.green(op.Status), shortSHA(op.SHA))
		case domain.GitStatusFailed:
			// git's message may span lines: they stay under the operation.
			msg := strings.ReplaceAll(strings.TrimSpace(op.Error), "\n", "\n      ")
			fmt.Fprintf(w, "  %s  %s: %s\n", what, p.red(op.Status), msg)
		default:
			fmt.Fprintf(w, "  %s  %s\n", what, p.yellow(op.Status))
		}
	}
}

// shortSHA is a commit's abbreviated id, as git prints it.
func shortSHA(sha string) string { return sha[:min(len(sha), 12)] }

func firstLineOf(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
