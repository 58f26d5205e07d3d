package securitytest

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/host"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// A host does its whole job — fold the stream, hold its lease, run an
// agent, report it, register with micro — with the host user alone.
func TestHostWorksWithLeastPrivilege(t *testing.T) {
	srv := startServer(t)
	ctx := context.Background()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	admin := connect(t, srv, "admin", "", nil)
	ajs, _ := jetstream.New(admin)
	if err := provision.Run(ctx, ajs, provision.Options{IngestTiming: provision.IngestTiming{AckWait: time.Second, PinnedTTL: 1500 * time.Millisecond}}); err != nil {
		t.Fatal(err)
	}
	d, err := decider.New(connect(t, srv, "decider", "_INBOX_decider", nil), decider.Config{Instance: "d"}, log)
	run(t, "decider", d, err)
	p, err := projector.New(connect(t, srv, "projector", "_INBOX_projector", nil), projector.Config{Instance: "p"}, log)
	run(t, "projector", p, err)
	q, err := query.New(connect(t, srv, "query", "_INBOX_query", nil), query.Config{Instance: "q"}, log)
	run(t, "query", q, err)
	i, err := ingest.New(connect(t, srv, "ingest", "_INBOX_ingest", nil), ingest.Config{Instance: "i"}, log)
	run(t, "ingest", i, err)

	c := client.New(connect(t, srv, "client", "", nil), domain.JSON)
	var pr contract.CommandReply
	for range 200 { // until the services are subscribed
		if pr, err = c.Send(ctx, domain.CreateProject{Name: "p", Path: t.TempDir(), Host: "secure"}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create project as client: %v", err)
	}

	var hv violations
	spec, err := host.ParseProvider("script=exec:sh -c 'cat >/dev/null; echo under least privilege'")
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(connect(t, srv, "host", "_INBOX_host", &hv),
		host.Config{Name: "secure", Providers: []host.ProviderSpec{spec}, DefaultProvider: "script", LeaseTTL: time.Second}, log)
	run(t, "host", h, err)
	for deadline := time.Now().Add(20 * time.Second); !h.Active(); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the host never became active (errors: %v)", hv.errs)
		}
	}
	th, err := c.Send(ctx, domain.CreateThread{ProjectID: pr.ProjectID})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.Send(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"}); err != nil {
		t.Fatal(err)
	}
	var msgs contract.MessagesReply
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := c.Query(ctx, contract.ThreadMessages{ThreadID: th.ThreadID}, &msgs); err != nil {
			t.Fatal(err)
		}
		if len(msgs.Messages) == 2 && !msgs.Messages[1].Streaming {
			break
		}
	}
	if len(msgs.Messages) != 2 || msgs.Messages[1].Text != "under least privilege\n" {
		t.Fatalf("the host's agent did not answer under least privilege: %+v (errors: %v)", msgs, hv.errs)
	}
	if len(hv.errs) > 0 {
		t.Errorf("the host hit permission errors doing its job: %v", hv.errs)
	}
}
