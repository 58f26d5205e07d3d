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

// statsWindow is how long the bench collects the deciders' answers to one
// stats request: every instance answers, none is waited for by name.
const statsWindow = 300 * time.Millisecond

// deciderCounts is what the bench reads from every decider's micro stats:
// commands handled and the JetStream requests made for them, summed over
// the instances that answered.
type deciderCounts struct {
	commands, requests int64
	instances          int
}

// readDeciderCounts asks every decider instance for its stats.
func readDeciderCounts(ctx context.Context, nc *nats.Conn) (deciderCounts, error) {
	subject, err := micro.ControlSubject(micro.StatsVerb, contract.DeciderService, "")
	if err != nil {
		return deciderCounts{}, err
	}
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return deciderCounts{}, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return deciderCounts{}, err
	}
	var out deciderCounts
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

// measureTrips runs a command scenario and adds <name>.decider_round_trips:
// the JetStream requests the deciders made per command they handled in
// it, from their micro stats before and after. A decider that does not
// report the counters (an older build) leaves the figure out.
func (b *benchStack) measureTrips(ctx context.Context, name string, r *loadgen.Report, scenario func() error) error {
	before, err := readDeciderCounts(ctx, b.admin)
	if err != nil {
		return err
	}
	if err := scenario(); err != nil {
		return err
	}
	after, err := readDeciderCounts(ctx, b.admin)
	if err != nil {
		return err
	}
	commands := after.commands - before.commands
	if commands <= 0 || after.instances != before.instances {
		return nil
	}
	r.Add(loadgen.Figure{Name: name + ".decider_round_trips", Value: float64(after.requests-before.requests) / float64(commands), Unit: "JetStream requests/command"})
	return nil
}
