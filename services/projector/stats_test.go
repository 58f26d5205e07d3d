package projector_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

// TestStatsCountRoundTripsAndReachMicroStats: folding commands costs the
// projector bucket writes and reads, which its stats count, and those
// stats are what `nats micro stats peon-projector` shows.
func TestStatsCountRoundTripsAndReachMicroStats(t *testing.T) {
	s := peontest.Start(t)
	p := s.StartProjectorInstance(t, "p0", projector.Config{})
	s.WaitServing(t)
	before := p.Stats().JetStreamRequests
	pr := s.Send(t, domain.CreateProject{Name: "p", Path: "/p"})
	th := s.Send(t, domain.CreateThread{ProjectID: pr.ProjectID})
	last := s.Send(t, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"}).LastSequence
	var tr contract.ThreadReply
	s.Query(t, contract.ThreadGet{ThreadID: th.ThreadID, MinSequence: last}, &tr)
	after := p.Stats().JetStreamRequests
	if after <= before {
		t.Fatalf("jetstream_requests %d after folding three commands, was %d", after, before)
	}
	subject, _ := micro.ControlSubject(micro.StatsVerb, contract.ProjectorService, "")
	m, err := s.NC.Request(subject, nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var stats micro.Stats
	if err := json.Unmarshal(m.Data, &stats); err != nil || len(stats.Endpoints) != 1 {
		t.Fatalf("micro stats: %s (%v)", m.Data, err)
	}
	var got projector.Stats
	if err := json.Unmarshal(stats.Endpoints[0].Data, &got); err != nil || got.JetStreamRequests < after || len(got.Runners) == 0 {
		t.Fatalf("micro stats data %s, want the instance's counters", stats.Endpoints[0].Data)
	}
}
