package main

import (
	"context"
	"encoding/json"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/loadgen"
	"github.com/peonhq/peon/pkg/contract"
)

// statsWindow is how long the bench collects the instances' answers to one
// stats request: every instance answers, none is waited for by name.
const statsWindow = 300 * time.Millisecond

// serviceCounts is what the bench reads from the micro stats of every
// instance of a service: the commands handled (deciders) and the
// JetStream requests made (deciders, projectors), summed over the
// instances that answered.
type serviceCounts struct {
	commands, requests int64
	instances          int
}

// readCounts asks every instance of service for its stats.
func readCounts(ctx context.Context, nc *nats.Conn, service string) (serviceCounts, error) {
	subject, err := micro.ControlSubject(micro.StatsVerb, service, "")
	if err != nil {
		return serviceCounts{}, err
	}
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return serviceCounts{}, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return serviceCounts{}, err
	}
	var out serviceCounts
	window := time.After(statsWindow)
	for {
		select {
		case m := <-replies:
			var stats micro.Stats
			if json.Unmarshal(m.Data, &stats) != nil || len(stats.Endpoints) == 0 {
				continue
			}
			// Every endpoint carries the instance's counters: read one.
			var c struct {
				Commands int64 `json:"commands_handled"`
				Requests int64 `json:"jetstream_requests"`
			}
			if json.Unmarshal(stats.Endpoints[0].Data, &c) != nil {
				continue
			}
			out.commands += c.Commands
			out.requests += c.Requests
			out.instances++
		case <-window:
			return out, nil
		case <-ctx.Done():
			return out, ctx.Err()
		}
	}
}

// measureTrips runs a command scenario and adds
// <name>.decider_round_trips and <name>.projector_round_trips: the
// JetStream requests the deciders and the projectors made per command the
// deciders handled in it, from their micro stats before and after. A
// service that does not report the counters (an older build) leaves its
// figure out.
func (b *benchStack) measureTrips(ctx context.Context, name string, r *loadgen.Report, scenario func() error) error {
	read := func() (d, p serviceCounts, err error) {
		if d, err = readCounts(ctx, b.admin, contract.DeciderService); err != nil {
			return
		}
		p, err = readCounts(ctx, b.admin, contract.ProjectorService)
		return
	}
	dBefore, pBefore, err := read()
	if err != nil {
		return err
	}
	if err := scenario(); err != nil {
		return err
	}
	dAfter, pAfter, err := read()
	if err != nil {
		return err
	}
	commands := dAfter.commands - dBefore.commands
	if commands <= 0 || dAfter.instances != dBefore.instances {
		return nil
	}
	r.Add(loadgen.Figure{Name: name + ".decider_round_trips", Value: float64(dAfter.requests-dBefore.requests) / float64(commands), Unit: "JetStream requests/command"})
	if pAfter.instances > 0 && pAfter.instances == pBefore.instances {
		r.Add(loadgen.Figure{Name: name + ".projector_round_trips", Value: float64(pAfter.requests-pBefore.requests) / float64(commands), Unit: "JetStream requests/command"})
	}
	return nil
}
