// Package client sends Peon commands over NATS and decodes the replies. The
// CLI, provider-ingest, the simulator and the tests use it; any NATS client
// in any language can do the same by following docs/contract.md.
package client

import (
	"context"
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
func (c *Client) Send(ctx context.Context, cmd domain.Command) (contract.CommandReply, error) {
	subject := contract.CommandSubject(cmd.CommandType())
	if subject == "" {
		return contract.CommandReply{}, fmt.Errorf("no subject for command %s", cmd.CommandType())
	}
	body, err := domain.EncodeCommand(cmd, c.enc)
	if err != nil {
		return contract.CommandReply{}, err
	}
	return c.SendRaw(ctx, subject, body)
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

// Query sends a query (peon.query.<name>) and decodes the reply into reply.
func (c *Client) Query(ctx context.Context, name string, req, reply any) error {
	body, err := domain.Marshal(c.enc, req)
	if err != nil {
		return err
	}
	msg := &nats.Msg{Subject: contract.QueryPrefix + "." + name, Data: body, Header: nats.Header{}}
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
