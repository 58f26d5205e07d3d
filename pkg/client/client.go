// Package client sends Peon commands over NATS and decodes the replies. The
// CLI, provider-ingest, the simulator and the tests use it; any NATS client
// in any language can do the same by following docs/contract.md.
package client

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Client sends commands.
type Client struct {
	nc  *nats.Conn
	enc domain.Encoding
}

// New returns a client that encodes requests with enc.
func New(nc *nats.Conn, enc domain.Encoding) *Client { return &Client{nc: nc, enc: enc} }

// Error is a failure reply: the contract's code, status and message.
type Error struct {
	Code    domain.Code
	Status  int
	Message string
}

func (e *Error) Error() string { return fmt.Sprintf("%s (%d): %s", e.Code, e.Status, e.Message) }

// Is matches a *domain.DeciderError with the same code, so callers write
// errors.Is(err, domain.ErrThreadBusy) on replies too.
func (e *Error) Is(target error) bool {
	switch t := target.(type) {
	case *domain.DeciderError:
		return t.Code == e.Code
	case *Error:
		return t.Code == e.Code
	}
	return false
}

// Transient reports whether retrying the same command later may succeed.
func (e *Error) Transient() bool { return contract.Transient(e.Status) }

// Send sends a command and waits for its reply. A failure reply is an
// *Error; transport failures are returned as they are.
//
// The command goes to its aggregate's partition (contract.RoutingKey), so
// that the decider instance holding the aggregate warm decides it; when no
// instance serves that partition at the moment, the server says so at once
// and the command is sent again on its plain subject, which every instance
// serves (the first request reached no one, so this is no retry).
func (c *Client) Send(ctx context.Context, cmd domain.Command) (contract.CommandReply, error) {
	spec, ok := domain.CommandSpecOf(cmd.CommandType())
	if !ok {
		return contract.CommandReply{}, fmt.Errorf("no subject for command %s", cmd.CommandType())
	}
	body, err := domain.EncodeCommand(cmd, c.enc)
	if err != nil {
		return contract.CommandReply{}, err
	}
	if key := contract.RoutingKey(cmd); key != "" {
		reply, err := c.SendRaw(ctx, contract.RoutedCommandSubject(spec.Endpoint, key), body)
		if !errors.Is(err, nats.ErrNoResponders) {
			return reply, err
		}
	}
	return c.SendRaw(ctx, contract.CommandPrefix+"."+spec.Endpoint, body)
}

// SendRaw sends an encoded command body to a subject.
func (c *Client) SendRaw(ctx context.Context, subject string, body []byte) (contract.CommandReply, error) {
	msg := &nats.Msg{Subject: subject, Data: body, Header: nats.Header{}}
	msg.Header.Set(contract.HeaderContentType, c.enc.ContentType())
	if deadline, ok := ctx.Deadline(); ok {
		msg.Header.Set(contract.HeaderDeadline, deadline.UTC().Format(time.RFC3339Nano))
	}
	resp, err := c.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		return contract.CommandReply{}, fmt.Errorf("request %s: %w", subject, err)
	}
	if err := ReplyError(resp, c.enc); err != nil {
		return contract.CommandReply{}, err
	}
	var reply contract.CommandReply
	if err := domain.Unmarshal(domain.EncodingOf(resp.Header.Get(contract.HeaderContentType)), resp.Data, &reply); err != nil {
		return contract.CommandReply{}, fmt.Errorf("decode reply from %s: %w", subject, err)
	}
	return reply, nil
}

// ReplyError returns the *Error a reply carries, or nil for a success.
func ReplyError(resp *nats.Msg, enc domain.Encoding) error {
	status := resp.Header.Get(micro.ErrorCodeHeader)
	if status == "" {
		return nil
	}
	e := &Error{Message: resp.Header.Get(micro.ErrorHeader)}
	e.Status, _ = strconv.Atoi(status)
	var body contract.ErrorBody
	if err := domain.Unmarshal(domain.EncodingOf(resp.Header.Get(contract.HeaderContentType)), resp.Data, &body); err == nil {
		e.Code, e.Message = domain.Code(body.Error.Code), body.Error.Message
	}
	return e
}

// Query sends a query request (peon.query.<q.QueryName()>) and decodes the
// reply into reply. The typed methods below (Project, Thread, Messages, ...)
// are the usual way in.
func (c *Client) Query(ctx context.Context, q contract.Query, reply any) error {
	return c.QueryRaw(ctx, q.QueryName(), q, reply)
}

// QueryRaw sends any body as the query name: for requests the typed
// methods cannot express, such as a test of malformed input.
func (c *Client) QueryRaw(ctx context.Context, name string, body, reply any) error {
	data, err := domain.Marshal(c.enc, body)
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: contract.QuerySubject(name), Data: data, Header: nats.Header{}}
	msg.Header.Set(contract.HeaderContentType, c.enc.ContentType())
	resp, err := c.nc.RequestMsgWithContext(ctx, msg)
	if err != nil {
		return fmt.Errorf("query %s: %w", name, err)
	}
	if err := ReplyError(resp, c.enc); err != nil {
		return err
	}
	return domain.Unmarshal(domain.EncodingOf(resp.Header.Get(contract.HeaderContentType)), resp.Data, reply)
}

// Project returns one project (project.get).
func (c *Client) Project(ctx context.Context, q contract.ProjectGet) (*domain.ProjectState, error) {
	var r contract.ProjectReply
	return r.Project, c.Query(ctx, q, &r)
}

// Projects returns every project after q.After (project.list), asking
// page after page: a reply holds what fits in one message.
func (c *Client) Projects(ctx context.Context, q contract.ProjectList) ([]*domain.ProjectState, error) {
	var out []*domain.ProjectState
	for {
		var r contract.ProjectsReply
		if err := c.Query(ctx, q, &r); err != nil {
			return out, err
		}
		out = append(out, r.Projects...)
		if r.Next == "" {
			return out, nil
		}
		q.After = r.Next
	}
}

// Thread returns one thread's record (thread.get).
func (c *Client) Thread(ctx context.Context, q contract.ThreadGet) (*domain.ThreadState, error) {
	var r contract.ThreadReply
	return r.Thread, c.Query(ctx, q, &r)
}

// Threads returns the threads of a project, or all, after q.After
// (thread.list), asking page after page.
func (c *Client) Threads(ctx context.Context, q contract.ThreadList) ([]*domain.ThreadState, error) {
	var out []*domain.ThreadState
	for {
		var r contract.ThreadsReply
		if err := c.Query(ctx, q, &r); err != nil {
			return out, err
		}
		out = append(out, r.Threads...)
		if r.Next == "" {
			return out, nil
		}
		q.After = r.Next
	}
}

// Messages returns a page of a thread's transcript (thread.messages);
// the next page is After: reply.Next, TextOffset: reply.NextTextOffset,
// and there is one unless both are 0. The last message of a page can be
// a part of its text (TextLength set: see contract.MessagesReply).
func (c *Client) Messages(ctx context.Context, q contract.ThreadMessages) (contract.MessagesReply, error) {
	var r contract.MessagesReply
	return r, c.Query(ctx, q, &r)
}

// Events returns a page of stored events (events.since).
func (c *Client) Events(ctx context.Context, q contract.EventsSince) (contract.EventsReply, error) {
	var r contract.EventsReply
	return r, c.Query(ctx, q, &r)
}

// Status returns how far each projection has folded (status).
func (c *Client) Status(ctx context.Context, q contract.StatusQuery) (contract.StatusReply, error) {
	var r contract.StatusReply
	return r, c.Query(ctx, q, &r)
}

// TurnDiff returns the files a turn changed and their unified diff
// (turn.diff).
func (c *Client) TurnDiff(ctx context.Context, q contract.TurnDiff) (contract.TurnDiffReply, error) {
	var r contract.TurnDiffReply
	return r, c.Query(ctx, q, &r)
}
