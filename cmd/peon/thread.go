package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// runThread: peon thread show ID | peon thread watch ID.
func runThread(ctx context.Context, env *environment, args []string) error {
	if len(args) < 1 || (args[0] != "show" && args[0] != "watch") {
		return usagef("peon thread show ID | peon thread watch ID")
	}
	verb := args[0]
	var asJSON bool
	c, nc, rest, closeConn, err := env.clientSetup("thread "+verb, args[1:], func(fs *flagSet) {
		if verb == "show" {
			fs.BoolVar(&asJSON, "json", false, "print JSON")
		}
	}, func(rest []string) error {
		if len(rest) != 1 || !domain.ValidID(rest[0]) {
			return usagef("peon thread %s ID: give one valid thread id", verb)
		}
		return nil
	})
	if err != nil {
		return err
	}
	defer closeConn()
	id := rest[0]
	var tr contract.ThreadReply
	if err := c.Query(ctx, contract.ThreadGet{ThreadID: id}, &tr); err != nil {
		return printReply(env.stdout, nil, err)
	}
	var msgs contract.MessagesReply
	if err := c.Query(ctx, contract.ThreadMessages{ThreadID: id, Limit: 1000}, &msgs); err != nil {
		return printReply(env.stdout, nil, err)
	}
	if asJSON {
		return printReply(env.stdout, map[string]any{"thread": tr.Thread, "messages": msgs.Messages}, nil)
	}
	printThread(env.stdout, tr.Thread, msgs.Messages)
	if verb == "show" {
		return nil
	}
	return watchThread(ctx, env.stdout, nc, id, msgs.Messages)
}

func printThread(w io.Writer, t *domain.ThreadState, msgs []contract.MessageRecord) {
	fmt.Fprintf(w, "thread %s  %q  project %s  model %s\n", t.ID, t.Title, t.ProjectID, t.Model)
	fmt.Fprintf(w, "status %s", t.Status)
	if t.LastError != "" {
		fmt.Fprintf(w, " (%s)", t.LastError)
	}
	fmt.Fprintf(w, "  turns %d  pending %d  checkpoints %d  git operations %d\n\n",
		len(t.Turns), countPending(t), len(t.Checkpoints), len(t.GitOperations))
	for _, m := range msgs {
		printMessage(w, m)
	}
}

func countPending(t *domain.ThreadState) int {
	n := 0
	for _, p := range t.PendingActions {
		if p.Resolution == domain.ResolutionPending {
			n++
		}
	}
	return n
}

func printMessage(w io.Writer, m contract.MessageRecord) {
	marker := ""
	if m.Streaming {
		marker = " …"
	}
	fmt.Fprintf(w, "[%s]%s\n%s\n\n", m.Role, marker, strings.TrimRight(m.Text, "\n"))
}

// watchThread follows the thread's transcript keys and prints text as it
// streams: new messages whole, growing ones by their new part.
func watchThread(ctx context.Context, w io.Writer, nc *nats.Conn, id string, seen []contract.MessageRecord) error {
	js, _ := jetstream.New(nc)
	version, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return unavailableError{err}
	}
	kv, err := js.KeyValue(ctx, readmodel.BucketsV(version).Messages)
	if err != nil {
		return unavailableError{err}
	}
	printed := map[string]int{}
	for _, m := range seen {
		printed[m.MessageID] = len(m.Text)
	}
	watcher, err := kv.Watch(ctx, id+".>", jetstream.UpdatesOnly())
	if err != nil {
		return unavailableError{err}
	}
	defer func() { _ = watcher.Stop() }()
	fmt.Fprintln(w, "--- watching (Ctrl-C to stop) ---")
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-watcher.Updates():
			if !ok {
				return nil
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			var m contract.MessageRecord
			if strings.Count(e.Key()[strings.LastIndexByte(e.Key(), '.')+1:], "/") > 0 && !strings.HasSuffix(e.Key(), "/thinking") {
				// A further text segment of a long message: print it as a
				// message of its own key, so growth is tracked per segment.
				var seg contract.MessageSegment
				if domain.Unmarshal(domain.MessagePack, e.Value(), &seg) != nil {
					continue
				}
				m = contract.MessageRecord{MessageID: e.Key(), Role: domain.RoleAssistant, Text: seg.Text, Streaming: true}
				if _, known := printed[m.MessageID]; !known {
					printed[m.MessageID] = 0 // continues the text above, no header
				}
			} else if domain.Unmarshal(domain.MessagePack, e.Value(), &m) != nil {
				continue
			}
			done, known := printed[m.MessageID]
			switch {
			case !known:
				fmt.Fprintf(w, "\n[%s]\n%s", m.Role, m.Text)
			case len(m.Text) > done:
				fmt.Fprint(w, m.Text[done:])
			}
			printed[m.MessageID] = len(m.Text)
			if !m.Streaming && known {
				fmt.Fprintln(w)
			}
		}
	}
}
