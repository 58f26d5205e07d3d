package statsendpoint_test

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/statsendpoint"
	"github.com/peonhq/peon/pkg/contract"
)

// TestStatsReachMicroStatsAndTheSubject: a service without endpoints of
// its own reports its counters in micro stats once it has the stats
// endpoint, and a request on the instance's subject gets them too.
func TestStatsReachMicroStatsAndTheSubject(t *testing.T) {
	nc, _ := natstest.Connect(t, natstest.Server(t))
	type counters struct {
		Applied int `json:"applied"`
	}
	svc, err := micro.AddService(nc, micro.Config{Name: "peon-test", Version: "1.0.0",
		StatsHandler: func(*micro.Endpoint) any { return counters{Applied: 7} }})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Stop()
	if err := statsendpoint.Add(svc, "peon-test", func() any { return counters{Applied: 7} }); err != nil {
		t.Fatal(err)
	}
	subject, _ := micro.ControlSubject(micro.StatsVerb, "peon-test", svc.Info().ID)
	m, err := nc.Request(subject, nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	var stats micro.Stats
	if err := json.Unmarshal(m.Data, &stats); err != nil || len(stats.Endpoints) != 1 {
		t.Fatalf("micro stats: %s (%v)", m.Data, err)
	}
	var got counters
	if err := json.Unmarshal(stats.Endpoints[0].Data, &got); err != nil || got.Applied != 7 {
		t.Fatalf("micro stats data %s, want applied 7", stats.Endpoints[0].Data)
	}
	m, err = nc.Request(contract.StatsSubject("peon-test", svc.Info().ID), nil, time.Second)
	if err != nil {
		t.Fatal(err)
	}
	got = counters{}
	if err := json.Unmarshal(m.Data, &got); err != nil || got.Applied != 7 {
		t.Fatalf("stats subject answered %s, want applied 7", m.Data)
	}
}
