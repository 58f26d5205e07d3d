package projector

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
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
	serviceName   = contract.ProjectorService
	metaAssigning = "assigning_version"
)

// units are the projections of one read-model version running in this
// instance: all of them (a rebuild), or its share among its peers.
type units struct {
	ctx       context.Context
	s         *Service
	cfg       Config
	kv        map[string]jetstream.KeyValue
	layout    []readmodel.Projection
	consumers map[string]jetstream.Consumer
	running   map[int]*unit // by index in the layout
	// failed receives the error of a projection that stopped on a
	// failure no retry mends; the instance stops with it.
	failed chan error
}

// all is every index of the layout.
func (u *units) all() []int {
	out := make([]int, len(u.layout))
	for k := range out {
		out[k] = k
	}
	return out
}

// follow looks for the instance's peers every RebalanceEvery and runs its
// share, until ctx is done.
func (u *units) follow(ctx context.Context, self string) error {
	tick := time.NewTicker(u.cfg.RebalanceEvery)
	defer tick.Stop()
	for {
		ms, err := members(ctx, u.s.js.Conn(), u.cfg.Version, self)
		switch {
		case err != nil && len(u.running) == 0:
			u.set(u.all()) // no peers known: run everything (pinning keeps it correct)
		case err != nil:
			u.s.log.Warn("projector discovery", "err", err) // keep the current share
		default:
			u.set(share(len(u.layout), ms, self))
		}
		select {
		case <-ctx.Done():
			return nil
		case err := <-u.failed:
			return err
		case <-tick.C:
		}
	}
}

// wait runs until ctx is done or a projection fails.
func (u *units) wait(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return nil
	case err := <-u.failed:
		return err
	}
}

// set runs exactly the projections owned: it stops the others cleanly and
// starts the missing ones.
func (u *units) set(owned []int) {
	defer u.s.ready.Signal() // running its share, which may be none
	changed := false
	for k, r := range u.running {
		if !slices.Contains(owned, k) {
			r.stop()
			delete(u.running, k)
			changed = true
		}
	}
	for _, k := range owned {
		if u.running[k] == nil {
			p := u.layout[k]
			u.running[k] = startUnit(u.ctx, newRunner(p, u.cfg, u.s.js, u.kv, u.s.log.With("instance", u.cfg.Instance)), u.consumers[p.Name], u.failed)
			changed = true
		}
	}
	if !changed {
		return
	}
	var rs []*runner
	var names []string
	for k, p := range u.layout {
		if r := u.running[k]; r != nil {
			rs, names = append(rs, r.r), append(names, p.Name)
		}
	}
	u.s.setRunners(rs)
	u.s.log.Info("projector running", "instance", u.cfg.Instance, "version", u.cfg.Version, "projections", names)
}

func (u *units) stopAll() {
	for _, r := range u.running {
		r.stop()
	}
	u.running = map[int]*unit{}
	u.s.setRunners(nil)
}

// unit is one projection running in this instance.
type unit struct {
	r      *runner
	cancel context.CancelFunc
	done   chan struct{}
}

func startUnit(ctx context.Context, r *runner, cons jetstream.Consumer, failed chan<- error) *unit {
	ctx, cancel := context.WithCancel(ctx)
	u := &unit{r: r, cancel: cancel, done: make(chan struct{})}
	go func() {
		defer close(u.done)
		if err := r.run(ctx, cons); err != nil {
			select {
			case failed <- err:
			default: // the instance is stopping with another failure already
			}
		}
	}()
	return u
}

// stop ends the unit cleanly: the runner gives back what it holds and
// unpins, so the next owner takes over at once.
func (u *unit) stop() {
	u.cancel()
	<-u.done
}
