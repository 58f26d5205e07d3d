package microreply_test

import (
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// serve registers a micro service with one endpoint "test.echo" whose
// handler answers from its own goroutine, as Peon's services do: the body
// "fail" is answered with a domain error, "big" with a reply over the max
// payload, anything else is echoed back.
func serve(t *testing.T, nc *nats.Conn, r *microreply.Replier) *sync.WaitGroup {
	t.Helper()
	var inflight sync.WaitGroup
	svc, err := micro.AddService(nc, micro.Config{Name: "replytest", Version: "1.0.0", StatsHandler: r.StatsHandler})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = svc.Stop(); inflight.Wait() })
	handler := func(req micro.Request) {
		inflight.Add(1)
		go func() {
			defer inflight.Done()
			switch body := string(req.Data()); body {
			case "fail":
				r.Respond(req, domain.JSON, nil, domain.Errorf(domain.CodeThreadNotFound, "no such thread"))
			case "big":
				r.Respond(req, domain.JSON, map[string]string{"blob": strings.Repeat("x", int(nc.MaxPayload()))}, nil)
			default:
				r.Respond(req, domain.JSON, map[string]string{"echo": body}, nil)
			}
		}()
	}
	if err := svc.AddEndpoint("echo", micro.HandlerFunc(handler), micro.WithEndpointSubject("test.echo")); err != nil {
		t.Fatal(err)
	}
	return &inflight
}

// settled waits until every request counted on subject has its outcome
// counted: a reply is counted just after it is published, so a requester
// may see it before the count does.
func settled(t *testing.T, r *microreply.Replier, subject string) {
	t.Helper()
	for {
		s := r.Stats(subject)
		if s.Requests == s.Replied+s.Errors+s.TooLarge+s.SendFailures+s.NoReplySubject {
			return
		}
		time.Sleep(time.Millisecond)
	}
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// TestRepliesFromWorkerGoroutines answers many concurrent requests from
// goroutines that outlive micro's handler (run it under -race): every one
// gets its own answer, failures carry the contract's headers and body, and
// the endpoint's counts add up in its micro stats.
func TestRepliesFromWorkerGoroutines(t *testing.T) {
	srv := natstest.Server(t)
	nc, _ := natstest.Connect(t, srv)
	r := microreply.New(nc, quiet())
	serve(t, nc, r)

	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := "hello-" + strings.Repeat("x", i)
			if i%4 == 0 {
				body = "fail"
			}
			resp, err := nc.Request("test.echo", []byte(body), 5*time.Second)
			if err != nil {
				errs <- err
				return
			}
			if body == "fail" {
				if got := resp.Header.Get(micro.ErrorCodeHeader); got != "404" {
					errs <- errors.New("failure status header " + got)
				}
				var ce *client.Error
				if err := client.ReplyError(resp, domain.JSON); !errors.As(err, &ce) || ce.Code != domain.CodeThreadNotFound {
					errs <- errors.New("failure body " + string(resp.Data))
				}
				return
			}
			var got map[string]string
			if err := json.Unmarshal(resp.Data, &got); err != nil || got["echo"] != body {
				errs <- errors.New("wrong answer " + string(resp.Data) + " to " + body)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}

	want := microreply.EndpointStats{Requests: n, Replied: n - n/4, Errors: n / 4}
	settled(t, r, "test.echo")
	if got := r.Stats("test.echo"); got != want {
		t.Fatalf("counts %+v, want %+v", got, want)
	}
	// The same counts are what the service reports over NATS.
	resp, err := nc.Request("$SRV.STATS.replytest", nil, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var stats struct {
		Endpoints []struct {
			Subject string                   `json:"subject"`
			Data    microreply.EndpointStats `json:"data"`
		} `json:"endpoints"`
	}
	if err := json.Unmarshal(resp.Data, &stats); err != nil {
		t.Fatal(err)
	}
	if len(stats.Endpoints) != 1 || stats.Endpoints[0].Data != want {
		t.Fatalf("micro stats %s, want data %+v", resp.Data, want)
	}
}

// TestReplyTooLargeIsRefusedNotDropped: a reply that would exceed the
// server's max payload reaches the sender as reply_too_large.
func TestReplyTooLargeIsRefusedNotDropped(t *testing.T) {
	srv := natstest.Server(t)
	nc, _ := natstest.Connect(t, srv)
	r := microreply.New(nc, quiet())
	serve(t, nc, r)

	resp, err := nc.Request("test.echo", []byte("big"), 5*time.Second)
	if err != nil {
		t.Fatalf("no answer to a too-large reply: %v", err)
	}
	if got := resp.Header.Get(micro.ErrorCodeHeader); got != "413" {
		t.Fatalf("status header %q, want 413", got)
	}
	var ce *client.Error
	if err := client.ReplyError(resp, domain.JSON); !errors.As(err, &ce) || ce.Code != contract.CodeReplyTooLarge || ce.Status != 413 {
		t.Fatalf("reply error %v, want %s", err, contract.CodeReplyTooLarge)
	}
	settled(t, r, "test.echo")
	if got := r.Stats("test.echo"); got.TooLarge != 1 || got.Requests != 1 || got.Replied != 0 {
		t.Fatalf("counts %+v, want one too-large reply", got)
	}
	// The endpoint still answers.
	if _, err := nc.Request("test.echo", []byte("small"), 5*time.Second); err != nil {
		t.Fatal(err)
	}
}

// TestSendFailuresAndUnansweredRequestsAreCounted: a request published
// without a reply subject is counted and not answered; a reply the
// connection cannot publish is counted and its error kept.
func TestSendFailuresAndUnansweredRequestsAreCounted(t *testing.T) {
	srv := natstest.Server(t)
	nc, _ := natstest.Connect(t, srv)
	r := microreply.New(nc, quiet())
	inflight := serve(t, nc, r)

	if err := nc.Publish("test.echo", []byte("nobody waits")); err != nil {
		t.Fatal(err)
	}
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(5 * time.Second)
	for r.Stats("test.echo").NoReplySubject != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("request without reply subject not counted: %+v", r.Stats("test.echo"))
		}
		time.Sleep(5 * time.Millisecond)
	}

	// The replier's connection closes while a request is being handled:
	// its reply cannot be sent.
	closing := microreply.New(nc, quiet())
	msg := &nats.Msg{Subject: "test.closing", Reply: nats.NewInbox()}
	inflight.Wait()
	nc.Close()
	closing.Respond(request{msg}, domain.JSON, map[string]string{"ok": "yes"}, nil)
	got := closing.Stats("test.closing")
	if got.SendFailures != 1 || got.Requests != 1 || !strings.Contains(got.LastSendError, "closed") {
		t.Fatalf("counts %+v, want one send failure naming the closed connection", got)
	}
}

// request is a received message as micro hands it to a handler, for
// answering a request outside a micro service.
type request struct{ msg *nats.Msg }

func (r request) Respond([]byte, ...micro.RespondOpt) error  { panic("replies go through the Replier") }
func (r request) RespondJSON(any, ...micro.RespondOpt) error { panic("replies go through the Replier") }
func (r request) Error(string, string, []byte, ...micro.RespondOpt) error {
	panic("replies go through the Replier")
}
func (r request) Data() []byte           { return r.msg.Data }
func (r request) Headers() micro.Headers { return micro.Headers(r.msg.Header) }
func (r request) Subject() string        { return r.msg.Subject }
func (r request) Reply() string          { return r.msg.Reply }
