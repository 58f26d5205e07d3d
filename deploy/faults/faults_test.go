//go:build faults

// Package faults is Peon's fault-injection suite. It runs a real 3-node
// NATS cluster (nats-server processes built from the pinned module, R3
// streams, fsync before every acknowledgement) with two instances of each
// Peon service as separate processes, drives a recorded workload, injects
// one fault per scenario, heals, and then checks the history: no
// acknowledged event lost, none duplicated, none unexpected, every
// client's commands in order, projections equal to a fresh replay, and the
// three replicas of the event stream identical.
//
//	go test -tags faults ./deploy/faults -v            (or: go tool -modfile=tools.mod task faults)
//
// PEON_FAULTS_REPORT=path writes the results table as Markdown;
// PEON_FAULTS_AGENTS=0 drives commands only (no provider events).
package faults

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/history"
	"github.com/peonhq/peon/internal/natsproc"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

// env is one cluster with its services.
type env struct {
	t      *testing.T
	target target
	nc     *nats.Conn
	js     jetstream.JetStream
}

func start(t *testing.T) *env {
	tg := startTarget(t)
	nc, js := natstest.ConnectURL(t, tg.URLs(), nats.MaxReconnects(-1), nats.ReconnectWait(200*time.Millisecond))
	return &env{t: t, target: tg, nc: nc, js: js}
}

// leader is the node leading the event stream (waiting for one to exist).
func (e *env) leader() int {
	for range 100 {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		s, err := e.js.Stream(ctx, contract.EventStream)
		cancel()
		if err == nil && s.CachedInfo().Cluster != nil {
			for i, n := range e.target.Nodes() {
				if n.Name() == s.CachedInfo().Cluster.Leader {
					return i
				}
			}
		}
		time.Sleep(200 * time.Millisecond)
	}
	e.t.Fatal("the event stream has no leader")
	return -1
}

// scenario is one fault: inject runs while the workload runs and returns
// when the fault is over (everything restarted, resumed or healed).
type scenario struct {
	name   string
	inject func(e *env)
}

var scenarios = []scenario{
	{"kill -9 the event stream leader, 3 times", func(e *env) {
		for range 3 {
			n := e.target.Nodes()[e.leader()]
			n.Kill()
			time.Sleep(4 * time.Second)
			n.Start()
			time.Sleep(4 * time.Second)
		}
	}},
	{"kill -9 every node, restart them", func(e *env) {
		for _, n := range e.target.Nodes() {
			n.Kill()
		}
		time.Sleep(2 * time.Second)
		for _, n := range e.target.Nodes() {
			n.Start()
		}
		e.target.WaitHealthy(60 * time.Second)
	}},
	{"SIGSTOP the event stream leader for 10 s", func(e *env) {
		n := e.target.Nodes()[e.leader()]
		n.Freeze()
		time.Sleep(10 * time.Second)
		n.Thaw()
	}},
	{"partition the event stream leader for 10 s", func(e *env) {
		e.target.Isolate(e.leader())
		time.Sleep(10 * time.Second)
		e.target.Heal()
	}},
	{"kill -9 a decider, a projector and an ingest instance", func(e *env) {
		for _, role := range roles {
			e.target.Services(role)[0].Kill()
			time.Sleep(2 * time.Second)
		}
		time.Sleep(4 * time.Second)
		for _, role := range roles {
			e.target.Services(role)[0].Start()
		}
	}},
}

// result is one row of the report.
type result struct {
	fault                string
	load                 float64 // acknowledged commands per second during the fault
	duration             time.Duration
	acked, providerAcked int
	lost, duplicated     int
	unexpected, reorder  int
	unavailable          time.Duration // longest stretch without an ack, from the fault to 5 s after it
	converged, replicas  bool
}

func TestFaults(t *testing.T) {
	var results []result
	for _, sc := range scenarios {
		t.Run(sc.name, func(t *testing.T) {
			results = append(results, run(t, sc))
		})
	}
	table := report(results)
	t.Log("\n" + table)
	if path := os.Getenv("PEON_FAULTS_REPORT"); path != "" {
		if err := os.WriteFile(path, []byte(table), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func run(t *testing.T, sc scenario) result {
	e := start(t)
	w := &workload{nc: e.nc, js: e.js, client: client.New(e.nc, domain.MessagePack), stop: make(chan struct{})}
	threads := e.createThreads(w, 6)

	// PEON_FAULTS_AGENTS=0 replaces the two agents with commanders, to
	// look at the command path alone.
	agents := os.Getenv("PEON_FAULTS_AGENTS") != "0"
	for i, thread := range threads {
		w.wg.Add(1)
		if i < 4 || !agents {
			go w.commander(i, thread)
		} else {
			go w.agent(i, thread)
		}
	}
	time.Sleep(3 * time.Second)
	from := time.Now()
	sc.inject(e)
	to := time.Now()
	time.Sleep(5 * time.Second) // recovery under load
	recovered := time.Now()
	close(w.stop)
	w.wg.Wait()

	e.target.WaitHealthy(60 * time.Second)
	e.waitIngestDrained()
	records, last := e.readStream()
	ops := w.rec.Ops()
	rep := history.Check(ops, w.pub.List(), records)
	t.Log(rep)
	if !rep.Valid() {
		t.Error("the history has anomalies")
	}
	res := result{fault: sc.name, duration: to.Sub(from), acked: rep.OK, providerAcked: rep.ProviderAcked,
		lost: len(rep.Lost), duplicated: len(rep.Duplicated), unexpected: len(rep.Unexpected), reorder: len(rep.Reordered),
		unavailable: history.MaxUnavailability(ops, from, recovered)}
	okDuring := 0
	for _, op := range ops {
		if op.Outcome == history.OK && op.Completed.After(from) && op.Completed.Before(to) {
			okDuring++
		}
	}
	res.load = float64(okDuring) / to.Sub(from).Seconds()
	if rep.OK < 50 {
		t.Errorf("only %d commands acknowledged: the workload hardly ran", rep.OK)
	}
	res.converged = e.projectionsEqualReplay(last)
	res.replicas = e.replicasAgree()
	return res
}

// createThreads creates a project and n threads, recorded like any other
// command (the threads' first events must come from known commands).
func (e *env) createThreads(w *workload, n int) []string {
	project := uuid.NewString()
	for {
		ctx, cancel := context.WithTimeout(context.Background(), attemptTimeout)
		_, err := w.client.Send(ctx, domain.CreateProject{CommandID: project, ProjectID: project, Name: "faults", Path: "/faults/" + project})
		cancel()
		if err == nil {
			break
		}
		time.Sleep(200 * time.Millisecond) // the services are still starting
	}
	w.project = project
	var threads []string
	for i := range n {
		thread := uuid.NewString()
		if outcome, _ := w.send(i, thread, domain.CreateThread{CommandID: uuid.NewString(), ThreadID: thread, ProjectID: project}); outcome != history.OK {
			e.t.Fatalf("create thread: %v", outcome)
		}
		threads = append(threads, thread)
	}
	return threads
}

// waitIngestDrained waits until provider-ingest has answered every
// provider event.
func (e *env) waitIngestDrained() {
	deadline := time.Now().Add(90 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
		c, err := e.js.Consumer(ctx, contract.ProviderStream, provision.IngestConsumer)
		if err == nil {
			info := c.CachedInfo()
			if info.NumPending == 0 && info.NumAckPending == 0 {
				cancel()
				return
			}
		}
		cancel()
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Error("provider-ingest did not drain its consumer")
}

// readStream reads the whole event stream for the checker. Reads are
// direct gets, which any replica answers, and a replica that was cut off or
// frozen may still be catching up after the cluster reports healthy: it
// would answer a shorter stream, and acknowledged events would look lost.
// So the read goes on from where it stopped until it reaches the leader's
// last sequence.
func (e *env) readStream() ([]history.Record, uint64) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	store := eventstore.New(e.js)
	var records []history.Record
	var last uint64
	errUndecodable := errors.New("undecodable event")
	err := retry.Startup.Until(ctx, 2*time.Minute, func(err error) bool { return errors.Is(err, errUndecodable) }, func() error {
		leader, err := store.LeaderLastSequence(ctx, contract.EventSubjects)
		if err != nil {
			return err // an election may still be under way
		}
		last, err = store.Load(ctx, contract.EventSubjects, last, func(r eventstore.Record) error {
			if r.Err != nil {
				return fmt.Errorf("%w %d: %w", errUndecodable, r.Sequence, r.Err)
			}
			records = append(records, history.FromStore(r))
			return nil
		})
		if err == nil && last < leader {
			err = fmt.Errorf("read the stream up to %d, the leader has %d: a replica is catching up", last, leader)
		}
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return records, last
}

// projectionsEqualReplay waits for the live projections to fold the whole
// stream, rebuilds the read model from sequence 1 into a new version, and
// compares the two byte for byte.
func (e *env) projectionsEqualReplay(last uint64) bool {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	meta, err := e.js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		e.t.Fatal(err)
	}
	// Right after a fault the cluster may still answer "temporarily
	// unavailable": looked up again, as a starting service does.
	var layout []readmodel.Projection
	err = retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
		layout, err = readmodel.DiscoverLayout(ctx, e.js, 1)
		return err
	})
	if err != nil {
		e.t.Fatal(err)
	}
	for _, p := range layout {
		for {
			entry, err := meta.Get(ctx, contract.MetaProgressPrefix+p.Key(1))
			var rec contract.ProgressRecord
			if err == nil && domain.Unmarshal(domain.MessagePack, entry.Value(), &rec) == nil && rec.LastFolded >= last {
				break
			}
			if ctx.Err() != nil {
				e.t.Errorf("projection %s did not fold up to %d", p.Key(1), last)
				return false
			}
			time.Sleep(200 * time.Millisecond)
		}
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if err := projector.Rebuild(ctx, e.js, log, 2, last, 0, nil); err != nil {
		e.t.Errorf("rebuild: %v", err)
		return false
	}
	diffs, err := projector.Compare(ctx, e.js, readmodel.BucketsV(1), readmodel.BucketsV(2))
	if err != nil {
		e.t.Errorf("compare: %v", err)
		return false
	}
	if len(diffs) > 0 {
		e.t.Errorf("the live read model differs from a replay in %d keys; first: %s", len(diffs), diffs[0])
		for _, d := range diffs {
			e.describeDiff(ctx, d)
		}
		return false
	}
	return true
}

// replicasAgree waits for every node's replica of the event stream to
// hold the same messages.
func (e *env) replicasAgree() bool {
	var states []natsproc.ReplicaState
	for range 60 {
		var err error
		states, err = e.target.Replicas(contract.EventStream)
		if err == nil && !slices.ContainsFunc(states, func(s natsproc.ReplicaState) bool {
			return s.Messages != states[0].Messages || s.LastSeq != states[0].LastSeq || s.Bytes != states[0].Bytes
		}) {
			return true
		}
		time.Sleep(500 * time.Millisecond)
	}
	e.t.Errorf("the event stream's replicas differ: %+v", states)
	return false
}

func report(results []result) string {
	var b strings.Builder
	b.WriteString("| Fault | Load during it (acked cmds/s) | Duration | Acked commands | Acked provider events | Lost | Duplicated | Unexpected | Out of order | Max unavailability | Projections = replay | Replicas agree |\n")
	b.WriteString("|---|---|---|---|---|---|---|---|---|---|---|---|\n")
	yes := map[bool]string{true: "yes", false: "**no**"}
	for _, r := range results {
		fmt.Fprintf(&b, "| %s | %.0f | %.1f s | %d | %d | %d | %d | %d | %d | %.1f s | %s | %s |\n",
			r.fault, r.load, r.duration.Seconds(), r.acked, r.providerAcked, r.lost, r.duplicated, r.unexpected, r.reorder,
			r.unavailable.Seconds(), yes[r.converged], yes[r.replicas])
	}
	return b.String()
}

// describeDiff logs what tells a missed write from a stale or a deleted
// one: each version's history of the key, and the thread's events.
func (e *env) describeDiff(ctx context.Context, diff string) {
	var key string
	var buckets []string
	switch {
	case strings.HasPrefix(diff, "peon_threads vs "), strings.HasPrefix(diff, "peon_threads: "):
		buckets = []string{readmodel.BucketsV(1).Threads, readmodel.BucketsV(2).Threads}
	case strings.HasPrefix(diff, "peon_messages vs "), strings.HasPrefix(diff, "peon_messages: "):
		buckets = []string{readmodel.BucketsV(1).Messages, readmodel.BucketsV(2).Messages}
	default:
		return
	}
	if _, rest, ok := strings.Cut(diff, "key "); ok {
		key = strings.Fields(rest)[0]
	}
	for _, bucket := range buckets {
		kv, err := e.js.KeyValue(ctx, bucket)
		if err != nil {
			continue
		}
		entries, err := kv.History(ctx, key)
		if err != nil {
			e.t.Logf("%s/%s: %v", bucket, key, err)
			continue
		}
		for _, entry := range entries {
			var v struct {
				Seq   uint64 `json:"seq"`
				Turns []any  `json:"turns"`
			}
			_ = domain.Unmarshal(domain.MessagePack, entry.Value(), &v)
			e.t.Logf("%s/%s: %s revision %d at %s, value seq %d, %d turns", bucket, key, entry.Operation(),
				entry.Revision(), entry.Created().Format("15:04:05.000"), v.Seq, len(v.Turns))
		}
	}
	thread, _, _ := strings.Cut(key, ".")
	store := eventstore.New(e.js)
	var lines []string
	_, err := store.Load(ctx, contract.ThreadFilter(thread), 0, func(rec eventstore.Record) error {
		lines = append(lines, fmt.Sprintf("%d %s %s %+v", rec.Sequence, rec.StoredAt.Format("15:04:05.000"),
			rec.Event.EventType(), rec.Event))
		return nil
	})
	if err != nil {
		e.t.Logf("events of %s: %v", thread, err)
	}
	if len(lines) > 40 {
		lines = append(lines[:20], append([]string{"..."}, lines[len(lines)-20:]...)...)
	}
	e.t.Logf("events of thread %s (partition %d of 3):\n%s", thread, readmodel.PartitionOf(thread, 3), strings.Join(lines, "\n"))
}
