// Package peontest starts a whole Peon stack in-process for tests: a real
// JetStream server, the provisioning step, and any number of decider,
// projector and query instances, each on its own connection.
package peontest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/pkg/provision"
	"github.com/peonhq/peon/services/decider"
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
	srv := natstest.Server(t)
	nc, js := natstest.Connect(t, srv)
	if err := provision.Run(context.Background(), js, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	s := &Stack{Srv: srv, NC: nc, JS: js, Client: client.New(nc, domain.MessagePack),
		Log: slog.New(slog.NewTextHandler(io.Discard, nil))}
	s.StartDecider(t, "d0")
	s.StartQuery(t, "q0")
	return s
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

// StartProjector runs a projector instance on its own connection.
func (s *Stack) StartProjector(t testing.TB, name string, cfg projector.Config) func() {
	nc, _ := natstest.Connect(t, s.Srv)
	cfg.Instance = name
	svc, err := projector.New(nc, cfg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	return Run(t, name, svc.Run)
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
func (s *Stack) Query(t testing.TB, name string, req, reply any) {
	t.Helper()
	if err := s.Client.Query(context.Background(), name, req, reply); err != nil {
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
		var st query.StatusReply
		if errors.As(err, &decided) && s.Client.Query(ctx, "status", query.Status{}, &st) == nil {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("stack never answered")
}
