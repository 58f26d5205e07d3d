package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// runEvents: peon events tail [--since SEQ] [--thread ID] [--json] [--limit N].
func runEvents(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || args[0] != "tail" {
		return usagef("peon events tail [--since SEQ] [--thread ID] [--json]")
	}
	fs := newFlags("events tail")
	c := env.addConnFlags(fs)
	since := fs.Uint64("since", 0, "print events after this sequence (default: only new ones)")
	all := fs.Bool("all", false, "print the whole stream from the start")
	thread := fs.String("thread", "", "only this thread's events")
	asJSON := fs.Bool("json", false, "one JSON object per line")
	limit := fs.Int("limit", 0, "stop after this many events (0: follow until interrupted)")
	if err := parse(fs, args[1:], env.stderr); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if *thread != "" && !domain.ValidID(*thread) {
		return usagef("--thread %q is not a valid id", *thread)
	}
	nc, js, err := c.connectJS("events")
	if err != nil {
		return err
	}
	defer nc.Close()
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
	switch {
	case *since > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, *since+1
	case *all:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	if *thread != "" {
		cfg.FilterSubjects = []string{contract.ThreadFilter(*thread)}
	}
	cons, err := js.OrderedConsumer(ctx, contract.EventStream, cfg)
	if err != nil {
		return unavailableError{fmt.Errorf("follow %s: %w", contract.EventStream, err)}
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	go func() { <-ctx.Done(); it.Stop() }()
	for n := 0; *limit == 0 || n < *limit; n++ {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) {
			return nil
		}
		if err != nil {
			return err
		}
		meta, _ := m.Metadata()
		rec, err := eventstore.DecodeRecord(m.Subject(), meta.Sequence.Stream, meta.Timestamp, m.Headers(), m.Data())
		printEvent(env.stdout, rec, err, *asJSON)
	}
	it.Stop()
	return nil
}

func printEvent(w io.Writer, r eventstore.Record, err error, asJSON bool) {
	if err != nil {
		fmt.Fprintf(w, "#%d %s undecodable: %v\n", r.Sequence, r.Subject, err)
		return
	}
	if asJSON {
		line, _ := json.Marshal(map[string]any{"sequence": r.Sequence, "stored_at": r.StoredAt, "subject": r.Subject,
			"type": r.Event.EventType(), "command_id": r.CommandID, "event": r.Event})
		fmt.Fprintln(w, string(line))
		return
	}
	fmt.Fprintf(w, "#%-6d %s  %-22s %s\n", r.Sequence, r.StoredAt.Local().Format(time.TimeOnly), r.Event.EventType(), summary(r.Event))
}

// summary is a one-line description of an event for people.
func summary(e domain.Event) string {
	data, _ := json.Marshal(e)
	var fields map[string]any
	_ = json.Unmarshal(data, &fields)
	var parts []string
	for _, k := range []string{"project_id", "thread_id", "turn_id", "message_id", "status", "name", "path", "text", "delta", "request_id", "tool_call_id", "resolution", "stop_reason", "error"} {
		if v, ok := fields[k]; ok && v != "" {
			s := fmt.Sprint(v)
			if len(s) > 48 {
				s = s[:45] + "..."
			}
			parts = append(parts, k+"="+strings.ReplaceAll(s, "\n", `\n`))
		}
	}
	return strings.Join(parts, " ")
}
