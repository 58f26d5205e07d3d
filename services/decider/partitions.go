package decider

import (
	"context"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/membership"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Routing by aggregate (see pkg/contract, routing.go).
//
// Besides the plain command subjects, which every instance serves in one
// queue group, each instance serves its share of the command partitions
// (peon.cmd.part.<k>.>): it discovers the live decider instances every
// RebalanceEvery, sorts their ids and takes every n-th partition
// (internal/membership), subscribing in the decider's queue group. So the
// consecutive commands of one aggregate reach one instance, which decides
// them on its cached state without reading the stream.
//
// Ownership is a hint, not a lock, and the decider never relies on it:
//   - While shares change, two instances may serve a partition for a
//     moment; the queue group gives each command to one of them, and a
//     command decided on a cache behind the stream has its append refused
//     (the expectation) and is decided again on fresh state.
//   - An instance that stops drains its partitions (what it has received
//     is answered); one that dies leaves its partitions unserved until
//     the others look again (at most RebalanceEvery plus one probe). Until
//     then a routed command gets "no responders" at once and its client
//     sends it on the plain subject: slower, never lost, never twice.
//   - An instance starts by serving every partition (it knows no peers
//     yet), so a lone instance never leaves a gap; its first probe a few
//     hundred milliseconds later narrows that to its share.

// metaPartitions is the micro metadata key under which an instance says it
// serves command partitions, and how many there are: instances only share
// partitions with peers that count them the same way.
const metaPartitions = "command_partitions"

// partitions are the command partitions this instance serves.
type partitions struct {
	nc      *nats.Conn
	handler nats.MsgHandler
	subs    map[int]*nats.Subscription
}

// set serves exactly the partitions owned: it subscribes to the new ones
// before it drains the others, so a partition moving here is never
// unserved because of this instance.
func (p *partitions) set(owned []int) error {
	keep := map[int]bool{}
	for _, k := range owned {
		keep[k] = true
		if p.subs[k] != nil {
			continue
		}
		sub, err := p.nc.QueueSubscribe(contract.CommandPartitionFilter(k), contract.CommandQueue, p.handler)
		if err != nil {
			return err
		}
		p.subs[k] = sub
	}
	var lost []*nats.Subscription
	for k, sub := range p.subs {
		if !keep[k] {
			lost = append(lost, sub)
			delete(p.subs, k)
		}
	}
	drainAll(lost)
	return p.nc.Flush()
}

// owned is how many partitions the instance serves.
func (p *partitions) owned() int { return len(p.subs) }

// stopAll drains every partition: what was received is still handled.
func (p *partitions) stopAll() {
	var all []*nats.Subscription
	for k, sub := range p.subs {
		all = append(all, sub)
		delete(p.subs, k)
	}
	drainAll(all)
}

// drainWait bounds how long drained subscriptions may take, together, to
// hand over the messages they hold.
const drainWait = 2 * time.Second

// drainAll stops subscriptions after the messages they hold are handed to
// their handler (which starts their work), all at once, waiting for that
// at most drainWait in all; what is still held then is dropped (its
// senders time out, and nothing of it was decided).
func drainAll(subs []*nats.Subscription) {
	for _, sub := range subs {
		if sub.Drain() != nil {
			_ = sub.Unsubscribe()
		}
	}
	deadline := time.Now().Add(drainWait)
	for _, sub := range subs {
		for sub.IsValid() && time.Now().Before(deadline) {
			time.Sleep(5 * time.Millisecond)
		}
		if sub.IsValid() {
			_ = sub.Unsubscribe()
		}
	}
}

// followPartitions looks for the instance's peers every RebalanceEvery and
// serves its share, until ctx is done. A failed probe keeps the current
// share.
func (s *Service) followPartitions(ctx context.Context, p *partitions, self string) {
	tick := time.NewTicker(s.cfg.RebalanceEvery)
	defer tick.Stop()
	sameCount := func(ping micro.Ping) bool {
		return ping.Metadata[metaPartitions] == strconv.Itoa(contract.CommandPartitions)
	}
	for {
		members, err := membership.Members(ctx, s.nc, contract.DeciderService, sameCount, self, membership.DefaultWait)
		if ctx.Err() != nil {
			return
		}
		if err == nil {
			err = p.set(membership.Share(contract.CommandPartitions, members, self))
		}
		if err != nil {
			s.log.Warn("decider partitions", "err", err, "instance", s.cfg.Instance)
		}
		s.ownedPartitions.Store(int64(p.owned()))
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
	}
}

// routedHandler serves a partition's subscription: it reads the command's
// endpoint from the subject and handles the request as its plain
// endpoint would, counting it in that endpoint's replies.
func (s *Service) routedHandler(ctx context.Context) nats.MsgHandler {
	return func(m *nats.Msg) {
		endpoint, ok := contract.RoutedEndpoint(m.Subject)
		spec, known := domain.CommandAt(endpoint)
		if !ok || !known {
			// One counter for every unknown routed subject: a sender
			// cannot grow the counters with made-up subjects.
			req := routedRequest{msg: m, endpoint: contract.CommandPrefix + "." + contract.CommandPartitionToken}
			enc := domain.RequestEncoding(m.Header.Get(contract.HeaderContentType), m.Data)
			s.replies.Respond(req, enc, nil, domain.Errorf(domain.CodeBadRequest, "no command is served on %s", m.Subject))
			return
		}
		s.routed.Add(1)
		s.dispatch(ctx, spec.Type, routedRequest{msg: m, endpoint: contract.CommandPrefix + "." + spec.Endpoint}, m.Header, m.Data)
	}
}

// routedRequest is a routed command as the Replier sees it: its counts go
// to the endpoint's plain subject, so an endpoint's stats count its
// commands however they were sent.
type routedRequest struct {
	msg      *nats.Msg
	endpoint string
}

func (r routedRequest) Subject() string { return r.endpoint }
func (r routedRequest) Reply() string   { return r.msg.Reply }
