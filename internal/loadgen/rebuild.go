package loadgen

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

// FillStream appends n events of plausible traffic straight to the event
// stream (as the decider would write them, without deciding): threads
// threads streaming turns of text chunks. It is how the rebuild benchmark
// gets a large stream quickly.
func FillStream(ctx context.Context, js jetstream.JetStream, n, threads int) error {
	project := fmt.Sprintf("fill%d", time.Now().UnixNano())
	publish := func(i int, subject string, e domain.Event) error {
		data, err := domain.EncodeEvent(e, domain.MessagePack)
		if err != nil {
			return err
		}
		m := &nats.Msg{Subject: subject, Data: data, Header: nats.Header{}}
		m.Header.Set(contract.HeaderEventType, e.EventType())
		m.Header.Set(contract.HeaderCommandID, "fill-"+strconv.Itoa(i))
		m.Header.Set(contract.HeaderContentType, domain.ContentTypeMessagePack)
		return inWindow(ctx, js, func() error {
			_, err := js.PublishMsgAsync(m)
			return err
		})
	}
	written := 0
	emit := func(subject string, e domain.Event) error {
		if written >= n {
			return nil
		}
		written++
		return publish(written, subject, e)
	}
	if err := emit(contract.ProjectSubject(project), domain.ProjectCreated{ProjectID: project, Name: "fill", Path: "/fill/" + project}); err != nil {
		return err
	}
	subjects := make([]string, threads)
	for i := range threads {
		id := fmt.Sprintf("t%d", i)
		subjects[i] = contract.ThreadSubject(project, id)
		if err := emit(subjects[i], domain.ThreadCreated{ThreadID: id, ProjectID: project}); err != nil {
			return err
		}
	}
	for turn := 0; written < n; turn++ {
		for i := 0; i < threads && written < n; i++ {
			th, tu, msg := fmt.Sprintf("t%d", i), fmt.Sprintf("u%d", turn), fmt.Sprintf("m%d", turn)
			seq := []domain.Event{
				domain.TurnStarted{ThreadID: th, TurnID: tu, MessageID: msg + "p", Text: "go"},
				domain.ThreadStatusChanged{ThreadID: th, Status: domain.StatusRunning},
				domain.MessageAppended{ThreadID: th, TurnID: tu, MessageID: msg, Role: domain.RoleAssistant, Text: "Sure"},
			}
			for range 20 {
				seq = append(seq, domain.MessageChunkReceived{ThreadID: th, TurnID: tu, MessageID: msg, Delta: " more tokens"})
			}
			seq = append(seq, domain.MessageCompleted{ThreadID: th, MessageID: msg},
				domain.TurnCompleted{ThreadID: th, TurnID: tu, StopReason: "end_turn"},
				domain.ThreadStatusChanged{ThreadID: th, Status: domain.StatusIdle})
			for _, e := range seq {
				if err := emit(subjects[i], e); err != nil {
					return err
				}
			}
		}
	}
	select {
	case <-js.PublishAsyncComplete():
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Rebuild measures a projection rebuild of the whole event stream into a
// fresh read-model version, beside an ordered read of the same stream.
func Rebuild(ctx context.Context, js jetstream.JetStream, log *slog.Logger, r *Report, progress func(done, total uint64)) error {
	last, err := streamLast(ctx, js, contract.EventStream)
	if err != nil {
		return err
	}
	start := time.Now()
	if err := orderedRead(ctx, js, contract.EventStream, last); err != nil {
		return err
	}
	r.Add(Figure{Name: "raw.ordered_read_events", Value: float64(last) / time.Since(start).Seconds(), Unit: "msgs/s"})
	v, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return err
	}
	start = time.Now()
	if err := projector.Rebuild(ctx, js, log, v+1, last, 0, func(f uint64) { progress(f, last) }); err != nil {
		return err
	}
	r.Add(Figure{Name: "rebuild.events", Value: float64(last) / time.Since(start).Seconds(), Unit: "events/s"})
	return nil
}
