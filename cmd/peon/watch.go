package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// threadWatchCmd shows a thread, then follows its events: text as it
// streams, tool calls, approvals (with the command that answers them),
// until the turn ends — the running one, or the next if none runs.
type threadWatchCmd struct {
	Client clientFlags `embed:""`
	ID     string      `arg:"" help:"the thread id"`
	Follow bool        `short:"f" help:"keep following after the turn ends, turn after turn, until interrupted"`
}

func (c *threadWatchCmd) Run(ctx context.Context, env *environment) error {
	cl, nc, err := c.Client.dial("thread watch", checkID("thread", c.ID))
	if err != nil {
		return err
	}
	defer nc.Close()
	qctx, cancel := context.WithTimeout(ctx, queryTimeout)
	t, msgs, err := threadSnapshot(qctx, cl, c.ID)
	cancel()
	if err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	// Follow from just after the thread record; text the transcript
	// already holds (a message's seq says how far) is not printed twice.
	cons, err := js.OrderedConsumer(ctx, contract.EventStream, jetstream.OrderedConsumerConfig{
		FilterSubjects: []string{contract.ThreadFilter(c.ID)},
		DeliverPolicy:  jetstream.DeliverByStartSequencePolicy, OptStartSeq: t.Seq + 1})
	if err != nil {
		return unavailableError{fmt.Errorf("follow %s: %w", contract.EventStream, err)}
	}
	it, err := cons.Messages()
	if err != nil {
		return unavailableError{err}
	}
	defer it.Stop()
	go func() { <-ctx.Done(); it.Stop() }()

	w := &watcher{w: env.stdout, p: paint(env.colour(env.stdout)), thread: c.ID, jsonOut: c.Client.JSON, seen: map[string]uint64{}}
	for _, m := range msgs {
		w.seen[m.MessageID] = m.Seq
	}
	if c.Client.JSON {
		if err := printJSONLine(env.stdout, map[string]any{"thread": t, "messages": msgs}); err != nil {
			return err
		}
	} else {
		printThread(env.stdout, w.p, t, msgs)
		what := "the next turn"
		if t.ActiveTurnID != "" {
			what = "turn " + t.ActiveTurnID
		}
		if c.Follow {
			what = "every turn"
		}
		fmt.Fprintf(env.stdout, "\n--- watching %s (Ctrl-C to stop) ---\n", what)
	}
	for {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
			w.endLine()
			return nil
		}
		if err != nil {
			return unavailableError{err}
		}
		meta, err := m.Metadata()
		if err != nil {
			continue
		}
		rec, err := eventstore.DecodeRecord(m.Subject(), meta.Sequence.Stream, meta.Timestamp, m.Headers(), m.Data())
		if err != nil {
			continue // not ours to judge here: events tail shows it
		}
		if ended := w.event(rec); ended && !c.Follow {
			w.endLine()
			return nil
		}
	}
}

// watcher prints a thread's events as they come.
type watcher struct {
	w       io.Writer
	p       paint
	thread  string
	jsonOut bool
	seen    map[string]uint64 // message id -> last sequence already printed
	open    string            // the message whose text is being streamed
}

// event prints one event; it reports whether a turn or the thread ended.
func (w *watcher) event(r eventstore.Record) (ended bool) {
	switch e := r.Event.(type) {
	case domain.MessageChunkReceived:
		w.text(r.Sequence, e.MessageID, domain.RoleAssistant, e.Delta)
		return false
	case domain.ThinkingChunkReceived:
		w.text(r.Sequence, domain.ThinkingMessageID(e.MessageID), domain.RoleThinking, e.Delta)
		return false
	case domain.MessageAppended: // starts a message; chunks may follow
		w.text(r.Sequence, e.MessageID, e.Role, e.Text)
		return false
	case domain.TurnStarted:
		if !w.jsonOut {
			w.line(w.p.dim("── turn " + e.TurnID + " started"))
		}
		w.text(r.Sequence, e.MessageID, domain.RoleUser, e.Text) // the prompt
		w.endLine()
		return false
	}
	if w.jsonOut {
		_ = printJSONLine(w.w, eventJSON(r))
		return turnEnded(r.Event)
	}
	p := w.p
	switch e := r.Event.(type) {
	case domain.MessageCompleted:
		if w.open == e.MessageID {
			w.endLine()
		}
	case domain.TurnCompleted:
		w.line(p.dim(fmt.Sprintf("── turn %s completed (%s) · %d in / %d out tokens", e.TurnID, e.StopReason, e.Usage.InputTokens, e.Usage.OutputTokens)))
	case domain.TurnFailed:
		w.line(p.red("── turn " + e.TurnID + " failed: " + e.Error))
	case domain.TurnInterrupted:
		w.line(p.yellow("── turn " + e.TurnID + " interrupted"))
	case domain.ToolCallStarted:
		w.line(fmt.Sprintf("  %s %s %s", p.yellow("▸ tool"), p.bold(e.Name), inputSummary(e.Input)))
	case domain.ToolCallCompleted:
		status := p.green("completed")
		if e.IsError {
			status = p.red("error")
		} else if e.Cancelled {
			status = "cancelled"
		}
		w.line("    → " + status)
		if out := firstLines(e.Output, 3); out != "" {
			w.line(indent(p.dim(out), "    "))
		}
	case domain.PendingActionRequested:
		w.endLine()
		printApproval(w.w, p, w.thread, &domain.PendingAction{RequestID: e.RequestID, TurnID: e.TurnID, ToolCallID: e.ToolCallID,
			Kind: e.Kind, Description: e.Description, Resolution: domain.ResolutionPending})
	case domain.PendingActionResolved:
		w.line(p.dim(fmt.Sprintf("  approval %s: request_id %s", e.Resolution, e.RequestID)))
	case domain.CheckpointCreated:
		w.line(p.dim("  checkpoint " + e.CheckpointID + " at " + e.Ref))
	case domain.ThreadStatusChanged:
		if e.LastError != "" {
			w.line(p.red("  status " + string(e.Status) + ": " + e.LastError))
		}
	case domain.ThreadDeleted:
		w.line(p.red("thread deleted"))
	}
	return turnEnded(r.Event)
}

func turnEnded(e domain.Event) bool {
	switch e.(type) {
	case domain.TurnCompleted, domain.TurnFailed, domain.TurnInterrupted, domain.ThreadDeleted:
		return true
	}
	return false
}

// text prints streamed text: a new message under its role's header, more
// of the open one as it comes. What the snapshot printed is skipped.
func (w *watcher) text(seq uint64, id string, role domain.Role, text string) {
	if seq <= w.seen[id] {
		return
	}
	_, known := w.seen[id]
	w.seen[id] = seq
	if w.jsonOut {
		_ = printJSONLine(w.w, map[string]any{"sequence": seq, "message_id": id, "role": role, "text": text})
		return
	}
	if w.open != id {
		w.endLine()
		resumed := ""
		if known {
			resumed = " …" // more of a message printed above
		}
		fmt.Fprintf(w.w, "\n%s%s\n", roleHeader(w.p, role), resumed)
		w.open = id
	}
	fmt.Fprint(w.w, roleText(w.p, role, text))
}

// line prints a line of its own, ending streamed text first.
func (w *watcher) line(s string) {
	w.endLine()
	fmt.Fprintln(w.w, s)
}

func (w *watcher) endLine() {
	if w.open != "" {
		fmt.Fprintln(w.w)
		w.open = ""
	}
}

// eventJSON is an event as events tail --json prints it.
func eventJSON(r eventstore.Record) map[string]any {
	return map[string]any{"sequence": r.Sequence, "stored_at": r.StoredAt, "subject": r.Subject,
		"type": r.Event.EventType(), "command_id": r.CommandID, "event": r.Event}
}

// printJSONLine writes v as one line of JSON.
func printJSONLine(w io.Writer, v any) error {
	var b strings.Builder
	if err := jsonEncoder(&b).Encode(v); err != nil {
		return err
	}
	_, err := io.WriteString(w, b.String())
	return err
}
