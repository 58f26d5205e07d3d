// Package microreply writes Peon's replies on micro endpoints: success
// bodies in the request's encoding, and failures as the contract says
// (Nats-Service-Error-Code / Nats-Service-Error headers plus a body
// {"error": {"code", "message"}}). It is the one place where Go errors
// become reply codes.
package microreply

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

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

// Respond writes a success reply (reply, encoded) or a failure reply (err)
// in the request's encoding. Internal and availability failures are logged
// with their detail; the reply says little.
func Respond(req micro.Request, enc domain.Encoding, reply any, err error, log *slog.Logger) {
	headers := micro.Headers{contract.HeaderContentType: []string{enc.ContentType()}}
	if err == nil {
		body, merr := domain.Marshal(enc, reply)
		if merr == nil {
			_ = req.Respond(body, micro.WithHeaders(headers))
			return
		}
		err = merr
	}
	code, msg := ErrorCode(err)
	if code == contract.CodeInternal || code == contract.CodeUnavailable {
		log.Error("command failed", "subject", req.Subject(), "code", code, "err", err)
	}
	if msg == "" {
		msg = string(code)
	}
	body, _ := domain.Marshal(enc, contract.ErrorBody{Error: contract.ErrorDetail{Code: string(code), Message: msg}})
	_ = req.Error(strconv.Itoa(contract.Status(code)), msg, body, micro.WithHeaders(headers))
}
