package gateway

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// ask sends a JSON request on subject as id and writes the reply through:
// the body as the service sent it (JSON, since the request was JSON), the
// status from the micro error header. The reply is not decoded and encoded
// again, so every field a service adds reaches the client.
func (s *Service) ask(w http.ResponseWriter, r *http.Request, id *Identity, subject string, body []byte) {
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.RequestTimeout)
	defer cancel()
	msg := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
	msg.Header.Set(contract.HeaderContentType, domain.ContentTypeJSON)
	if deadline, ok := ctx.Deadline(); ok {
		// The decider does nothing with a command it receives after this.
		msg.Header.Set(contract.HeaderDeadline, deadline.UTC().Format(time.RFC3339Nano))
	}
	resp, err := id.NC.RequestMsgWithContext(ctx, msg)
	if err != nil {
		code, message := transportError(err, subject)
		if code == contract.CodeInternal {
			s.log.Error("gateway request failed", "subject", subject, "err", err)
		}
		writeError(w, code, message)
		return
	}
	status := http.StatusOK
	if h := resp.Header.Get(micro.ErrorCodeHeader); h != "" {
		if n, err := strconv.Atoi(h); err == nil && n >= 400 && n < 600 {
			status = n
		} else {
			status = http.StatusBadGateway
		}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(resp.Data)
}

// transportError maps a failed NATS request to a contract code.
func transportError(err error, subject string) (domain.Code, string) {
	switch {
	case errors.Is(err, nats.ErrNoResponders):
		return contract.CodeUnavailable, fmt.Sprintf("no service answers %s; retry", subject)
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, nats.ErrTimeout):
		return contract.CodeTimeout, "no reply in time; a command may still have been applied — retry with the same command_id"
	case errors.Is(err, context.Canceled):
		return contract.CodeUnavailable, "the request was cancelled"
	case errors.Is(err, nats.ErrConnectionClosed), errors.Is(err, nats.ErrDisconnected), errors.Is(err, nats.ErrConnectionReconnecting):
		return contract.CodeUnavailable, "NATS is not reachable; retry"
	}
	return contract.CodeInternal, "internal error"
}
