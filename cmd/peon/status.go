package main

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/internal/sysstatus"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
)

// statusCmd reports whether Peon is healthy: streams, projections, the
// ingest consumer and the services answering, each as one table, with one
// verdict line; degraded exits 1.
type statusCmd struct {
	Client clientFlags `embed:""`
	MaxLag uint64      `default:"1000" help:"a projection further behind than this many events makes Peon degraded"`
}

// statusReport is what status gathers; its JSON is `peon status --json`.
type statusReport struct {
	Verdict  string                  `json:"verdict"` // ok or degraded
	Problems []string                `json:"problems"`
	Streams  map[string]streamStatus `json:"streams"`
	// Consumers are the durable consumers: one per projection, and ingest's.
	Consumers map[string]consumerStatus `json:"consumers"`
	// Projections are the query service's status reply, as it is: fields
	// it adds show up here and in the table.
	Projections map[string]map[string]any `json:"projections"`
	// Reply holds the status reply's other top-level fields, if any.
	Reply    map[string]any           `json:"reply,omitempty"`
	Services map[string]serviceStatus `json:"services"`
	// Hosts are the host instances, active or standing by, and the turns they run.
	Hosts   []sysstatus.Host `json:"hosts"`
	version int
	layout  []readmodel.Projection
	maxLag  uint64
}

type streamStatus struct {
	Messages     uint64 `json:"messages"`
	Bytes        uint64 `json:"bytes"`
	LastSequence uint64 `json:"last_sequence"`
	Replicas     int    `json:"replicas"`
	Error        string `json:"error,omitempty"`
}

type consumerStatus struct {
	Pending     uint64 `json:"pending"`
	AckPending  int    `json:"ack_pending"`
	Redelivered int    `json:"redelivered"`
	AckFloor    uint64 `json:"ack_floor"`
	Error       string `json:"error,omitempty"`
}

type serviceStatus struct {
	Instances int      `json:"instances"`
	Names     []string `json:"names"`
}

func (c *statusCmd) Run(ctx context.Context, env *environment) error {
	cl, nc, err := c.Client.dial("status")
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	r, err := gatherStatus(ctx, nc, cl, c.MaxLag)
	if err != nil {
		return err
	}
	if c.Client.JSON {
		if err := printJSON(env.stdout, r); err != nil {
			return err
		}
	} else {
		printStatus(env.stdout, paint(env.colour(env.stdout)), r)
	}
	if r.Verdict != "ok" {
		return errSilent
	}
	return nil
}

func gatherStatus(ctx context.Context, nc *nats.Conn, cl *client.Client, maxLag uint64) (*statusReport, error) {
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	r := &statusReport{Streams: map[string]streamStatus{}, Consumers: map[string]consumerStatus{},
		Projections: map[string]map[string]any{}, Services: map[string]serviceStatus{}, maxLag: maxLag}
	problem := func(format string, args ...any) { r.Problems = append(r.Problems, fmt.Sprintf(format, args...)) }
	for _, name := range []string{contract.EventStream, contract.ProviderStream} {
		s, err := js.Stream(ctx, name)
		if errors.Is(err, jetstream.ErrStreamNotFound) {
			r.Streams[name] = streamStatus{Error: "missing"}
			problem("stream %s is missing (run peon setup)", name)
			continue
		}
		if err != nil {
			return nil, unavailableError{fmt.Errorf("stream %s: %w", name, err)}
		}
		info := s.CachedInfo()
		r.Streams[name] = streamStatus{Messages: info.State.Msgs, Bytes: info.State.Bytes,
			LastSequence: info.State.LastSeq, Replicas: info.Config.Replicas}
	}
	if r.version, err = readmodel.CurrentVersion(ctx, js); err != nil {
		problem("read model version unknown: %v", err)
		r.version = 1
	}
	if r.layout, err = readmodel.DiscoverLayout(ctx, js, r.version); err != nil {
		r.layout = readmodel.All
	}
	consumers := map[string]string{provision.IngestConsumer: contract.ProviderStream}
	for _, p := range r.layout {
		consumers[p.ConsumerName(r.version)] = p.Stream(r.version)
	}
	for name, stream := range consumers {
		cons, err := js.Consumer(ctx, stream, name)
		if err != nil {
			r.Consumers[name] = consumerStatus{Error: err.Error()}
			problem("consumer %s: %v", name, err)
			continue
		}
		info := cons.CachedInfo()
		r.Consumers[name] = consumerStatus{Pending: info.NumPending, AckPending: info.NumAckPending,
			Redelivered: info.NumRedelivered, AckFloor: info.AckFloor.Stream}
	}
	var reply map[string]any
	if err := cl.Query(ctx, contract.StatusQuery{}, &reply); err != nil {
		problem("the query service does not answer status: %v", err)
	}
	for k, v := range reply {
		if k != "projections" {
			if r.Reply == nil {
				r.Reply = map[string]any{}
			}
			r.Reply[k] = v
		}
	}
	if projections, ok := reply["projections"].(map[string]any); ok {
		for name, v := range projections {
			if fields, ok := v.(map[string]any); ok {
				r.Projections[name] = fields
			}
		}
	}
	for _, name := range sortedKeys(r.Projections) {
		if why := projectionProblem(r.Projections[name], maxLag); why != "" {
			problem("projection %s %s", name, why)
		}
	}
	r.Problems = append(r.Problems, replyProblems(r.Reply)...)
	// Both broadcasts wait out the same window: ask them at once.
	hosts := make(chan []sysstatus.Host, 1)
	go func() { hosts <- sysstatus.DiscoverHosts(ctx, nc) }()
	r.Services = discover(ctx, nc)
	r.Hosts = <-hosts
	for _, name := range sysstatus.RequiredServices {
		if r.Services[name].Instances == 0 {
			problem("no %s instance answers", name)
		}
	}
	r.Verdict = "ok"
	if len(r.Problems) > 0 {
		r.Verdict = "degraded"
	}
	return r, nil
}

// projectionProblem says what is wrong with one projection, from the
// fields the status reply gives: lag, parked events, a degraded flag and
// whatever reasons it lists.
func projectionProblem(fields map[string]any, maxLag uint64) string {
	var why []string
	if lag := number(fields["lag"]); lag > float64(maxLag) {
		why = append(why, fmt.Sprintf("is %.0f events behind (more than %d)", lag, maxLag))
	}
	if parked := number(fields["parked"]); parked > 0 {
		why = append(why, fmt.Sprintf("parked %.0f events it could not fold", parked))
	}
	why = append(why, reasonsOf(fields)...)
	if len(why) == 0 && fields["degraded"] == true {
		why = append(why, "is degraded")
	}
	return joinReasons(why)
}

// replyProblems are the problems the status reply reports at its top level.
func replyProblems(reply map[string]any) []string {
	out := reasonsOf(reply)
	if len(out) == 0 && reply["degraded"] == true {
		out = append(out, "the query service reports the system degraded")
	}
	return out
}

// reasonsOf reads a reasons field (a string or a list of strings).
func reasonsOf(fields map[string]any) []string {
	var out []string
	for _, key := range []string{"reason", "reasons", "degraded_reasons"} {
		switch v := fields[key].(type) {
		case string:
			if v != "" {
				out = append(out, v)
			}
		case []any:
			for _, x := range v {
				if s, ok := x.(string); ok && s != "" {
					out = append(out, s)
				} else if x != nil {
					b, _ := json.Marshal(x)
					out = append(out, string(b))
				}
			}
		}
	}
	return out
}

func joinReasons(why []string) string { return strings.Join(why, "; ") }

func number(v any) float64 {
	f, _ := v.(float64)
	return f
}

// discover gathers the micro services' instances by name, as `nats micro
// ls` does, each named by the instance in its metadata.
func discover(ctx context.Context, nc *nats.Conn) map[string]serviceStatus {
	out := map[string]serviceStatus{}
	for _, svc := range sysstatus.Discover(ctx, nc) {
		s := serviceStatus{Instances: len(svc.Instances)}
		for _, in := range svc.Instances {
			s.Names = append(s.Names, cmp.Or(in.Metadata["instance"], in.ID))
		}
		slices.Sort(s.Names)
		out[svc.Name] = s
	}
	return out
}

// defaultLayout is the projections of a read model that has not been split.
func defaultLayout() []readmodel.Projection { return readmodel.All }
