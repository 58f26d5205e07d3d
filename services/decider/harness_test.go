package decider_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// harness is a real JetStream server with the event stream and n decider
// instances, each on its own connection.
type harness struct {
	srv       *server.Server
	nc        *nats.Conn
	js        jetstream.JetStream
	store     *eventstore.Store
	instances []*decider.Service
}

func start(t testing.TB, n int, cfg decider.Config, stream eventstore.StreamConfig) *harness {
	t.Helper()
	srv := natstest.Server(t)
	nc, js := natstest.Connect(t, srv)
	if _, err := eventstore.EnsureStream(context.Background(), js, stream); err != nil {
		t.Fatal(err)
	}
	if err := provision.EnsureCommandIDs(context.Background(), js, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	h := &harness{srv: srv, nc: nc, js: js, store: eventstore.New(js)}
	for i := range n {
		h.addInstance(t, cfg, i)
	}
	if n > 0 {
		h.waitServing(t)
	}
	return h
}

func (h *harness) addInstance(t testing.TB, cfg decider.Config, i int) *decider.Service {
	t.Helper()
	svc, stop := h.runInstance(t, cfg, fmt.Sprintf("d%d", i))
	t.Cleanup(stop)
	h.instances = append(h.instances, svc)
	return svc
}

// runInstance runs a decider instance on its own connection and returns
// it and what stops it, waiting for Run to return (an error fails t).
func (h *harness) runInstance(t testing.TB, cfg decider.Config, name string) (*decider.Service, func()) {
	t.Helper()
	inc, _ := natstest.Connect(t, h.srv)
	cfg.Instance = name
	svc, err := decider.New(inc, cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	return svc, func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("decider %s: %v", name, err)
		}
	}
}

// waitServing waits until a command gets an answer from the service.
func (h *harness) waitServing(t testing.TB) {
	t.Helper()
	c := client.New(h.nc, domain.JSON)
	for range 200 {
		_, err := c.Send(context.Background(), domain.SelectThread{ThreadID: "probe"})
		if errors.Is(err, domain.ErrThreadNotFound) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("decider never answered")
}

func (h *harness) client(enc domain.Encoding) *client.Client { return client.New(h.nc, enc) }

// history reads the whole stream back.
func (h *harness) history(t testing.TB) []eventstore.Record {
	t.Helper()
	var out []eventstore.Record
	if _, err := h.store.Load(context.Background(), contract.EventSubjects, 0, func(r eventstore.Record) error {
		out = append(out, r)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// model folds the whole stream.
func (h *harness) model(t testing.TB) *domain.Model {
	m := domain.NewModel()
	for _, r := range h.history(t) {
		domain.Project(m, r.StoredEvent)
	}
	return m
}

func must(t testing.TB) func(contract.CommandReply, error) contract.CommandReply {
	return func(r contract.CommandReply, err error) contract.CommandReply {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
}

func wantCode(t testing.TB, err error, code domain.Code, status int) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != code || ce.Status != status {
		t.Fatalf("err = %v, want %s (%d)", err, code, status)
	}
}

// parallel runs n functions at once and waits for them.
func parallel(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			fn(i)
		}()
	}
	close(start)
	wg.Wait()
}
