package decider_test

import (
	"context"
	"math"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/vmihailenco/msgpack/v5"
)

// TestInputRulesOverNATS: the codec's rules as a client meets them. An
// explicitly empty id is refused (two such thread.create make no thread),
// out-of-range integers and invalid UTF-8 are refused in MessagePack as in
// JSON, and JSON is recognised with media-type parameters or, without a
// Content-Type, by its opening brace, and answered in JSON.
func TestInputRulesOverNATS(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	p := must(t)(h.client(domain.JSON).Send(ctx, domain.CreateProject{Name: "a", Path: "/a"}))
	before := len(h.history(t))

	mp := func(v any) []byte {
		b, err := msgpack.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	usage := map[string]any{"thread_id": "t", "turn_id": "u", "provider_event_id": "p",
		"event": map[string]any{"type": "TurnComplete", "stop_reason": "end_turn",
			"usage": map[string]any{"input_tokens": uint64(math.MaxUint64), "output_tokens": 1}}}
	cases := []struct {
		name, subject, contentType string
		body                       []byte
		code                       domain.Code
		status                     int
	}{
		{"empty command_id", "peon.cmd.thread.create", domain.ContentTypeJSON,
			[]byte(`{"command_id":"","project_id":"` + p.ProjectID + `"}`), domain.CodeInvalidCommand, 400},
		{"empty command_id again", "peon.cmd.thread.create", domain.ContentTypeJSON,
			[]byte(`{"command_id":"","project_id":"` + p.ProjectID + `"}`), domain.CodeInvalidCommand, 400},
		{"empty thread_id, msgpack", "peon.cmd.thread.create", "",
			mp(map[string]any{"thread_id": "", "project_id": p.ProjectID}), domain.CodeInvalidCommand, 400},
		{"2^64-1 tokens, msgpack", "peon.cmd.provider.ingest", "", mp(usage), domain.CodeBadRequest, 400},
		{"invalid UTF-8, msgpack", "peon.cmd.project.rename", "",
			mp(map[string]any{"project_id": p.ProjectID, "name": "b\xff"}), domain.CodeInvalidCommand, 400},
		{"invalid UTF-8, JSON", "peon.cmd.project.rename", domain.ContentTypeJSON,
			[]byte("{\"project_id\":\"" + p.ProjectID + "\",\"name\":\"b\xff\"}"), domain.CodeInvalidCommand, 400},
		{"JSON with charset", "peon.cmd.thread.select", "application/json; charset=utf-8",
			[]byte(`{"thread_id":"*"}`), domain.CodeInvalidCommand, 400},
		{"JSON without a Content-Type", "peon.cmd.thread.select", "",
			[]byte(` {"thread_id":"nope"}`), domain.CodeThreadNotFound, 404},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			msg := &nats.Msg{Subject: c.subject, Data: c.body, Header: nats.Header{}}
			if c.contentType != "" {
				msg.Header.Set(contract.HeaderContentType, c.contentType)
			}
			resp, err := h.nc.RequestMsg(msg, 5e9)
			if err != nil {
				t.Fatal(err)
			}
			if got := resp.Header.Get(micro.ErrorCodeHeader); got != itoa(c.status) {
				t.Fatalf("status header %q, want %d (%s)", got, c.status, resp.Data)
			}
			wantCode(t, client.ReplyError(resp, domain.MessagePack), c.code, c.status)
			if body := c.body[0]; (body == '{' || body == ' ') != (resp.Header.Get(contract.HeaderContentType) == domain.ContentTypeJSON) {
				t.Fatalf("reply Content-Type %q to a %q body", resp.Header.Get(contract.HeaderContentType), c.body)
			}
		})
	}
	if n := len(h.history(t)) - before; n != 0 {
		t.Fatalf("refused input appended %d events", n)
	}

	// A JSON success reply to a JSON body without the header.
	resp, err := h.nc.Request("peon.cmd.project.rename", []byte(`{"project_id":"`+p.ProjectID+`","name":"b"}`), 5e9)
	if err != nil {
		t.Fatal(err)
	}
	var reply contract.CommandReply
	if resp.Header.Get(contract.HeaderContentType) != domain.ContentTypeJSON || client.ReplyError(resp, domain.JSON) != nil {
		t.Fatalf("reply %q %s", resp.Header.Get(contract.HeaderContentType), resp.Data)
	}
	if err := domain.Unmarshal(domain.JSON, resp.Data, &reply); err != nil || len(reply.Events) != 1 {
		t.Fatalf("reply %s: %v", resp.Data, err)
	}
}
