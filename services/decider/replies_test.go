package decider_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// TestEndpointStatsCountReplies: commands answered concurrently from the
// decider's worker goroutines are counted per endpoint in the micro stats,
// successes and failures apart.
func TestEndpointStatsCountReplies(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.JSON)
	const n = 16
	parallel(n, func(i int) {
		if i%2 == 0 {
			_ = must(t)(c.Send(ctx, domain.CreateProject{Name: "p", Path: "/p" + itoa(i)}))
			return
		}
		_, err := c.Send(ctx, domain.CreateProject{Name: "", Path: "/bad"})
		wantCode(t, err, domain.CodeInvalidCommand, 400)
	})
	var stats struct {
		Endpoints []struct {
			Subject string                `json:"subject"`
			Data    decider.EndpointStats `json:"data"`
		} `json:"endpoints"`
	}
	var resp *nats.Msg
	// A reply is counted just after it is published, so the last count may
	// trail the last reply's arrival: read until every request has its
	// outcome counted.
	for settled := false; !settled; {
		var err error
		if resp, err = h.nc.Request("$SRV.STATS."+contract.DeciderService, nil, 5*time.Second); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(resp.Data, &stats); err != nil {
			t.Fatal(err)
		}
		settled = true
		for _, e := range stats.Endpoints {
			r := e.Data.Replies
			settled = settled && r.Requests == r.Replied+r.Errors+r.TooLarge+r.SendFailures+r.NoReplySubject
		}
	}
	found := false
	for _, e := range stats.Endpoints {
		if e.Subject != contract.CommandSubject(domain.TypeCreateProject) {
			continue
		}
		found = true
		if r := e.Data.Replies; r.Requests != n || r.Replied != n/2 || r.Errors != n/2 || r.SendFailures != 0 || r.TooLarge != 0 {
			t.Fatalf("project.create replies %+v, want %d requests, %d replied, %d errors", r, n, n/2, n/2)
		}
	}
	if !found {
		t.Fatalf("no project.create endpoint in %s", resp.Data)
	}
}
