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

// eventsCmd: peon events [tail].
type eventsCmd struct {
	Tail eventsTailCmd `cmd:"" default:"withargs" help:"Print the event stream, decoded, as it grows."`
}

type eventsTailCmd struct {
	Client clientFlags `embed:""`
	Since  uint64      `placeholder:"SEQ" help:"print the events after this sequence (default: only new ones)"`
	All    bool        `help:"print the whole stream from the start"`
	Thread string      `placeholder:"ID" help:"only this thread's events"`
	Limit  int         `help:"stop after this many events (0: follow until interrupted)"`
}

func (c *eventsTailCmd) Run(ctx context.Context, env *environment) error {
	var errs []error
	if c.Thread != "" {
		errs = append(errs, checkID("--thread", c.Thread))
	}
	if c.Limit < 0 {
		errs = append(errs, fmt.Errorf("--limit %d is negative", c.Limit))
	}
	_, nc, err := c.Client.dial("events", errs...)
	if err != nil {
		return err
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	stream, err := js.Stream(ctx, contract.EventStream)
	if err != nil {
		return unavailableError{fmt.Errorf("stream %s: %w", contract.EventStream, err)}
	}
	cfg := jetstream.OrderedConsumerConfig{DeliverPolicy: jetstream.DeliverNewPolicy}
	switch {
	case c.Since > 0:
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, c.Since+1
	case c.All:
		cfg.DeliverPolicy = jetstream.DeliverAllPolicy
	}
	if c.Thread != "" {
		// A thread exists once an event names it: refuse one that none
		// does, rather than wait for ever on a typo.
		filter := contract.ThreadFilter(c.Thread)
		if _, err := stream.GetLastMsgForSubject(ctx, filter); errors.Is(err, jetstream.ErrMsgNotFound) {
			fmt.Fprintf(env.stderr, "peon: thread_not_found: no thread %s: no event names it\n", c.Thread)
			return errSilent
		} else if err != nil {
			return unavailableError{err}
		}
		cfg.FilterSubjects = []string{filter}
	}
	cons, err := stream.OrderedConsumer(ctx, cfg)
	if err != nil {
		return unavailableError{fmt.Errorf("follow %s: %w", contract.EventStream, err)}
	}
	it, err := cons.Messages()
	if err != nil {
		return err
	}
	defer it.Stop()
	go func() { <-ctx.Done(); it.Stop() }()
	p := paint(env.colour(env.stdout))
	for n := 0; c.Limit == 0 || n < c.Limit; n++ {
		m, err := it.Next()
		if errors.Is(err, jetstream.ErrMsgIteratorClosed) || ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return unavailableError{err}
		}
		meta, err := m.Metadata()
		if err != nil {
			return err
		}
		rec, err := eventstore.DecodeRecord(m.Subject(), meta.Sequence.Stream, meta.Timestamp, m.Headers(), m.Data())
		printEvent(env.stdout, p, rec, err, c.Client.JSON)
	}
	return nil
}

func printEvent(w io.Writer, p paint, r eventstore.Record, err error, asJSON bool) {
	if err != nil {
		if asJSON {
			_ = printJSONLine(w, map[string]any{"sequence": r.Sequence, "subject": r.Subject, "error": err.Error()})
			return
		}
		fmt.Fprintf(w, "#%d %s %s: %v\n", r.Sequence, r.Subject, p.red("undecodable"), err)
		return
	}
	if asJSON {
		_ = printJSONLine(w, eventJSON(r))
		return
	}
	fmt.Fprintf(w, "%s %s  %s %s\n", p.dim(fmt.Sprintf("#%-6d", r.Sequence)), r.StoredAt.Local().Format(time.TimeOnly),
		p.bold(fmt.Sprintf("%-22s", r.Event.EventType())), summary(r.Event))
}

// summary is a one-line description of an event for people.
func summary(e domain.Event) string {
	data, _ := json.Marshal(e)
	var fields map[string]any
	_ = json.Unmarshal(data, &fields)
	var parts []string
	for _, k := range []string{"project_id", "thread_id", "turn_id", "message_id", "status", "name", "path", "text", "delta", "request_id", "tool_call_id", "resolution", "stop_reason", "error"} {
		if v, ok := fields[k]; ok && v != "" {
			parts = append(parts, k+"="+clip(fmt.Sprint(v), 48))
		}
	}
	return strings.Join(parts, " ")
}
