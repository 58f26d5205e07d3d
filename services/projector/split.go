package projector

import (
	"context"
	"encoding/json"
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

// leaderGet asks the split stream's leader for one message (req is a
// JetStream message-get request: by sequence, or next or last by
// subject); nil when there is none. It goes to the leader whatever the
// stream's settings (the client's GetMsg asks any replica once a stream
// allows direct gets, and a replica may lag): keepPace and the floors
// rely on what the leader holds.
func (r *runner) leaderGet(ctx context.Context, req map[string]any) (*splitMsg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	stream := r.p.Stream(r.cfg.Version)
	// While the stream elects a leader the API may leave a request
	// unanswered: bounded, so a quiet partition's keepPace or a floor read
	// fails and is tried again instead of waiting forever.
	ctx, cancel := context.WithTimeout(ctx, eventstore.LeaderRequestTimeout)
	defer cancel()
	reply, err := r.js.Conn().RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, body)
	if err != nil {
		return nil, fmt.Errorf("%s %v: %w", stream, req, err)
	}
	var resp struct {
		Message *struct {
			Seq     uint64 `json:"seq"`
			Headers []byte `json:"hdrs"`
		} `json:"message"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return nil, fmt.Errorf("%s %v: %w", stream, req, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, nil
	case resp.Error != nil:
		return nil, fmt.Errorf("%s %v: %w", stream, req, resp.Error)
	case resp.Message == nil:
		return nil, fmt.Errorf("%s %v: empty answer", stream, req)
	}
	h, err := nats.DecodeHeadersMsg(resp.Message.Headers)
	if err != nil {
		return nil, fmt.Errorf("%s %d: %w", stream, resp.Message.Seq, err)
	}
	event, ok := readmodel.SourceSequence(h)
	if !ok {
		return nil, fmt.Errorf("%s %d: %w", stream, resp.Message.Seq, errNoSource)
	}
	return &splitMsg{seq: resp.Message.Seq, event: event}, nil
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
