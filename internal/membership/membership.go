// Package membership finds the live instances of a micro service and
// shares a fixed set of units among them, the same way in every instance,
// so that each unit has one owner without any coordination but discovery.
// The projector shares its projections this way and the decider its
// command partitions.
//
// Ownership found this way is a hint, never a lock: two instances may both
// believe they own a unit for a moment (one has seen a new member, the
// other not yet), or none (an owner died and its peers have not looked
// again yet). Whatever uses it must stay correct in both cases and only
// be faster when the hint holds.
package membership

import (
	"context"
	"encoding/json"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// DefaultWait is how long a probe collects answers: long enough for every
// instance on a busy server to answer a ping, short enough to look often.
const DefaultWait = 300 * time.Millisecond

// Members returns the sorted ids of the live instances of the micro
// service named service whose ping answer keep accepts (nil keeps every
// one), self included. It broadcasts one ping and collects answers for
// wait; an instance that does not answer within it is not a member.
func Members(ctx context.Context, nc *nats.Conn, service string, keep func(micro.Ping) bool, self string, wait time.Duration) ([]string, error) {
	subject, err := micro.ControlSubject(micro.PingVerb, service, "")
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
	deadline := time.Now().Add(wait)
	for {
		m, err := sub.NextMsg(time.Until(deadline))
		if err != nil || ctx.Err() != nil {
			break // the wait is over
		}
		var ping micro.Ping
		if json.Unmarshal(m.Data, &ping) != nil {
			continue
		}
		if (keep == nil || keep(ping)) && !slices.Contains(out, ping.ID) {
			out = append(out, ping.ID)
		}
	}
	slices.Sort(out)
	return out, nil
}

// Share returns the units (0..units-1) that member self owns among members
// (sorted, distinct ids): every len(members)-th, round robin. A member that
// does not find itself among the members (discovery failed, or it is not
// registered yet) owns every unit, which its users must tolerate anyway.
func Share(units int, members []string, self string) []int {
	i := slices.Index(members, self)
	var out []int
	for k := range units {
		if i < 0 || k%len(members) == i {
			out = append(out, k)
		}
	}
	return out
}
