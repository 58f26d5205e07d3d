//go:build faults

package faults

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/history"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// attemptTimeout bounds one try of a command; opBudget bounds all tries
// of one operation before it is recorded as unknown.
const (
	attemptTimeout = 3 * time.Second
	opBudget       = 45 * time.Second
)

// workload is a set of sequential clients, each on its own thread, whose
// every command is recorded in a history.
type workload struct {
	nc      *nats.Conn
	js      jetstream.JetStream
	client  *client.Client
	project string
	rec     history.Recorder
	pub     history.Deliveries

	stop chan struct{}
	wg   sync.WaitGroup
}

func (w *workload) stopped() bool {
	select {
	case <-w.stop:
		return true
	default:
		return false
	}
}

// send sends cmd until it gets a definite answer, retrying transient
// failures under the same command id (the decider answers a retry of an
// applied command with the original reply).
func (w *workload) send(process int, thread string, cmd domain.Command) (history.Outcome, contract.CommandReply) {
	op := w.rec.Invoke(process, thread, cmd.CommandIdentity(), cmd.CommandType())
	deadline := time.Now().Add(opBudget)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
		reply, err := w.client.Send(ctx, cmd)
		cancel()
		var refused *client.Error
		switch {
		case err == nil:
			w.rec.Complete(op, history.OK, reply.Events, nil)
			return history.OK, reply
		case errors.As(err, &refused) && !refused.Transient():
			w.rec.Complete(op, history.Fail, nil, err)
			return history.Fail, reply
		case time.Now().After(deadline):
			w.rec.Complete(op, history.Unknown, nil, err)
			return history.Unknown, reply
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// commander plays turns by commands alone: StartTurn, then one
// IngestProviderEvent carrying a batch (several events appended
// atomically), again and again.
func (w *workload) commander(process int, thread string) {
	defer w.wg.Done()
	for n := 0; !w.stopped(); n++ {
		turn := uuid.NewString()
		switch outcome, _ := w.send(process, thread, domain.StartTurn{CommandID: uuid.NewString(), ThreadID: thread, TurnID: turn, Text: fmt.Sprintf("prompt %d", n)}); outcome {
		case history.Fail: // a turn is still active (an earlier unknown landed): end it
			w.send(process, thread, domain.InterruptTurn{CommandID: uuid.NewString(), ThreadID: thread})
			continue
		case history.Unknown:
			continue
		}
		var items []domain.ProviderEventBatchItem
		for k := range 3 {
			items = append(items, domain.ProviderEventBatchItem{ProviderEventID: fmt.Sprintf("%s-%d", turn, k),
				Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m-" + turn, Delta: fmt.Sprintf("word %d ", k)}}})
		}
		items = append(items, domain.ProviderEventBatchItem{ProviderEventID: turn + "-end",
			Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{StopReason: domain.StopEndTurn}}})
		w.send(process, thread, domain.IngestProviderEvent{CommandID: uuid.NewString(), ThreadID: thread, TurnID: turn, Events: items})
	}
}

// agent plays turns the way a coding agent does: the turn is started by
// command, the agent's output is published to the provider stream and
// reaches the thread through provider-ingest. Every publish is recorded
// with whether the stream acknowledged it.
func (w *workload) agent(process int, thread string) {
	defer w.wg.Done()
	var after uint64
	for n := 0; !w.stopped(); n++ {
		turn := uuid.NewString()
		outcome, _ := w.send(process, thread, domain.StartTurn{CommandID: uuid.NewString(), ThreadID: thread, TurnID: turn, Text: fmt.Sprintf("prompt %d", n)})
		if outcome != history.OK {
			time.Sleep(200 * time.Millisecond)
			if outcome == history.Fail {
				w.send(process, thread, domain.InterruptTurn{CommandID: uuid.NewString(), ThreadID: thread})
			}
			continue
		}
		for k := range 6 {
			var e domain.ProviderEvent = domain.TextDelta{MessageID: "a-" + turn, Delta: fmt.Sprintf("chunk %d ", k)}
			if k == 5 {
				e = domain.TurnComplete{StopReason: domain.StopEndTurn}
			}
			id := fmt.Sprintf("%s-%d", turn, k)
			w.pub.Add(thread, id, w.publish(thread, turn, id, e))
		}
		// The next turn can start once this one ended (through ingest).
		after = w.waitTurnEnd(thread, turn, after)
	}
}

// publish publishes one provider event until the stream acknowledges it
// or the budget runs out; the message id makes retries harmless.
func (w *workload) publish(thread, turn, id string, e domain.ProviderEvent) bool {
	body, err := domain.Marshal(domain.MessagePack, contract.ProviderMessage{TurnID: turn, ProviderEventID: id,
		Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
	if err != nil {
		panic(err)
	}
	m := &nats.Msg{Subject: contract.ProviderSubject(thread), Data: body, Header: nats.Header{}}
	m.Header.Set(contract.HeaderMsgID, thread+":"+id)
	m.Header.Set(contract.HeaderContentType, domain.MessagePack.ContentType())
	deadline := time.Now().Add(opBudget)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
		_, err := w.js.PublishMsg(ctx, m)
		cancel()
		if err == nil {
			return true
		}
		time.Sleep(100 * time.Millisecond)
	}
	return false
}

// waitTurnEnd reads the thread's events until turn has ended (or the
// budget runs out) and returns the last sequence read.
func (w *workload) waitTurnEnd(thread, turn string, after uint64) uint64 {
	store := eventstore.New(w.js)
	deadline := time.Now().Add(opBudget)
	for time.Now().Before(deadline) {
		ended := false
		ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
		last, err := store.Load(ctx, contract.ThreadFilter(thread), after, func(r eventstore.Record) error {
			switch e := r.Event.(type) {
			case domain.TurnCompleted:
				ended = ended || e.TurnID == turn
			case domain.TurnFailed:
				ended = ended || e.TurnID == turn
			case domain.TurnInterrupted:
				ended = ended || e.TurnID == turn
			}
			return nil
		})
		cancel()
		if err == nil {
			after = last
		}
		if ended {
			return after
		}
		time.Sleep(100 * time.Millisecond)
	}
	return after
}
