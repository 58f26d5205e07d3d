// Package securitytest runs Peon under the least-privilege accounts of
// deploy/nats/accounts.conf: every service works with its own user, and
// every forbidden action is refused with no side effect.
package securitytest

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

var users = []string{"admin", "decider", "projector", "query", "ingest", "adapter", "host", "client", "sys"}

func password(user string) string { return "pw-" + user }

// startServer runs nats-server with the deploy accounts.
func startServer(t *testing.T) *server.Server {
	t.Helper()
	for _, u := range users {
		t.Setenv("PEON_"+strings.ToUpper(u)+"_PASSWORD", password(u))
	}
	conf, err := filepath.Abs("../single.conf")
	if err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(conf)
	if err != nil {
		t.Fatal(err)
	}
	opts.Host, opts.Port, opts.HTTPPort, opts.StoreDir, opts.NoLog, opts.NoSigs = "127.0.0.1", -1, -1, t.TempDir(), true, true
	srv, err := server.NewServer(opts)
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	t.Cleanup(srv.Shutdown)
	return srv
}

// violations collects the asynchronous permission errors of a connection.
type violations struct {
	mu   sync.Mutex
	errs []string
}

func (v *violations) handler(_ *nats.Conn, _ *nats.Subscription, err error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	v.errs = append(v.errs, err.Error())
}

func (v *violations) has(substr string) bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	for _, e := range v.errs {
		if strings.Contains(e, substr) {
			return true
		}
	}
	return false
}

func connect(t *testing.T, srv *server.Server, user, inbox string, v *violations) *nats.Conn {
	t.Helper()
	opts := []nats.Option{nats.UserInfo(user, password(user))}
	if inbox != "" {
		opts = append(opts, nats.CustomInboxPrefix(inbox))
	}
	if v != nil {
		opts = append(opts, nats.ErrorHandler(v.handler))
	}
	nc, err := nats.Connect(srv.ClientURL(), opts...)
	if err != nil {
		t.Fatalf("%s: %v", user, err)
	}
	t.Cleanup(nc.Close)
	return nc
}

type runner interface{ Run(context.Context) error }

func run(t *testing.T, name string, svc runner, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
	peontest.Run(t, name, svc.Run)
}

func TestServicesWorkWithLeastPrivilege(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if os.Getenv("PEON_TEST_LOG") != "" {
		log = slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	admin := connect(t, srv, "admin", "", nil)
	ajs, _ := jetstream.New(admin)
	// The transcript split in two: the projector reads the event stream
	// (the catalog) and the split stream (the partitions).
	if err := provision.Run(ctx, ajs, provision.Options{TranscriptPartitions: 2,
		IngestTiming: provision.IngestTiming{AckWait: time.Second, PinnedTTL: 1500 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	var dv, pv, qv, iv violations
	d, err := decider.New(connect(t, srv, "decider", "_INBOX_decider", &dv), decider.Config{Instance: "d"}, log)
	run(t, "decider", d, err)
	p, err := projector.New(connect(t, srv, "projector", "_INBOX_projector", &pv), projector.Config{Instance: "p"}, log)
	run(t, "projector", p, err)
	q, err := query.New(connect(t, srv, "query", "_INBOX_query", &qv), query.Config{Instance: "q"}, log)
	run(t, "query", q, err)
	i, err := ingest.New(connect(t, srv, "ingest", "_INBOX_ingest", &iv), ingest.Config{Instance: "i"}, log)
	run(t, "ingest", i, err)

	c := client.New(connect(t, srv, "client", "", nil), domain.JSON)
	var pr contract.CommandReply
	for range 200 { // until the services are subscribed
		if pr, err = c.Send(ctx, domain.CreateProject{CommandID: "cp", Name: "p", Path: "/secure"}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create project as client: %v", err)
	}
	th, err := c.Send(ctx, domain.CreateThread{ProjectID: pr.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	tu, err := c.Send(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"})
	if err != nil {
		t.Fatal(err)
	}
	adapter, _ := jetstream.New(connect(t, srv, "adapter", "", nil))
	for n, e := range []domain.ProviderEvent{domain.TextDelta{MessageID: "m", Delta: "secure text"}, domain.TurnComplete{}} {
		body, _ := domain.Marshal(domain.MessagePack, contract.ProviderMessage{TurnID: tu.TurnID, ProviderEventID: string(rune('a' + n)),
			Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
		if _, err := adapter.Publish(ctx, contract.ProviderSubject(th.ThreadID), body); err != nil {
			t.Fatalf("adapter publish: %v", err)
		}
	}
	// The catalog and the transcript are separate projections: wait for
	// the transcript itself to show the agent's reply.
	var msgs contract.MessagesReply
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		if err := c.Query(ctx, contract.ThreadMessages{ThreadID: th.ThreadID}, &msgs); err != nil {
			t.Fatal(err)
		}
		if len(msgs.Messages) == 2 && !msgs.Messages[1].Streaming {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(msgs.Messages) != 2 || msgs.Messages[1].Text != "secure text" {
		t.Fatalf("the stack did not work under least privilege: %+v", msgs)
	}
	// A turn's diff, stored as a host stores it, read through the query
	// service under its own user.
	diffs, err := ajs.ObjectStore(ctx, contract.BucketDiffs)
	if err != nil {
		t.Fatal(err)
	}
	record := `{"turn_id":"` + tu.TurnID + `","files":[{"path":"a.go","kind":"added","additions":1,"deletions":0}],"diff":"+x\n","truncated":false}`
	if _, err := diffs.PutString(ctx, contract.DiffKey(th.ThreadID, tu.TurnID), record); err != nil {
		t.Fatal(err)
	}
	var diff contract.TurnDiffReply
	if err := c.Query(ctx, contract.TurnDiff{ThreadID: th.ThreadID, TurnID: tu.TurnID}, &diff); err != nil || diff.Diff != "+x\n" {
		t.Fatalf("turn.diff under least privilege: %+v, %v", diff, err)
	}
	for name, v := range map[string]*violations{"decider": &dv, "projector": &pv, "query": &qv, "ingest": &iv} {
		if len(v.errs) > 0 {
			t.Errorf("%s hit permission errors doing its job: %v", name, v.errs)
		}
	}
}

// TestForbiddenActionsAreRefused tries, with each service's credentials,
// what it must not do; each is refused and nothing changes.
func TestForbiddenActionsAreRefused(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	admin := connect(t, srv, "admin", "", nil)
	ajs, _ := jetstream.New(admin)
	if err := provision.Run(ctx, ajs, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	events, _ := ajs.Stream(ctx, contract.EventStream)
	before, _ := events.Info(ctx)

	cases := []struct {
		user, inbox, what string
		try               func(nc *nats.Conn) error
	}{
		{"projector", "_INBOX_projector", "publish a command", func(nc *nats.Conn) error {
			return nc.Publish("peon.cmd.project.create", []byte(`{"name":"x","path":"/x"}`))
		}},
		{"projector", "_INBOX_projector", "publish an event", func(nc *nats.Conn) error {
			return nc.Publish("peon.evt.p._p", []byte("x"))
		}},
		{"ingest", "_INBOX_ingest", "send another command", func(nc *nats.Conn) error {
			return nc.Publish("peon.cmd.project.create", []byte(`{}`))
		}},
		{"ingest", "_INBOX_ingest", "send another command routed to a partition", func(nc *nats.Conn) error {
			return nc.Publish("peon.cmd.part.3.project.create", []byte(`{}`))
		}},
		{"ingest", "_INBOX_ingest", "publish an event", func(nc *nats.Conn) error {
			return nc.Publish("peon.evt.p.t", []byte("x"))
		}},
		{"decider", "_INBOX_decider", "purge the event stream", func(nc *nats.Conn) error {
			return nc.Publish("$JS.API.STREAM.PURGE.PEON_EVENTS", nil)
		}},
		{"decider", "_INBOX_decider", "delete a message", func(nc *nats.Conn) error {
			return nc.Publish("$JS.API.STREAM.MSG.DELETE.PEON_EVENTS", []byte(`{"seq":1}`))
		}},
		{"client", "", "delete the event stream", func(nc *nats.Conn) error {
			return nc.Publish("$JS.API.STREAM.DELETE.PEON_EVENTS", nil)
		}},
		{"query", "_INBOX_query", "write the read model", func(nc *nats.Conn) error {
			return nc.Publish("$KV.peon_threads.t1", []byte("x"))
		}},
		{"adapter", "", "read the decider's replies", func(nc *nats.Conn) error {
			_, err := nc.SubscribeSync("_INBOX_decider.>")
			return err
		}},
		{"host", "_INBOX_host", "send a command a host does not send", func(nc *nats.Conn) error {
			return nc.Publish("peon.cmd.project.create", []byte(`{"name":"x","path":"/x"}`))
		}},
		{"host", "_INBOX_host", "send a command a host does not send, routed", func(nc *nats.Conn) error {
			return nc.Publish("peon.cmd.part.3.turn.start", []byte(`{}`))
		}},
		{"host", "_INBOX_host", "publish an event", func(nc *nats.Conn) error {
			return nc.Publish("peon.evt.p.t", []byte("x"))
		}},
		{"host", "_INBOX_host", "write the read model", func(nc *nats.Conn) error {
			return nc.Publish("$KV.peon_threads.t1", []byte("x"))
		}},
		{"host", "_INBOX_host", "purge the event stream", func(nc *nats.Conn) error {
			return nc.Publish("$JS.API.STREAM.PURGE.PEON_EVENTS", nil)
		}},
		{"host", "_INBOX_host", "read the decider's replies", func(nc *nats.Conn) error {
			_, err := nc.SubscribeSync("_INBOX_decider.>")
			return err
		}},
		{"projector", "_INBOX_projector", "read the query service's replies", func(nc *nats.Conn) error {
			_, err := nc.SubscribeSync("_INBOX_query.>")
			return err
		}},
	}
	for _, c := range cases {
		t.Run(c.user+" may not "+c.what, func(t *testing.T) {
			var v violations
			nc := connect(t, srv, c.user, c.inbox, &v)
			if err := c.try(nc); err != nil && !errors.Is(err, nats.ErrPermissionViolation) {
				t.Fatal(err)
			}
			_ = nc.Flush()
			for range 100 {
				if v.has("Permissions Violation") {
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
			t.Fatalf("not refused (errors: %v)", v.errs)
		})
	}
	after, _ := events.Info(ctx)
	if after.State.Msgs != before.State.Msgs || after.State.LastSeq != before.State.LastSeq {
		t.Fatalf("forbidden actions changed the event stream: %+v -> %+v", before.State, after.State)
	}
	if _, err := nats.Connect(srv.ClientURL()); err == nil {
		t.Fatal("a client without credentials was let in")
	}
	if _, err := nats.Connect(srv.ClientURL(), nats.UserInfo("decider", "wrong")); err == nil {
		t.Fatal("a wrong password was let in")
	}
}
