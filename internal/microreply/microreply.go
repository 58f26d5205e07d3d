// Package microreply writes Peon's replies on micro endpoints: success
// bodies in the request's encoding, and failures as the contract says
// (Nats-Service-Error-Code / Nats-Service-Error headers plus a body
// {"error": {"code", "message"}}). It is the one place where Go errors
// become reply codes.
//
// Replies are published on the connection to the request's reply subject,
// not through micro's Request.Respond/Error: services answer from their own
// goroutines after the micro handler has returned, and micro reads the
// request's error state at that moment for its statistics, so answering
// through the request would race with it. A Replier therefore keeps the
// per-endpoint counts itself (see Stats) and services publish them in their
// micro stats.
package microreply

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// ErrContention is returned by a writer whose optimistic-concurrency retries
// ran out; it replies 503 contention.
var ErrContention = errors.New("optimistic-concurrency retries exhausted")

// ErrTimeout is returned by a query whose min_sequence was not reached in
// time; it replies 504 timeout.
var ErrTimeout = errors.New("min_sequence not reached in time")

// ErrDeadlinePassed is returned for a command that arrived after the
// deadline its sender set (contract.HeaderDeadline); it replies 504 timeout.
var ErrDeadlinePassed = errors.New("the request's deadline passed before it was handled; nothing was done")

// ErrorCode translates an error into the contract's code and message. It
// is the one place where errors become reply codes.
func ErrorCode(err error) (domain.Code, string) {
	var de *domain.DeciderError
	switch {
	case errors.As(err, &de):
		return de.Code, de.Message
	case errors.Is(err, ErrContention):
		return contract.CodeContention, "too many concurrent writers on this aggregate; retry"
	case errors.Is(err, eventstore.ErrUnsettled):
		return contract.CodeUnavailable, "an earlier attempt of this command is still being stored; retry"
	case errors.Is(err, ErrTimeout):
		return contract.CodeTimeout, "the read model did not reach min_sequence in time"
	case errors.Is(err, ErrDeadlinePassed):
		return contract.CodeTimeout, ErrDeadlinePassed.Error()
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout),
		errors.Is(err, nats.ErrNoResponders), errors.Is(err, nats.ErrConnectionClosed),
		errors.Is(err, nats.ErrDisconnected), errors.Is(err, jetstream.ErrNoStreamResponse),
		errors.Is(err, jetstream.ErrStreamNotFound), errors.Is(err, nats.ErrConnectionReconnecting):
		return contract.CodeUnavailable, "JetStream is not available; retry"
	}
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && apiErr.Code == 503 {
		return contract.CodeUnavailable, "JetStream is not available; retry"
	}
	return contract.CodeInternal, "internal error"
}

// EndpointStats counts what one endpoint answered. Every request is counted
// once in Requests and once in exactly one of Replied, Errors, TooLarge,
// SendFailures or NoReplySubject.
type EndpointStats struct {
	Requests int64 `json:"requests"`
	// Replied counts success replies sent.
	Replied int64 `json:"replied"`
	// Errors counts failure replies sent (any code but reply_too_large).
	Errors int64 `json:"errors"`
	// TooLarge counts replies that would not fit in the connection's max
	// payload and were answered with reply_too_large instead.
	TooLarge int64 `json:"replies_too_large"`
	// SendFailures counts replies that could not be published at all.
	SendFailures int64 `json:"send_failures"`
	// NoReplySubject counts requests published without a reply subject:
	// nobody waits for an answer, so none is sent.
	NoReplySubject int64 `json:"no_reply_subject"`
	// LastSendError is the last publish error, for operators.
	LastSendError string `json:"last_send_error,omitempty"`
}

// counters are the live counts behind EndpointStats.
type counters struct {
	requests, replied, errors, tooLarge, sendFailures, noReply atomic.Int64
	lastSendError                                              atomic.Pointer[string]
}

// Replier answers the requests of one service's micro endpoints on the
// connection nc and counts the outcome per endpoint. It is safe for
// concurrent use by any number of goroutines.
type Replier struct {
	nc  *nats.Conn
	log *slog.Logger

	mu sync.Mutex
	// bySubject holds the counters of each endpoint, keyed by its subject
	// (Peon's endpoints have literal subjects, so a request's subject names
	// its endpoint).
	bySubject map[string]*counters
}

// New returns a Replier publishing on nc and logging to log.
func New(nc *nats.Conn, log *slog.Logger) *Replier {
	return &Replier{nc: nc, log: log, bySubject: map[string]*counters{}}
}

func (r *Replier) counters(subject string) *counters {
	r.mu.Lock()
	defer r.mu.Unlock()
	c, ok := r.bySubject[subject]
	if !ok {
		c = &counters{}
		r.bySubject[subject] = c
	}
	return c
}

// Stats returns the counts of the endpoint on subject.
func (r *Replier) Stats(subject string) EndpointStats {
	c := r.counters(subject)
	s := EndpointStats{
		Requests: c.requests.Load(), Replied: c.replied.Load(), Errors: c.errors.Load(),
		TooLarge: c.tooLarge.Load(), SendFailures: c.sendFailures.Load(), NoReplySubject: c.noReply.Load(),
	}
	if last := c.lastSendError.Load(); last != nil {
		s.LastSendError = *last
	}
	return s
}

// Request is what answering a request needs of it: its subject, which
// names the endpoint whose counts it adds to, and the reply subject. A
// micro.Request is one.
type Request interface {
	Subject() string
	Reply() string
}

// StatsHandler is a micro.StatsHandler reporting an endpoint's counts.
func (r *Replier) StatsHandler(e *micro.Endpoint) any { return r.Stats(e.Subject) }

// Respond answers req: a success reply (reply, encoded) or a failure reply
// (err), in the request's encoding enc. Internal and availability failures
// are logged with their detail; the reply says little. A reply larger than
// the connection's max payload is never dropped: the sender gets
// reply_too_large instead. Every publish error is logged and counted.
func (r *Replier) Respond(req Request, enc domain.Encoding, reply any, err error) {
	c := r.counters(req.Subject())
	c.requests.Add(1)
	if req.Reply() == "" {
		c.noReply.Add(1)
		return
	}
	if err == nil {
		body, merr := domain.Marshal(enc, reply)
		if merr == nil {
			serr := r.publish(req.Reply(), enc, body, nil)
			if serr == nil {
				c.replied.Add(1)
				return
			}
			if !errors.Is(serr, nats.ErrMaxPayload) {
				r.sendFailed(c, req, serr)
				return
			}
			err = domain.Errorf(contract.CodeReplyTooLarge,
				"the reply (%d bytes) exceeds the server's max payload (%d bytes); ask for less (a smaller limit)",
				len(body), r.nc.MaxPayload())
		} else {
			err = merr
		}
	}
	code, msg := ErrorCode(err)
	if code == contract.CodeInternal || code == contract.CodeUnavailable || code == contract.CodeReplyTooLarge {
		r.log.Error("request failed", "subject", req.Subject(), "code", code, "err", err)
	}
	if msg == "" {
		msg = string(code)
	}
	body, _ := domain.Marshal(enc, contract.ErrorBody{Error: contract.ErrorDetail{Code: string(code), Message: msg}})
	if serr := r.publish(req.Reply(), enc, body, &errorReply{code: code, message: msg}); serr != nil {
		r.sendFailed(c, req, serr)
		return
	}
	if code == contract.CodeReplyTooLarge {
		c.tooLarge.Add(1)
	} else {
		c.errors.Add(1)
	}
}

// errorReply is what a failure reply carries in its micro headers.
type errorReply struct {
	code    domain.Code
	message string
}

// publish sends one reply message with the contract's headers.
func (r *Replier) publish(subject string, enc domain.Encoding, body []byte, failure *errorReply) error {
	h := nats.Header{contract.HeaderContentType: []string{enc.ContentType()}}
	if failure != nil {
		h.Set(micro.ErrorCodeHeader, strconv.Itoa(contract.Status(failure.code)))
		h.Set(micro.ErrorHeader, failure.message)
	}
	return r.nc.PublishMsg(&nats.Msg{Subject: subject, Header: h, Data: body})
}

func (r *Replier) sendFailed(c *counters, req Request, err error) {
	c.sendFailures.Add(1)
	msg := err.Error()
	c.lastSendError.Store(&msg)
	r.log.Error("reply not sent", "subject", req.Subject(), "err", err)
}
