package securitytest

import (
	"context"
	"io"
	"log/slog"
	"os/exec"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/gitwork"
	"github.com/peonhq/peon/services/host"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// A host does its whole job — fold the stream, hold its lease, run an
// agent, report it, register with micro, checkpoint the turn into
// peon_diffs, run a commit and record it — with the host user alone.
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

	repo := t.TempDir()
	for _, args := range [][]string{{"init", "-q"}, {"config", "user.email", "t@example.com"}, {"config", "user.name", "t"}, {"commit", "-q", "--allow-empty", "-m", "init"}} {
		if out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	c := client.New(connect(t, srv, "client", "", nil), domain.JSON)
	var pr contract.CommandReply
	for range 200 { // until the services are subscribed
		if pr, err = c.Send(ctx, domain.CreateProject{Name: "p", Path: repo, Host: "secure"}); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		t.Fatalf("create project as client: %v", err)
	}

	var hv violations
	spec, err := host.ParseProvider("script=exec:sh -c 'cat >/dev/null; echo work > work.txt; echo under least privilege'")
	if err != nil {
		t.Fatal(err)
	}
	hostNC := connect(t, srv, "host", "_INBOX_host", &hv)
	cp, err := gitwork.NewCheckpointer(ctx, hostNC)
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(hostNC, host.Config{Name: "secure", Providers: []host.ProviderSpec{spec}, DefaultProvider: "script",
		LeaseTTL: time.Second, Workspace: cp}, log)
	run(t, "host", h, err)
	g, err := gitwork.New(hostNC, gitwork.Config{Host: "secure", Instance: "g", AckWait: time.Second}, log)
	run(t, "git executor", g, err)
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
	// The turn's checkpoint, then a commit of the agent's work.
	var tr contract.ThreadReply
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := c.Query(ctx, contract.ThreadGet{ThreadID: th.ThreadID}, &tr); err != nil {
			t.Fatal(err)
		}
		if len(tr.Thread.Checkpoints) == 1 {
			break
		}
	}
	if len(tr.Thread.Checkpoints) != 1 || len(tr.Thread.Checkpoints[0].Files) != 1 {
		t.Fatalf("no checkpoint of the turn under least privilege: %+v (errors: %v)", tr.Thread.Checkpoints, hv.errs)
	}
	if _, err := c.Send(ctx, domain.CommitChanges{ThreadID: th.ThreadID, Message: "the agent's work"}); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if err := c.Query(ctx, contract.ThreadGet{ThreadID: th.ThreadID}, &tr); err != nil {
			t.Fatal(err)
		}
		if ops := tr.Thread.GitOperations; len(ops) == 1 && ops[0].Status != domain.GitOperationRequested {
			break
		}
	}
	if ops := tr.Thread.GitOperations; len(ops) != 1 || ops[0].Status != domain.GitStatusCompleted || ops[0].SHA == "" {
		t.Fatalf("the commit under least privilege: %+v (errors: %v)", ops, hv.errs)
	}
	if len(hv.errs) > 0 {
		t.Errorf("the host hit permission errors doing its job: %v", hv.errs)
	}
}
