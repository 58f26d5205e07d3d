package decider_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// TestBadInputOverNATS sends what a broken or hostile client might send.
// Every case gets a typed error reply, nothing is appended, and the service
// keeps serving.
func TestBadInputOverNATS(t *testing.T) {
	h := start(t, 1, decider.Config{MaxBodyBytes: 64 << 10}, eventstore.DefaultStreamConfig())
	cases := []struct {
		name, subject, contentType string
		body                       []byte
		code                       domain.Code
		status                     int
	}{
		{"msgpack array bomb", "peon.cmd.project.create", "", []byte{0xdd, 0xff, 0xff, 0xff, 0xff}, domain.CodeBadRequest, 400},
		{"msgpack string bomb", "peon.cmd.project.create", "", []byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xdb, 0xff, 0xff, 0xff, 0xff}, domain.CodeBadRequest, 400},
		{"garbage", "peon.cmd.turn.start", "", []byte("\xc1\xc1\xc1"), domain.CodeBadRequest, 400},
		{"empty", "peon.cmd.turn.start", "", nil, domain.CodeBadRequest, 400},
		{"invalid json", "peon.cmd.turn.start", domain.ContentTypeJSON, []byte(`{"thread_id":`), domain.CodeBadRequest, 400},
		{"unknown field", "peon.cmd.thread.select", domain.ContentTypeJSON, []byte(`{"thread_id":"t","evil":true}`), domain.CodeBadRequest, 400},
		{"missing field", "peon.cmd.project.create", domain.ContentTypeJSON, []byte(`{"name":"n"}`), domain.CodeBadRequest, 400},
		{"type tag disagrees", "peon.cmd.thread.select", domain.ContentTypeJSON, []byte(`{"type":"StartTurn","thread_id":"t"}`), domain.CodeBadRequest, 400},
		{"unknown provider event", "peon.cmd.provider.ingest", domain.ContentTypeJSON,
			[]byte(`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"Telepathy"}}`), domain.CodeBadRequest, 400},
		{"too large", "peon.cmd.project.create", domain.ContentTypeJSON,
			[]byte(`{"name":"` + strings.Repeat("x", 70<<10) + `","path":"/x"}`), domain.CodePayloadTooLarge, 413},
		{"wildcard id", "peon.cmd.thread.select", domain.ContentTypeJSON, []byte(`{"thread_id":"*"}`), domain.CodeInvalidCommand, 400},
		{"subject-splitting id", "peon.cmd.turn.start", domain.ContentTypeJSON, []byte(`{"thread_id":"a.>","text":"x"}`), domain.CodeInvalidCommand, 400},
		{"relative path", "peon.cmd.project.create", domain.ContentTypeJSON, []byte(`{"name":"n","path":"rel"}`), domain.CodeInvalidCommand, 400},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := &nats.Msg{Subject: c.subject, Data: c.body, Header: nats.Header{}}
			if c.contentType == domain.ContentTypeJSON {
				msg.Header.Set(contract.HeaderContentType, c.contentType)
			}
			resp, err := h.nc.RequestMsg(msg, 5e9)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get(micro.ErrorCodeHeader); got != itoa(c.status) {
				t.Fatalf("status header %q, want %d (%s)", got, c.status, resp.Data)
			}
			wantCode(t, client.ReplyError(resp, domain.EncodingOf(c.contentType)), c.code, c.status)
		})
	}
	if n := len(h.history(t)); n != 0 {
		t.Fatalf("bad input appended %d events", n)
	}
	// Still serving.
	must(t)(h.client(domain.JSON).Send(context.Background(), domain.CreateProject{Name: "ok", Path: "/ok"}))
}

func itoa(n int) string { return strconv.Itoa(n) }

// TestRejectionsCarryContractCodes checks a few domain rejections over NATS:
// code, status, micro headers, and nothing appended.
func TestRejectionsCarryContractCodes(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.MessagePack)
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "a", Path: "/a"})).ProjectID
	th := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p})).ThreadID
	must(t)(c.Send(ctx, domain.StartTurn{ThreadID: th, Text: "go"}))
	before := len(h.history(t))

	_, err := c.Send(ctx, domain.CreateProject{Name: "b", Path: "/a/./"})
	wantCode(t, err, domain.CodeDuplicateProjectPath, 409)
	_, err = c.Send(ctx, domain.StartTurn{ThreadID: th, Text: "again"})
	wantCode(t, err, domain.CodeThreadBusy, 409)
	_, err = c.Send(ctx, domain.SelectThread{ThreadID: "nope"})
	wantCode(t, err, domain.CodeThreadNotFound, 404)
	_, err = c.Send(ctx, domain.DeleteProject{ProjectID: p})
	wantCode(t, err, domain.CodeProjectNotEmpty, 409)
	_, err = c.Send(ctx, domain.IngestProviderEvent{ThreadID: th, TurnID: "old", ProviderEventID: "x", Event: pe(domain.TextDelta{MessageID: "m", Delta: "d"})})
	wantCode(t, err, domain.CodeStaleProviderEvent, 409)
	if after := len(h.history(t)); after != before {
		t.Fatalf("rejections appended %d events", after-before)
	}
}

// TestLateRequestDoesNothing: a command that arrives after the deadline its
// sender set (a request held up in transit while the sender retried) is
// answered 504 timeout and appends nothing; the same command sent in time
// is applied, once, with a deadline header or without one.
func TestLateRequestDoesNothing(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	body := []byte(`{"command_id":"late-1","name":"late","path":"/late"}`)
	send := func(deadline string) (*nats.Msg, error) {
		msg := &nats.Msg{Subject: "peon.cmd.project.create", Data: body, Header: nats.Header{}}
		msg.Header.Set(contract.HeaderContentType, domain.ContentTypeJSON)
		if deadline != "" {
			msg.Header.Set(contract.HeaderDeadline, deadline)
		}
		return h.nc.RequestMsg(msg, 5e9)
	}
	resp, err := send(time.Now().Add(-time.Millisecond).UTC().Format(time.RFC3339Nano))
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, client.ReplyError(resp, domain.JSON), domain.Code(contract.CodeTimeout), 504)
	if n := len(h.history(t)); n != 0 {
		t.Fatalf("a late request appended %d events", n)
	}
	resp, err = send("not a time")
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, client.ReplyError(resp, domain.JSON), domain.CodeBadRequest, 400)

	// In time, through the client (which sends its context's deadline).
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	reply := must(t)(h.client(domain.JSON).SendRaw(ctx, "peon.cmd.project.create", body))
	if reply.Duplicate || len(reply.Events) != 1 {
		t.Fatalf("in time: %+v", reply)
	}
	resp, err = send("")
	if err != nil || client.ReplyError(resp, domain.JSON) != nil {
		t.Fatalf("without a deadline: %v %v", err, client.ReplyError(resp, domain.JSON))
	}
	if n := len(h.history(t)); n != 1 {
		t.Fatalf("%d events, want 1", n)
	}
}
