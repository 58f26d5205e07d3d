package projector

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// How instances share the projections of a layout.
//
// Every projection is a durable consumer in a pinned priority group, so
// however instances pull, one of them at a time receives a projection's
// events, and the fold is correct whatever instance folds what (state comes
// from the stream, writes are guarded by sequence). Assignment therefore
// only spreads the work: each instance discovers the live instances of its
// read-model version (micro discovery of peon-projector), sorts their ids,
// and pulls on the projections whose index in the layout falls to it round
// robin. When the membership changes (an instance starts, stops or stops
// answering) the shares are recomputed: an instance gives up what is no
// longer its share cleanly (gives back what it holds and unpins), and
// starts pulling on what is new; the pin of an instance that died expires
// after the consumer's pinned TTL and passes to the new owner.

// share returns the indexes of the layout's projections that member self
// owns among members (sorted, distinct ids). An instance that does not
// find itself among the members (discovery failed or not registered yet)
// owns everything: all instances pulling is still correct.
func share(units int, members []string, self string) []int {
	i := slices.Index(members, self)
	var out []int
	for k := range units {
		if i < 0 || k%len(members) == i {
			out = append(out, k)
		}
	}
	return out
}

// discoveryWait is how long a membership probe collects answers.
const discoveryWait = 300 * time.Millisecond

// members returns the sorted ids of the live projector instances that
// assign projections of read model version v, self included.
func members(ctx context.Context, nc *nats.Conn, v int, self string) ([]string, error) {
	subject, err := micro.ControlSubject(micro.PingVerb, serviceName, "")
	if err != nil {
		return nil, err
	}
	inbox := nc.NewInbox()
	sub, err := nc.SubscribeSync(inbox)
	if err != nil {
		return nil, err
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return nil, err
	}
	out := []string{self}
	deadline := time.Now().Add(discoveryWait)
	for {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil || ctx.Err() != nil {
			break // the wait is over
		}
		var ping micro.Ping
		if json.Unmarshal(m.Data, &ping) != nil {
			continue
		}
		if ping.Metadata[metaAssigning] == strconv.Itoa(v) && !slices.Contains(out, ping.ID) {
			out = append(out, ping.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// The micro metadata an instance registers with: metaAssigning holds the
// read-model version whose projections it shares with its peers (absent on
// instances that run a fixed set, such as a rebuild).
const (
	serviceName   = "peon-projector"
	metaAssigning = "assigning_version"
)
