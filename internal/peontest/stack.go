// Package peontest starts a whole Peon stack in-process for tests: a real
// JetStream server, the provisioning step, and any number of decider,
// projector and query instances, each on its own connection.
package peontest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// Stack is a running Peon.
type Stack struct {
	Srv    *server.Server
	NC     *nats.Conn
	JS     jetstream.JetStream
	Client *client.Client
	Log    *slog.Logger
}

// Start starts a server, provisions it, and runs one decider and one query
// instance. Projectors are started by the test (StartProjector).
func Start(t testing.TB) *Stack {
	t.Helper()
	return StartWith(t, provision.Options{})
}

// StartWith is Start with provisioning options (replicas and storage are
// the test server's; ingest timing defaults to a short one).
func StartWith(t testing.TB, o provision.Options) *Stack {
	t.Helper()
	srv := natstest.Server(t)
	nc, js := natstest.Connect(t, srv)
	if o.IngestTiming == (provision.IngestTiming{}) {
		// Short handover timing keeps restart tests quick.
		o.IngestTiming = provision.IngestTiming{AckWait: time.Second, PinnedTTL: 1500 * time.Millisecond}
	}
	if err := provision.Run(context.Background(), js, o); err != nil {
		t.Fatal(err)
	}
	var logs io.Writer = io.Discard
	if os.Getenv("PEON_TEST_LOG") != "" {
		logs = os.Stderr // PEON_TEST_LOG=1 go test -v ... shows the services' logs
	}
	s := &Stack{Srv: srv, NC: nc, JS: js, Client: client.New(nc, domain.MessagePack),
		Log: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	s.StartDecider(t, "d0")
	s.StartQuery(t, "q0")
	return s
}

// Connect returns a Stack that only talks to an already running server at
// url (no services of its own): for driving a separately started Peon.
func Connect(t testing.TB, url string) *Stack {
	t.Helper()
	nc, js := natstest.ConnectURL(t, url)
	return &Stack{NC: nc, JS: js, Client: client.New(nc, domain.MessagePack), Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
}

// Run runs fn(ctx) on its own goroutine until the returned stop is called
// (or the test ends); stop waits for it to return.
func Run(t testing.TB, name string, fn func(context.Context) error) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- fn(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	t.Cleanup(stop)
	return stop
}

// StartDecider runs a decider instance on its own connection.
func (s *Stack) StartDecider(t testing.TB, name string) func() {
	nc, _ := natstest.Connect(t, s.Srv)
	svc, err := decider.New(nc, decider.Config{Instance: name}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	return Run(t, name, svc.Run)
}

// StartProjector runs a projector instance on its own connection; stop
// also closes the connection.
func (s *Stack) StartProjector(t testing.TB, name string, cfg projector.Config) func() {
	nc, _ := natstest.Connect(t, s.Srv)
	cfg.Instance = name
	svc, err := projector.New(nc, cfg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	stop := Run(t, name, svc.Run)
	return func() { stop(); nc.Close() }
}

// Projector is a projector instance a test can inspect, stop cleanly, or
// kill: its connection is cut first, so it neither gives back what it holds
// nor unpins, as when the process dies.
type Projector struct {
	*projector.Service
	Stop, Kill func()
}

// StartProjectorInstance runs a projector instance on its own connection.
func (s *Stack) StartProjectorInstance(t testing.TB, name string, cfg projector.Config) Projector {
	nc, _ := natstest.Connect(t, s.Srv)
	cfg.Instance = name
	svc, err := projector.New(nc, cfg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = svc.Run(ctx) // a killed instance's errors are expected
	}()
	end := func(cut bool) func() {
		return func() {
			if cut {
				nc.Close()
			}
			cancel()
			<-done
			nc.Close()
		}
	}
	t.Cleanup(end(false))
	return Projector{Service: svc, Stop: end(false), Kill: end(true)}
}

// StartQuery runs a query instance on its own connection.
func (s *Stack) StartQuery(t testing.TB, name string) func() {
	nc, _ := natstest.Connect(t, s.Srv)
	svc, err := query.New(nc, query.Config{Instance: name}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	return Run(t, name, svc.Run)
}

// StartIngest runs a provider-ingest instance on its own connection; stop
// also closes the connection.
func (s *Stack) StartIngest(t testing.TB, name string, cfg ingest.Config) func() {
	nc, _ := natstest.Connect(t, s.Srv)
	cfg.Instance = name
	svc, err := ingest.New(nc, cfg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	stop := Run(t, name, svc.Run)
	return func() { stop(); nc.Close() }
}

// Publish publishes one provider event as an adapter would.
func (s *Stack) Publish(t testing.TB, threadID, turnID, providerEventID string, e domain.ProviderEvent) {
	t.Helper()
	s.PublishAs(t, threadID+":"+providerEventID, threadID, turnID, providerEventID, e)
}

// PublishAs is Publish with a chosen Nats-Msg-Id (a different one gets a
// duplicate past the stream's own deduplication).
func (s *Stack) PublishAs(t testing.TB, msgID, threadID, turnID, providerEventID string, e domain.ProviderEvent) {
	t.Helper()
	body, err := domain.Marshal(domain.MessagePack, contract.ProviderMessage{TurnID: turnID, ProviderEventID: providerEventID,
		Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
	if err != nil {
		t.Fatal(err)
	}
	m := &nats.Msg{Subject: contract.ProviderSubject(threadID), Data: body, Header: nats.Header{}}
	m.Header.Set(contract.HeaderMsgID, msgID)
	for {
		_, err := s.JS.PublishMsgAsync(m)
		if errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			<-s.JS.PublishAsyncComplete() // a busy machine: let the acks catch up
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		return
	}
}

// Send sends a command, failing the test on error.
func (s *Stack) Send(t testing.TB, cmd domain.Command) contract.CommandReply {
	t.Helper()
	reply, err := s.Client.Send(context.Background(), cmd)
	if err != nil {
		t.Fatalf("%s: %v", cmd.CommandType(), err)
	}
	return reply
}

// Query runs a query, failing the test on error.
func (s *Stack) Query(t testing.TB, q contract.Query, reply any) {
	t.Helper()
	if err := s.Client.Query(context.Background(), q, reply); err != nil {
		t.Fatalf("query %s: %v", q.QueryName(), err)
	}
}

// QueryRaw is Query with any body, for requests no query type expresses.
func (s *Stack) QueryRaw(t testing.TB, name string, body, reply any) {
	t.Helper()
	if err := s.Client.QueryRaw(context.Background(), name, body, reply); err != nil {
		t.Fatalf("query %s: %v", name, err)
	}
}

// WaitServing waits until the decider and the query service answer.
func (s *Stack) WaitServing(t testing.TB) {
	t.Helper()
	ctx := context.Background()
	for range 500 {
		_, err := s.Client.Send(ctx, domain.SelectThread{ThreadID: "probe"})
		var decided *client.Error
		var st contract.StatusReply
		if errors.As(err, &decided) && s.Client.Query(ctx, contract.StatusQuery{}, &st) == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("stack never answered")
}
