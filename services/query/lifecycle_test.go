package query_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/query"
)

// TestConfigReportsEveryProblem: Validate joins every problem, and New
// refuses the configuration with all of them.
func TestConfigReportsEveryProblem(t *testing.T) {
	if err := query.DefaultConfig().Validate(); err != nil {
		t.Fatalf("the default configuration: %v", err)
	}
	if err := (query.Config{Instance: "q"}).Validate(); err != nil {
		t.Fatalf("zero fields are defaults: %v", err)
	}
	bad := query.Config{Version: -1, MaxWait: -time.Second, MaxBodyBytes: -1, MaxInFlight: 1 << 20}
	err := bad.Validate()
	for _, want := range []string{"version -1", "max wait -1s", "max body -1", "max in flight 1048576"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
	if _, err := query.New(nil, bad, slog.New(slog.NewTextHandler(io.Discard, nil))); err == nil {
		t.Fatal("New accepted an invalid configuration")
	}
}

// TestRunAnswersWhatIsInFlightBeforeReturning: the instance signals Ready
// once it serves; stopped while a query waits for its min_sequence, Run
// returns only after that query was answered, so closing the connection
// right after Run cannot lose the reply.
func TestRunAnswersWhatIsInFlightBeforeReturning(t *testing.T) {
	srv := natstest.Server(t)
	_, js := natstest.Connect(t, srv)
	if err := provision.Run(t.Context(), js, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	nc, _ := natstest.Connect(t, srv)
	svc, err := query.New(nc, query.Config{Instance: "q", MaxWait: 2 * time.Second}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	}

	asker, _ := natstest.Connect(t, srv)
	answered := make(chan error, 1)
	go func() {
		// No projector runs: min_sequence 1 is never reached, and the
		// query waits its MaxWait before it is answered timeout.
		var r contract.ProjectsReply
		qctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		answered <- client.New(asker, domain.MessagePack).Query(qctx, contract.ProjectList{MinSequence: 1}, &r)
	}()
	// Stop only once the query is being answered: the service counts it.
	waitInFlight(t, asker)
	stop()
	if err := <-done; err != nil {
		t.Fatalf("Run: %v", err)
	}
	nc.Close()
	err = <-answered
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != contract.CodeTimeout {
		t.Fatalf("the query in flight at shutdown got %v, want its timeout answer", err)
	}
}

// waitInFlight waits until the query service has taken a request, as its
// micro stats tell.
func waitInFlight(t *testing.T, nc *nats.Conn) {
	t.Helper()
	for range 500 {
		msg, err := nc.Request("$SRV.STATS."+contract.QueryService, nil, time.Second)
		if err == nil && strings.Contains(string(msg.Data), `"num_requests":1`) {
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the query never arrived")
}
