package decider

import (
	"context"
	"errors"
	"log/slog"
	"strconv"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// replyFor builds the success reply: the appended events and the id fields
// of the command as given or derived.
func replyFor(cmd domain.Command, events []contract.EventRef, duplicate bool) contract.CommandReply {
	r := contract.CommandReply{CommandID: cmd.CommandIdentity(), Events: events, Duplicate: duplicate}
	if r.Events == nil {
		r.Events = []contract.EventRef{}
	}
	if n := len(events); n > 0 {
		r.LastSequence = events[n-1].Sequence
	}
	switch c := cmd.(type) {
	case domain.CreateProject:
		r.ProjectID = c.ProjectID
	case domain.DeleteProject:
		r.ProjectID = c.ProjectID
	case domain.RenameProject:
		r.ProjectID = c.ProjectID
	case domain.CreateThread:
		r.ThreadID, r.ProjectID = c.ThreadID, c.ProjectID
	case domain.StartTurn:
		r.ThreadID, r.TurnID, r.MessageID = c.ThreadID, c.TurnID, c.MessageID
	case domain.InterruptTurn:
		r.ThreadID, r.TurnID = c.ThreadID, c.TurnID
	case domain.ApprovePendingAction:
		r.ThreadID, r.RequestID = c.ThreadID, c.RequestID
	case domain.RejectPendingAction:
		r.ThreadID, r.RequestID = c.ThreadID, c.RequestID
	case domain.IngestProviderEvent:
		r.ThreadID, r.TurnID = c.ThreadID, c.TurnID
	case domain.CreateCheckpoint:
		r.ThreadID, r.CheckpointID, r.TurnID = c.ThreadID, c.CheckpointID, c.TurnID
	case domain.RestoreCheckpoint:
		r.ThreadID, r.CheckpointID = c.ThreadID, c.CheckpointID
	case domain.CommitChanges:
		r.ThreadID, r.OperationID = c.ThreadID, c.OperationID
	case domain.CreateBranch:
		r.ThreadID, r.OperationID = c.ThreadID, c.OperationID
	case domain.PushBranch:
		r.ThreadID, r.OperationID = c.ThreadID, c.OperationID
	default:
		if t := threadOf(cmd); t != "" {
			r.ThreadID = t
		}
	}
	return r
}

// errorReply translates an error into the contract's code and message. It
// is the one place where errors become reply codes.
func errorReply(err error) (domain.Code, string) {
	var de *domain.DeciderError
	switch {
	case errors.As(err, &de):
		return de.Code, de.Message
	case errors.Is(err, ErrContention):
		return contract.CodeContention, "too many concurrent writers on this aggregate; retry"
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

// respond writes a success or failure reply in the request's encoding.
func respond(req micro.Request, enc domain.Encoding, reply contract.CommandReply, err error, log *slog.Logger) {
	headers := micro.Headers{contract.HeaderContentType: []string{enc.ContentType()}}
	if err == nil {
		body, merr := domain.Marshal(enc, reply)
		if merr == nil {
			_ = req.Respond(body, micro.WithHeaders(headers))
			return
		}
		err = merr
	}
	code, msg := errorReply(err)
	if code == contract.CodeInternal || code == contract.CodeUnavailable {
		log.Error("command failed", "subject", req.Subject(), "code", code, "err", err)
	}
	if msg == "" {
		msg = string(code)
	}
	body, _ := domain.Marshal(enc, contract.ErrorBody{Error: contract.ErrorDetail{Code: string(code), Message: msg}})
	_ = req.Error(strconv.Itoa(contract.Status(code)), msg, body, micro.WithHeaders(headers))
}
