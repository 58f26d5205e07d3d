package query_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

func startStack(t *testing.T) *peontest.Stack {
	t.Helper()
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.WaitServing(t)
	return s
}

func pe(p domain.ProviderEvent) *domain.ProviderEventEnvelope {
	return &domain.ProviderEventEnvelope{ProviderEvent: p}
}

func wantCode(t *testing.T, err error, code domain.Code) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Fatalf("err = %v, want %s", err, code)
	}
}

// TestPoisonEventIsAnsweredNotFatal stores a message that is no event
// (anyone allowed to publish on peon.evt.> can) and pages over it:
// events.since answers it as undecodable, in both encodings, the query
// instance keeps answering, and the projector parks it and folds on.
func TestPoisonEventIsAnsweredNotFatal(t *testing.T) {
	s := startStack(t)
	before := s.Send(t, domain.CreateProject{Name: "before", Path: "/before"}).LastSequence
	ack, err := s.JS.Publish(t.Context(), "peon.evt.x.y", []byte("garbage"))
	if err != nil {
		t.Fatal(err)
	}
	after := s.Send(t, domain.CreateProject{Name: "after", Path: "/after"})

	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		c := client.New(s.NC, enc)
		reply, err := c.Events(t.Context(), contract.EventsSince{AfterSequence: before - 1})
		if err != nil {
			t.Fatalf("%v: events.since over a poison message: %v", enc, err)
		}
		if len(reply.Events) != 3 {
			t.Fatalf("%v: events = %+v, want 3", enc, reply.Events)
		}
		poison := reply.Events[1]
		if poison.Sequence != ack.Sequence || poison.Subject != "peon.evt.x.y" || poison.Type != contract.EventUndecodable ||
			poison.Error == "" || poison.Event != nil {
			t.Fatalf("%v: poison entry = %+v", enc, poison)
		}
		if reply.Events[0].Type != "ProjectCreated" || reply.Events[2].Sequence != after.LastSequence || reply.Events[2].Event == nil {
			t.Fatalf("%v: events around the poison message: %+v", enc, reply.Events)
		}
	}
	// The projector folded past it: the project after it is there, and
	// status says an event was parked.
	p, err := s.Client.Project(t.Context(), contract.ProjectGet{ProjectID: after.ProjectID, MinSequence: after.LastSequence})
	if err != nil || p.Name != "after" {
		t.Fatalf("project after the poison message: %+v, %v", p, err)
	}
	st, err := s.Client.Status(t.Context(), contract.StatusQuery{MinSequence: after.LastSequence})
	if err != nil {
		t.Fatal(err)
	}
	for name, ps := range st.Projections {
		if ps.Parked != 1 || !ps.Degraded || ps.Reason == "" || ps.LastFolded < after.LastSequence {
			t.Fatalf("status of %s after a poison message: %+v", name, ps)
		}
	}
}

// TestBadQueriesAreInvalid: limits out of range, sequences no stream
// reaches (wrapped negatives, the top of the range), bad ids and cursors
// are invalid_command, answered at once.
func TestBadQueriesAreInvalid(t *testing.T) {
	s := startStack(t)
	top := ^uint64(0)
	cases := []struct {
		name string
		q    contract.Query
	}{
		{"messages limit over 1000", contract.ThreadMessages{ThreadID: "th", Limit: 1001}},
		{"messages negative limit", contract.ThreadMessages{ThreadID: "th", Limit: -1}},
		{"events limit over 1000", contract.EventsSince{Limit: 1001}},
		{"projects limit over 1000", contract.ProjectList{Limit: 5000}},
		{"threads negative limit", contract.ThreadList{Limit: -5}},
		{"after_sequence at the top", contract.EventsSince{AfterSequence: top}},
		{"after_sequence wrapped -1", contract.EventsSince{AfterSequence: top}},
		{"min_sequence wrapped -1", contract.ProjectList{MinSequence: top}},
		{"min_sequence on the stream", contract.EventsSince{MinSequence: 1 << 63}},
		{"messages after at the top", contract.ThreadMessages{ThreadID: "th", After: top}},
		{"negative text offset", contract.ThreadMessages{ThreadID: "th", TextOffset: -1}},
		{"project.get bad id", contract.ProjectGet{ProjectID: "no/such id"}},
		{"project.get empty id", contract.ProjectGet{ProjectID: ""}},
		{"thread.get bad id", contract.ThreadGet{ThreadID: "a.b"}},
		{"thread.list bad project", contract.ThreadList{ProjectID: "a b"}},
		{"project.list bad cursor", contract.ProjectList{After: "yesterday"}},
		{"thread.list bad cursor id", contract.ThreadList{After: "12:a.b"}},
	}
	for _, c := range cases {
		var reply any
		wantCodeNamed(t, c.name, s.Client.Query(t.Context(), c.q, &reply), domain.CodeInvalidCommand)
	}
	// A negative number for an unsigned field is refused by the decoder,
	// in MessagePack as in JSON (it does not wrap).
	var reply any
	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		c := client.New(s.NC, enc)
		err := c.QueryRaw(t.Context(), contract.QueryEventsSince, map[string]any{"after_sequence": -1}, &reply)
		wantCodeNamed(t, "after_sequence -1", err, domain.CodeBadRequest)
		err = c.QueryRaw(t.Context(), contract.QueryThreadGet, map[string]any{"thread_id": "th", "min_sequence": -1}, &reply)
		wantCodeNamed(t, "min_sequence -1", err, domain.CodeBadRequest)
	}
	// Good ids that name nothing are still not found.
	wantCode(t, s.Client.Query(t.Context(), contract.ProjectGet{ProjectID: "nope"}, &reply), domain.CodeProjectNotFound)
	wantCode(t, s.Client.Query(t.Context(), contract.ThreadGet{ThreadID: "nope"}, &reply), domain.CodeThreadNotFound)
}

func wantCodeNamed(t *testing.T, name string, err error, code domain.Code) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code {
		t.Errorf("%s: err = %v, want %s", name, err, code)
	}
}

// maxReply is what a reply may take: the server's max payload.
func maxReply(s *peontest.Stack) int { return int(s.NC.MaxPayload()) }

// queryRaw sends a query and returns the reply's size with the decoded
// reply, so a test can check every reply it gets fits.
func queryRaw(t *testing.T, s *peontest.Stack, enc domain.Encoding, q contract.Query, reply any) int {
	t.Helper()
	data, err := domain.Marshal(enc, q)
	if err != nil {
		t.Fatal(err)
	}
	msg := &nats.Msg{Subject: contract.QuerySubject(q.QueryName()), Data: data, Header: nats.Header{}}
	msg.Header.Set(contract.HeaderContentType, enc.ContentType())
	ctx, cancel := context.WithTimeout(t.Context(), 15e9)
	defer cancel()
	resp, err := s.NC.RequestMsgWithContext(ctx, msg)
	if err != nil {
		t.Fatalf("%s: %v", q.QueryName(), err)
	}
	if err := client.ReplyError(resp, enc); err != nil {
		t.Fatalf("%s: %v", q.QueryName(), err)
	}
	if err := domain.Unmarshal(enc, resp.Data, reply); err != nil {
		t.Fatal(err)
	}
	return len(resp.Data)
}

// TestRepliesAreBoundedByBytes drives records and events whose pages
// would pass the server's max payload (five projects with 250 KB names, a
// message streamed as six 200 KB deltas) and reads them back in both
// encodings: every reply fits, pages end at the byte budget with a cursor,
// a message too long for any reply comes in parts, and what the pages
// carry, joined, is exactly what was written.
func TestRepliesAreBoundedByBytes(t *testing.T) {
	s := startStack(t)
	var names []string
	var last uint64
	for i := range 5 {
		name := strings.Repeat(string(rune('a'+i)), 250_000)
		names = append(names, name)
		last = s.Send(t, domain.CreateProject{Name: name, Path: "/p" + string(rune('a'+i))}).LastSequence
	}
	pid := s.Send(t, domain.CreateProject{Name: "small", Path: "/small"}).ProjectID
	names = append(names, "small")
	th := s.Send(t, domain.CreateThread{ProjectID: pid, Title: "t"}).ThreadID
	turn := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"})
	// JSON escapes quotes, '<' and control characters, and multi-byte
	// characters must not be cut: the parts are measured, not guessed.
	chunk := strings.Repeat(`é"<x`+"\x01", 40_000) // 200 000 bytes
	var want strings.Builder
	for i := range 6 {
		last = s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: turn.TurnID, ProviderEventID: "d" + string(rune('0'+i)),
			Event: pe(domain.TextDelta{MessageID: "m", Delta: chunk})}).LastSequence
		want.WriteString(chunk)
	}

	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		// project.list: pages by bytes, the cursor continues in order.
		var got []string
		var after string
		pages := 0
		for {
			var reply contract.ProjectsReply
			if n := queryRaw(t, s, enc, contract.ProjectList{After: after, MinSequence: last}, &reply); n > maxReply(s) {
				t.Fatalf("%v: project.list reply of %d bytes", enc, n)
			}
			pages++
			for _, p := range reply.Projects {
				got = append(got, p.Name)
			}
			if reply.Next == "" {
				break
			}
			after = reply.Next
		}
		if pages < 2 || strings.Join(got, ",") != strings.Join(names, ",") {
			t.Fatalf("%v: project.list over %d pages returned %d projects", enc, pages, len(got))
		}
		// The client follows the pages for whoever wants every project.
		all, err := client.New(s.NC, enc).Projects(t.Context(), contract.ProjectList{MinSequence: last})
		if err != nil || len(all) != len(names) || all[len(all)-1].Name != "small" {
			t.Fatalf("%v: client.Projects returned %d projects, %v", enc, len(all), err)
		}

		// thread.messages: the long message comes in parts, even with limit 1.
		var text strings.Builder
		var messages []contract.MessageRecord
		q := contract.ThreadMessages{ThreadID: th, Limit: 1, MinSequence: last}
		parts := 0
		for {
			var reply contract.MessagesReply
			if n := queryRaw(t, s, enc, q, &reply); n > maxReply(s) {
				t.Fatalf("%v: thread.messages reply of %d bytes", enc, n)
			}
			for _, m := range reply.Messages {
				if m.MessageID == "m" {
					if m.TextOffset != text.Len() || m.TextLength != want.Len() {
						t.Fatalf("%v: part at %d of %d, have %d bytes", enc, m.TextOffset, m.TextLength, text.Len())
					}
					parts++
					text.WriteString(m.Text)
					continue
				}
				messages = append(messages, m)
			}
			if reply.Next == 0 && reply.NextTextOffset == 0 {
				break
			}
			q.After, q.TextOffset = reply.Next, reply.NextTextOffset
		}
		if parts < 2 || text.String() != want.String() || len(messages) != 1 || messages[0].Text != "go" {
			t.Fatalf("%v: %d parts of %d bytes (want %d), other messages %+v", enc, parts, text.Len(), want.Len(), messages)
		}

		// events.since: every sequence once, in order, over pages that fit.
		var seqs []uint64
		var from uint64
		for {
			var reply contract.EventsReply
			if n := queryRaw(t, s, enc, contract.EventsSince{AfterSequence: from, Limit: 1000}, &reply); n > maxReply(s) {
				t.Fatalf("%v: events.since reply of %d bytes", enc, n)
			}
			for _, e := range reply.Events {
				if e.Event == nil {
					t.Fatalf("%v: event %d not carried: %+v", enc, e.Sequence, e)
				}
				seqs = append(seqs, e.Sequence)
			}
			if reply.Next == 0 {
				break
			}
			from = reply.Next
		}
		for i, seq := range seqs {
			if seq != uint64(i+1) {
				t.Fatalf("%v: events.since returned sequence %d at %d", enc, seq, i)
			}
		}
		if uint64(len(seqs)) != last {
			t.Fatalf("%v: events.since returned %d events, the stream has %d", enc, len(seqs), last)
		}
	}
}
