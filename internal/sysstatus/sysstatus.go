// Package sysstatus collects one snapshot of a running Peon: its streams,
// durable consumers, projections (from the query service) and the micro
// services answering (deciders, queries, hosts, ...), with a verdict. The
// CLI's `peon status` and the gateway's /v1/status both report it.
package sysstatus

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
)

// Report is the snapshot.
type Report struct {
	Healthy     bool                                 `json:"healthy"`
	Problems    []string                             `json:"problems"`
	Streams     []Stream                             `json:"streams"`
	Consumers   []Consumer                           `json:"consumers"`
	Projections map[string]contract.ProjectionStatus `json:"projections"`
	Services    []Service                            `json:"services"`
	// Hosts are the host instances, active or standing by, and the turns they run.
	Hosts []Host    `json:"hosts"`
	At    time.Time `json:"at"`
}

// Stream is one stream's size.
type Stream struct {
	Name     string `json:"name"`
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	LastSeq  uint64 `json:"last_seq"`
	Replicas int    `json:"replicas"`
	Error    string `json:"error,omitempty"`
}

// Consumer is one durable consumer's backlog.
type Consumer struct {
	Stream      string `json:"stream"`
	Name        string `json:"name"`
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	AckFloor    uint64 `json:"ack_floor"`
	Error       string `json:"error,omitempty"`
}

// Service is one micro service by name, with its instances.
type Service struct {
	Name      string     `json:"name"`
	Instances []Instance `json:"instances"`
}

// Instance is one running instance of a service.
type Instance struct {
	ID       string            `json:"id"`
	Version  string            `json:"version"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// RequiredServices are the roles without which Peon does not work: no
// commands, no read model, no queries, no agent output.
var RequiredServices = []string{contract.DeciderService, contract.ProjectorService, contract.QueryService, contract.IngestService}

// Collect takes the snapshot. It fails only when NATS itself cannot be
// reached; every other problem is in the report.
func Collect(ctx context.Context, nc *nats.Conn) (Report, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return Report{}, err
	}
	r := Report{Projections: map[string]contract.ProjectionStatus{}, At: time.Now().UTC()}
	for _, name := range []string{contract.EventStream, contract.ProviderStream} {
		st := Stream{Name: name}
		if s, err := js.Stream(ctx, name); err != nil {
			if errors.Is(err, nats.ErrConnectionClosed) || errors.Is(err, context.DeadlineExceeded) {
				return r, err
			}
			st.Error = err.Error()
			r.Problems = append(r.Problems, "stream "+name+": "+err.Error())
		} else {
			info := s.CachedInfo()
			st.Messages, st.Bytes, st.LastSeq, st.Replicas = info.State.Msgs, info.State.Bytes, info.State.LastSeq, info.Config.Replicas
		}
		r.Streams = append(r.Streams, st)
	}
	r.Consumers = consumers(ctx, js)
	for _, c := range r.Consumers {
		if c.Error != "" {
			r.Problems = append(r.Problems, "consumer "+c.Name+": "+c.Error)
		}
	}
	var st contract.StatusReply
	if err := client.New(nc, 0).Query(ctx, contract.StatusQuery{}, &st); err != nil {
		r.Problems = append(r.Problems, "projections: "+err.Error())
	} else {
		r.Projections = st.Projections
		for name, p := range st.Projections {
			switch {
			case p.Degraded && p.Reason != "":
				r.Problems = append(r.Problems, "projection "+name+" is degraded: "+p.Reason)
			case p.Degraded:
				r.Problems = append(r.Problems, "projection "+name+" is degraded")
			}
		}
	}
	// Both broadcasts wait out the same window: ask them at once.
	hosts := make(chan []Host, 1)
	go func() { hosts <- DiscoverHosts(ctx, nc) }()
	r.Services = Discover(ctx, nc)
	r.Hosts = <-hosts
	for _, name := range RequiredServices {
		if !hasService(r.Services, name) {
			r.Problems = append(r.Problems, "no "+name+" instance answers")
		}
	}
	sort.Strings(r.Problems)
	r.Healthy = len(r.Problems) == 0
	if r.Problems == nil {
		r.Problems = []string{}
	}
	return r, nil
}

func hasService(services []Service, name string) bool {
	for _, s := range services {
		if s.Name == name && len(s.Instances) > 0 {
			return true
		}
	}
	return false
}

// consumers reports the durable consumers of the live read model and of
// provider-ingest.
func consumers(ctx context.Context, js jetstream.JetStream) []Consumer {
	want := map[string][]string{contract.ProviderStream: {provision.IngestConsumer}}
	streams := []string{contract.EventStream}
	if v, err := readmodel.CurrentVersion(ctx, js); err == nil {
		streams = append(streams, readmodel.SplitStream(v))
		layout, err := readmodel.DiscoverLayout(ctx, js, v)
		if err != nil {
			layout = readmodel.All
		}
		for _, p := range layout {
			want[p.Stream(v)] = append(want[p.Stream(v)], p.ConsumerName(v))
		}
	}
	var out []Consumer
	for _, stream := range append(streams, contract.ProviderStream) {
		for _, name := range want[stream] {
			c := Consumer{Stream: stream, Name: name}
			cons, err := js.Consumer(ctx, stream, name)
			if err == nil {
				var info *jetstream.ConsumerInfo
				if info, err = cons.Info(ctx); err == nil {
					c.Pending, c.AckPending, c.Redelivered, c.AckFloor = info.NumPending, info.NumAckPending, info.NumRedelivered, info.AckFloor.Stream
				}
			}
			if err != nil {
				c.Error = err.Error()
			}
			out = append(out, c)
		}
	}
	return out
}

// Discover asks every micro service for its info, as `nats micro info`
// does, and groups the instances by service name (sorted).
func Discover(ctx context.Context, nc *nats.Conn) []Service {
	subject, _ := micro.ControlSubject(micro.InfoVerb, "", "")
	byName := map[string]*Service{}
	gather(ctx, nc, subject, func(data []byte) {
		var info micro.Info
		if json.Unmarshal(data, &info) != nil || info.Name == "" {
			return
		}
		s, ok := byName[info.Name]
		if !ok {
			s = &Service{Name: info.Name}
			byName[info.Name] = s
		}
		s.Instances = append(s.Instances, Instance{ID: info.ID, Version: info.Version, Metadata: info.Metadata})
	})
	return sorted(byName)
}

// gatherWindow is how long a broadcast to micro services collects answers:
// every instance answers at once, so the window only bounds the slowest.
const gatherWindow = 400 * time.Millisecond

// gather publishes one request to a micro control subject and hands each
// answer to each, one at a time, until gatherWindow has passed or ctx ends.
func gather(ctx context.Context, nc *nats.Conn, subject string, each func([]byte)) {
	inbox := nc.NewRespInbox()
	replies := make(chan *nats.Msg, 256)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return
	}
	defer func() { _ = sub.Unsubscribe() }()
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return
	}
	wait := time.NewTimer(gatherWindow)
	defer wait.Stop()
	for {
		select {
		case m := <-replies:
			each(m.Data)
		case <-wait.C:
			return
		case <-ctx.Done():
			return
		}
	}
}

func sorted(byName map[string]*Service) []Service {
	out := make([]Service, 0, len(byName))
	for _, s := range byName {
		sort.Slice(s.Instances, func(i, j int) bool { return s.Instances[i].ID < s.Instances[j].ID })
		out = append(out, *s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
