package projector

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/readmodel"
)

// A transcript partition reads a split stream (internal/readmodel,
// split.go), whose sequences are its own: what it folds, its floor and its
// progress are in event-stream sequences, taken from each message's
// source header, and the consumer's ack floor and the stream's end are
// looked up the same way. This file is that translation; everything else
// in the runner is the same for every projection.

// errNoSource: a split stream's message without its event-stream
// sequence, which only a stream someone else made could hold.
var errNoSource = errors.New("a message of the split stream carries no event-stream sequence")

// eventAt returns where a received message stands in the event stream:
// its sequence and subject there.
func (r *runner) eventAt(m jetstream.Msg, meta *jetstream.MsgMetadata) (seq uint64, subject string, err error) {
	if !r.p.Split() {
		return meta.Sequence.Stream, m.Subject(), nil
	}
	seq, ok := readmodel.SourceSequence(m.Headers())
	subject, known := readmodel.EventSubject(m.Subject())
	if !ok || !known {
		return 0, "", fmt.Errorf("%s %d on %s: %w", r.p.Stream(r.cfg.Version), meta.Sequence.Stream, m.Subject(), errNoSource)
	}
	return seq, subject, nil
}

// eventSequence is the event-stream sequence of the message at seq of the
// projection's own stream (itself, unless split; 0 stays 0). A message
// the stream's leader does not hold yet (the consumer's leader can be
// ahead of it for a moment) answers 0: nothing is known to have moved.
func (r *runner) eventSequence(ctx context.Context, seq uint64) (uint64, error) {
	if !r.p.Split() || seq == 0 {
		return seq, nil
	}
	if seq == r.lastMapped.split {
		return r.lastMapped.event, nil
	}
	msg, err := r.leaderGet(ctx, map[string]any{"seq": seq})
	if err != nil || msg == nil {
		return 0, err
	}
	r.lastMapped.split, r.lastMapped.event = seq, msg.event
	return msg.event, nil
}

// splitMsg is what leaderGet reads of a split stream's message.
type splitMsg struct{ seq, event uint64 }

// leaderGet asks the split stream's leader for one message (by sequence,
// or next or last by subject: eventstore.LeaderGet) and reads its
// event-stream sequence; nil when there is none. keepPace and the floors
// rely on what the leader holds, not on a replica that may lag.
func (r *runner) leaderGet(ctx context.Context, req map[string]any) (*splitMsg, error) {
	stream := r.p.Stream(r.cfg.Version)
	msg, err := eventstore.LeaderGet(ctx, r.js.Conn(), stream, req)
	if err != nil || msg == nil {
		return nil, err
	}
	h, err := nats.DecodeHeadersMsg(msg.Headers)
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", stream, msg.Sequence, err)
	}
	event, ok := readmodel.SourceSequence(h)
	if !ok {
		return nil, fmt.Errorf("%s %d: %w", stream, msg.Sequence, errNoSource)
	}
	return &splitMsg{seq: msg.Sequence, event: event}, nil
}

// ackFloor is the consumer's ack floor: its delivery sequence, and the
// event-stream sequence up to which every event of the projection is acked.
func (r *runner) ackFloor(ctx context.Context, info *jetstream.ConsumerInfo) (delivery, event uint64, err error) {
	event, err = r.eventSequence(ctx, info.AckFloor.Stream)
	return info.AckFloor.Consumer, event, err
}

// consumeOptions are the pull options of the projection's consumption.
func (r *runner) consumeOptions(onErr jetstream.ConsumeErrHandler) []jetstream.PullConsumeOpt {
	return []jetstream.PullConsumeOpt{jetstream.PullPriorityGroup(readmodel.PriorityGroup),
		jetstream.PullMaxMessages(r.cfg.BatchSize), onErr}
}
