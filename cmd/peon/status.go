package main

import (
	"context"
	"encoding/json"
	"fmt"
	"sort"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
)

// runStatus prints streams, consumers, projection lag and service instances.
func runStatus(ctx context.Context, env *environment, args []string) error {
	var asJSON bool
	c, nc, _, closeConn, err := env.clientSetup("status", args, func(fs *flagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
	}, nil)
	if err != nil {
		return err
	}
	defer closeConn()
	js, _ := jetstream.New(nc)
	report := map[string]any{}
	streams := map[string]any{}
	for _, name := range []string{contract.EventStream, contract.ProviderStream} {
		s, err := js.Stream(ctx, name)
		if err != nil {
			return unavailableError{fmt.Errorf("stream %s: %w", name, err)}
		}
		info, err := s.Info(ctx)
		if err != nil {
			return unavailableError{err}
		}
		streams[name] = map[string]any{"messages": info.State.Msgs, "bytes": info.State.Bytes,
			"last_sequence": info.State.LastSeq, "replicas": info.Config.Replicas}
	}
	report["streams"] = streams
	consumers := map[string]any{}
	version, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return unavailableError{err}
	}
	layout, err := readmodel.DiscoverLayout(ctx, js, version)
	if err != nil {
		layout = readmodel.All // reported per consumer below
	}
	var projections []string
	for _, p := range layout {
		projections = append(projections, p.ConsumerName(version))
	}
	for stream, names := range map[string][]string{
		contract.EventStream:    projections,
		contract.ProviderStream: {provision.IngestConsumer},
	} {
		for _, name := range names {
			cons, err := js.Consumer(ctx, stream, name)
			if err != nil {
				consumers[name] = map[string]any{"error": err.Error()}
				continue
			}
			info, err := cons.Info(ctx)
			if err != nil {
				return unavailableError{err}
			}
			consumers[name] = map[string]any{"pending": info.NumPending, "ack_pending": info.NumAckPending,
				"redelivered": info.NumRedelivered, "ack_floor": info.AckFloor.Stream}
		}
	}
	report["consumers"] = consumers
	var st contract.StatusReply
	if err := c.Query(ctx, contract.StatusQuery{}, &st); err == nil {
		report["projections"] = st.Projections
	} else {
		report["projections"] = map[string]any{"error": err.Error()}
	}
	report["services"] = discover(nc)
	if asJSON {
		return printReply(env.stdout, report, nil)
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	for _, section := range []string{"streams", "consumers", "projections", "services"} {
		fmt.Fprintf(tw, "%s:\n", section)
		var lines []string
		b, _ := json.Marshal(report[section])
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		for k, v := range m {
			vb, _ := json.Marshal(v)
			lines = append(lines, fmt.Sprintf("  %s\t%s", k, vb))
		}
		sort.Strings(lines)
		for _, l := range lines {
			fmt.Fprintln(tw, l)
		}
	}
	return nil
}

// discover pings every micro service and counts instances by name, as
// `nats micro ls` does.
func discover(nc *nats.Conn) map[string][]string {
	out := map[string][]string{}
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return out
	}
	defer func() { _ = sub.Unsubscribe() }()
	subject, _ := micro.ControlSubject(micro.PingVerb, "", "")
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return out
	}
	timeout := time.After(500 * time.Millisecond)
	for {
		select {
		case m := <-replies:
			var ping micro.Ping
			if json.Unmarshal(m.Data, &ping) == nil {
				out[ping.Name] = append(out[ping.Name], ping.ID)
			}
		case <-timeout:
			return out
		}
	}
}
