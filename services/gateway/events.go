package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Event streams are read from PEON_EVENTS with an ordered consumer (an
// ephemeral, flow-controlled push consumer the client library recreates
// from the last sequence it saw after any hiccup), so a stream is neither
// polled nor lossy. Each SSE message is one stored event:
//
//	id: <sequence>
//	event: <type>            (TurnStarted, MessageChunkReceived, ...)
//	data: {"sequence", "stored_at", "subject", "type", "event": {...}}
//
// A client that reconnects with Last-Event-ID gets every event after that
// sequence, once: the id is the stream sequence, which orders everything.

// allEvents serves GET /v1/events.
func (s *Service) allEvents(w http.ResponseWriter, r *http.Request) {
	s.stream(w, r, contract.EventSubjects)
}

// threadEvents serves GET /v1/threads/{thread_id}/events.
func (s *Service) threadEvents(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("thread_id")
	if !domain.ValidID(id) {
		writeError(w, domain.CodeInvalidCommand, fmt.Sprintf("thread_id %q is not a valid id", id))
		return
	}
	s.stream(w, r, contract.ThreadFilter(id))
}

// resumePoint reads where a stream starts: after the Last-Event-ID a
// reconnecting client sends, else after ?after=, else at the next event.
func resumePoint(r *http.Request) (after uint64, fromSeq bool, err error) {
	raw, name := r.Header.Get("Last-Event-ID"), "Last-Event-ID"
	if raw == "" {
		for k := range r.URL.Query() {
			if k != "after" {
				return 0, false, paramError{k, "not a parameter of this stream"}
			}
		}
		if !r.URL.Query().Has("after") {
			return 0, false, nil
		}
		raw, name = r.URL.Query().Get("after"), "after"
	}
	n, perr := strconv.ParseUint(raw, 10, 64)
	if perr != nil || n == math.MaxUint64 {
		return 0, false, paramError{name, "a sequence from 0 to 18446744073709551614"}
	}
	return n, true, nil
}

func (s *Service) stream(w http.ResponseWriter, r *http.Request, filter string) {
	id := s.identify(r)
	if id == nil {
		s.unauthorized(w)
		return
	}
	after, fromSeq, err := resumePoint(r)
	if err != nil {
		writeError(w, domain.CodeBadRequest, err.Error())
		return
	}
	flusher, ok := w.(http.Flusher)
	if !ok {
		writeError(w, contract.CodeInternal, "streaming is not supported by this connection")
		return
	}
	js, err := jetstream.New(id.NC)
	if err != nil {
		writeError(w, contract.CodeInternal, "internal error")
		return
	}
	cfg := jetstream.OrderedConsumerConfig{FilterSubjects: []string{filter}, DeliverPolicy: jetstream.DeliverNewPolicy}
	if fromSeq {
		cfg.DeliverPolicy, cfg.OptStartSeq = jetstream.DeliverByStartSequencePolicy, after+1
	}
	ctx := r.Context()
	setupCtx, cancel := context.WithTimeout(ctx, s.cfg.RequestTimeout)
	cons, err := js.OrderedConsumer(setupCtx, contract.EventStream, cfg)
	cancel()
	if err != nil {
		code, message := transportError(err, contract.EventStream)
		writeError(w, code, message)
		return
	}
	it, err := cons.Messages()
	if err != nil {
		code, message := transportError(err, contract.EventStream)
		writeError(w, code, message)
		return
	}
	defer it.Stop()
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("X-Accel-Buffering", "no") // proxies must not hold events back
	w.WriteHeader(http.StatusOK)
	_, _ = fmt.Fprint(w, ": peon events\n\n")
	flusher.Flush()

	msgs := make(chan jetstream.Msg, 64)
	go func() {
		defer close(msgs)
		for {
			m, err := it.Next()
			if err != nil {
				return // stopped, or the connection is gone
			}
			select {
			case msgs <- m:
			case <-ctx.Done():
				return
			}
		}
	}()
	heartbeat := time.NewTicker(s.cfg.Heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-s.stopping:
			return
		case <-heartbeat.C:
			if _, err := fmt.Fprint(w, ": keepalive\n\n"); err != nil {
				return
			}
			flusher.Flush()
		case m, ok := <-msgs:
			if !ok {
				return
			}
			if err := writeEvent(w, m); err != nil {
				return
			}
			// Flush only when nothing else is queued: a burst of chunks
			// leaves in one write.
			if len(msgs) == 0 {
				flusher.Flush()
			}
		}
	}
}

// writeEvent writes one stored event as an SSE message. An event this
// build cannot decode is sent as an "undecodable" message with its
// sequence, so the client's resume point still moves past it.
func writeEvent(w http.ResponseWriter, m jetstream.Msg) error {
	meta, err := m.Metadata()
	if err != nil {
		return err
	}
	seq := meta.Sequence.Stream
	rec, err := eventstore.DecodeRecord(m.Subject(), seq, meta.Timestamp, m.Headers(), m.Data())
	var kind string
	var data []byte
	if err != nil {
		kind = "undecodable"
		data, _ = json.Marshal(map[string]any{"sequence": seq, "subject": m.Subject(), "error": err.Error()})
	} else {
		kind = rec.Event.EventType()
		data, err = json.Marshal(contract.StoredEventJSON{Sequence: seq, StoredAt: rec.StoredAt, Subject: rec.Subject,
			Type: kind, Event: rec.Event})
		if err != nil {
			return err
		}
	}
	_, err = fmt.Fprintf(w, "id: %d\nevent: %s\ndata: %s\n\n", seq, kind, data)
	return err
}
