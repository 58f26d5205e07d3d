// Package handover lets a pinned consumer instance step down cleanly: it
// gives back what it had not processed, in stream order, waits until the
// server has taken it back, then releases the pin so a standby takes over
// at once — and receives the given-back messages before anything newer, so
// per-key order survives the switch.
package handover

import (
	"context"
	"sort"
	"sync"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Returns collects messages to give back, from any goroutine.
type Returns struct {
	mu   sync.Mutex
	msgs []jetstream.Msg
}

// Add records messages to give back.
func (r *Returns) Add(msgs ...jetstream.Msg) {
	r.mu.Lock()
	r.msgs = append(r.msgs, msgs...)
	r.mu.Unlock()
}

// GiveBack naks the collected messages in stream order. The last nak is a
// request: the server answers it after processing every nak before it (acks
// of a consumer are processed in order), so when GiveBack returns the
// messages are queued for redelivery.
func (r *Returns) GiveBack(ctx context.Context, nc *nats.Conn) error {
	r.mu.Lock()
	msgs := r.msgs
	r.msgs = nil
	r.mu.Unlock()
	if len(msgs) == 0 {
		return nil
	}
	sort.Slice(msgs, func(i, j int) bool { return seq(msgs[i]) < seq(msgs[j]) })
	for _, m := range msgs[:len(msgs)-1] {
		_ = m.Nak()
	}
	_, err := nc.RequestWithContext(ctx, msgs[len(msgs)-1].Reply(), []byte("-NAK"))
	return err
}

func seq(m jetstream.Msg) uint64 {
	meta, err := m.Metadata()
	if err != nil {
		return 0
	}
	return meta.Sequence.Stream
}

// Unpin releases the pin of consumer's priority group. Call it only from
// the instance that holds the pin (one that has received messages): an
// instance that is not pinned would take the pin from one that is.
func Unpin(ctx context.Context, js jetstream.JetStream, stream, consumer, group string) error {
	s, err := js.Stream(ctx, stream)
	if err != nil {
		return err
	}
	return s.UnpinConsumer(ctx, consumer, group)
}
