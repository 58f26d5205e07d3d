package projector

import (
	"context"
	"slices"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/membership"
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
// read-model version (micro discovery of peon-projector) and pulls on the
// projections whose index in the layout falls to it (internal/membership). When the membership changes (an instance starts, stops or stops
// answering) the shares are recomputed: an instance gives up what is no
// longer its share cleanly (gives back what it holds and unpins), and
// starts pulling on what is new; the pin of an instance that died expires
// after the consumer's pinned TTL and passes to the new owner.

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

// assigns keeps the peers that share the projections of this read-model
// version.
func (u *units) assigns(p micro.Ping) bool {
	return p.Metadata[metaAssigning] == strconv.Itoa(u.cfg.Version)
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
		ms, err := membership.Members(ctx, u.s.js.Conn(), serviceName, u.assigns, self, membership.DefaultWait)
		switch {
		case err != nil && len(u.running) == 0:
			u.set(u.all()) // no peers known: run everything (pinning keeps it correct)
		case err != nil:
			u.s.log.Warn("projector discovery", "err", err) // keep the current share
		default:
			u.set(membership.Share(len(u.layout), ms, self))
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
