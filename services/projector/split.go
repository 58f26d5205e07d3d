package projector

import (
	"context"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
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
// projection's own stream (itself, unless split; 0 stays 0).
func (r *runner) eventSequence(ctx context.Context, seq uint64) (uint64, error) {
	if !r.p.Split() || seq == 0 {
		return seq, nil
	}
	if seq == r.lastMapped.split {
		return r.lastMapped.event, nil
	}
	stream, err := r.ownStream(ctx)
	if err != nil {
		return 0, err
	}
	msg, err := stream.GetMsg(ctx, seq) // from the leader: the message is there
	if err != nil {
		return 0, fmt.Errorf("%s %d: %w", r.p.Stream(r.cfg.Version), seq, err)
	}
	event, ok := readmodel.SourceSequence(msg.Header)
	if !ok {
		return 0, fmt.Errorf("%s %d: %w", r.p.Stream(r.cfg.Version), seq, errNoSource)
	}
	r.lastMapped.split, r.lastMapped.event = seq, event
	return event, nil
}

// ownStream is the handle of the stream the projection's consumer reads.
func (r *runner) ownStream(ctx context.Context) (jetstream.Stream, error) {
	if r.own == nil {
		s, err := r.js.Stream(ctx, r.p.Stream(r.cfg.Version))
		if err != nil {
			return nil, err
		}
		r.own = s
	}
	return r.own, nil
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
