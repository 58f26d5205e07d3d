package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/embednats"
	"github.com/peonhq/peon/internal/loadgen"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// benchSizes are the sizes of a run.
type benchSizes struct {
	raw, streamDeltas, rebuild, memEvents, memThreads int
	commandFor                                        time.Duration
	clients, instances, streamThreads                 []int
	// The glass scenario: glassAgents agents streaming for glassFor, once
	// at each of glassRates (deltas per second, all agents together).
	glassAgents int
	glassFor    time.Duration
	glassRates  []int
}

var (
	fullRun = benchSizes{raw: 100_000, streamDeltas: 200_000, rebuild: 1_000_000, memEvents: 1_000_000, memThreads: 10_000, commandFor: 8 * time.Second, clients: []int{1, 16, 64}, instances: []int{1, 2}, streamThreads: []int{1, 100, 1000},
		glassAgents: 200, glassFor: 10 * time.Second, glassRates: []int{10_000}}
	quickRun = benchSizes{raw: 10_000, streamDeltas: 10_000, rebuild: 20_000, memEvents: 8_000, memThreads: 500, commandFor: 1500 * time.Millisecond, clients: []int{1, 16}, instances: []int{1}, streamThreads: []int{1, 100},
		glassAgents: 50, glassFor: 2 * time.Second, glassRates: []int{1000}}
)

// benchCmd runs the load generator and prints each figure beside its raw
// JetStream baseline measured in the same run. By default it runs on its
// own embedded server with Peon's services in-process; with --nats-url it
// drives an already running Peon (raw, commands, stream, glass and memory:
// they add bench projects and a scratch stream to that deployment).
type benchCmd struct {
	Quick                bool   `help:"a short run of every scenario (under a minute)"`
	JSON                 bool   `name:"json" help:"print the report as JSON"`
	SyncAlways           bool   `help:"fsync every write (the production setting)"`
	Scenarios            string `default:"raw,commands,stream,glass,rebuild,memory" help:"scenarios to run, comma-separated (with --cluster: raw,commands,stream,glass unless named)"`
	DataDir              string `placeholder:"DIR" help:"JetStream directory (default: a temporary one, removed after); with --cluster it holds the nodes' stores, configurations and logs, and is kept"`
	CPUProfile           string `name:"cpuprofile" placeholder:"FILE" help:"write a CPU profile of the whole run (server and services) to this file"`
	RebuildEvents        int    `help:"events the rebuild scenario replays (default 1000000, 20000 with --quick)"`
	NATSURL              string `name:"nats-url" placeholder:"URL" help:"drive a running Peon at this URL (admin credentials) instead of an embedded one"`
	TranscriptPartitions int    `default:"1" help:"split the transcript projection this many ways (embedded server or --cluster)"`
	Projectors           int    `default:"1" help:"projector instances to run (embedded server only)"`
	StreamDeciders       int    `default:"1" help:"decider instances during the stream and glass scenarios (embedded server only)"`
	GlassRates           string `name:"glass-rates" placeholder:"N,..." help:"deltas per second (all agents together) the glass scenario runs at, one run each, comma-separated (default 10000, 1000 with --quick)"`
	RSS                  string `name:"rss" placeholder:"NAME=PID,..." help:"with --nats-url: report the resident memory of these local processes after the run"`
	Cluster              int    `placeholder:"N" help:"start N local nats-server processes as a cluster (R3, or R1 for N=1; sync always unless --cluster-sync) and every role as its own process, and measure that"`
	Instances            string `placeholder:"ROLE=K,..." help:"with --cluster: processes per role (decider, projector, query, provider-ingest; 1 each unless named; projector=0 measures commands without the read model)"`
	ClusterSync          string `default:"always" enum:"always,default" placeholder:"always|default" help:"with --cluster: the nodes' sync_interval, always (fsync every write, as deployed) or nats-server's default (2 min)"`
	Profile              string `placeholder:"DIR" help:"with --cluster: every process writes a CPU profile of its whole life to DIR (decider-1.pprof, nats-1.pprof, ..., bench.pprof)"`
	Clients              string `placeholder:"N,..." help:"client counts of the commands scenario (default 1,16,64; 1,16 with --quick)"`
}

// everyScenario is the --scenarios default: with --cluster it stands for
// the scenarios a cluster runs.
const everyScenario = "raw,commands,stream,glass,rebuild,memory"

func (c *benchCmd) Run(ctx context.Context, env *environment) error {
	return runBench(ctx, env, c)
}

func runBench(ctx context.Context, env *environment, c *benchCmd) error {
	quick, asJSON, syncAlways, only, dataDir, cpuProfile := &c.Quick, &c.JSON, &c.SyncAlways, &c.Scenarios, &c.DataDir, &c.CPUProfile
	rebuildEvents, external, partitions, projectors, streamDeciders, rssOf := &c.RebuildEvents, &c.NATSURL, &c.TranscriptPartitions, &c.Projectors, &c.StreamDeciders, &c.RSS
	sizes := fullRun
	if *quick {
		sizes = quickRun
	}
	if *partitions < 1 || *partitions > readmodel.MaxTranscriptPartitions || *projectors < 1 || *projectors > 16 || *streamDeciders < 1 || *streamDeciders > 16 {
		return usagef("--transcript-partitions must be within 1..%d, --projectors and --stream-deciders within 1..16", readmodel.MaxTranscriptPartitions)
	}
	if *rebuildEvents > 0 {
		sizes.rebuild = *rebuildEvents
	}
	if c.Clients != "" {
		clients, err := parseClients(c.Clients)
		if err != nil {
			return err
		}
		sizes.clients = clients
	}
	if c.GlassRates != "" {
		rates, err := parseGlassRates(c.GlassRates)
		if err != nil {
			return err
		}
		sizes.glassRates = rates
	}
	if c.Cluster != 0 || c.Instances != "" || c.Profile != "" || c.ClusterSync != "always" {
		if err := c.checkCluster(); err != nil {
			return err
		}
		if *only == everyScenario {
			*only = "raw,commands,stream,glass"
		}
	}
	run := map[string]bool{}
	for _, s := range strings.Split(*only, ",") {
		switch s = strings.TrimSpace(s); s {
		case "raw", "commands", "stream", "glass", "rebuild", "memory":
			run[s] = true
		default:
			return usagef("unknown scenario %q", s)
		}
	}
	switch {
	case c.Cluster != 0 && run["rebuild"]:
		return usagef("--cluster runs raw, commands, stream, glass and memory (a rebuild needs the projector in this process)")
	case *external != "" && run["rebuild"]:
		return usagef("--nats-url runs raw, commands, stream, glass and memory (a rebuild needs the projector in this process)")
	}
	pids, err := parsePids(*rssOf)
	if err != nil {
		return err
	}
	// Only once the flags are known good: a refused run writes no file.
	if *cpuProfile != "" {
		stop, err := startCPUProfile(*cpuProfile)
		if err != nil {
			return err
		}
		defer stop()
	}
	if c.Cluster != 0 {
		return runBenchCluster(ctx, env, c, run, sizes)
	}
	if *external != "" {
		return runBenchExternal(ctx, env, *external, run, sizes, *asJSON, pids)
	}
	if *dataDir == "" {
		dir, err := os.MkdirTemp("", "peon-bench-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		*dataDir = dir
	}
	srv, err := embednats.Start(embednats.Config{Host: "127.0.0.1", Port: -1, StoreDir: *dataDir, SyncAlways: *syncAlways, Name: "peon-bench"})
	if err != nil {
		return err
	}
	defer srv.Shutdown()
	report := &loadgen.Report{Machine: machine(), Server: "nats-server " + serverModuleVersion, Started: time.Now().UTC(),
		Sync: syncName(*syncAlways)}
	b := &benchStack{url: srv.ClientURL(), partitions: *partitions, projectors: *projectors, streamDeciders: *streamDeciders, log: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), progress: newProgress(env, "bench")}
	defer b.stopAll()
	if err := b.start(ctx); err != nil {
		return err
	}
	return b.report(ctx, env, run, sizes, report, *asJSON)
}

// syncName is a server's sync setting as the report names it.
func syncName(always bool) string {
	if always {
		return "always"
	}
	return "default (2 min)"
}

// checkCluster lists what --cluster cannot be combined with.
func (c *benchCmd) checkCluster() error {
	switch {
	case c.Cluster == 0 && c.Instances != "":
		return usagef("--instances needs --cluster")
	case c.Cluster == 0 && c.ClusterSync != "always":
		return usagef("--cluster-sync needs --cluster (without it, --sync-always chooses)")
	case c.Cluster == 0:
		return usagef("--profile needs --cluster (without it, --cpuprofile profiles the one process)")
	case c.Cluster < 1 || c.Cluster == 2 || c.Cluster > maxClusterNodes:
		return usagef("--cluster %d: want 1 (R1) or 3..%d (R3; two nodes would need R2, which survives no loss)", c.Cluster, maxClusterNodes)
	case c.NATSURL != "":
		return usagef("--cluster starts its own servers: not with --nats-url")
	case c.RSS != "":
		return usagef("--cluster reports its own processes' memory: not with --rss")
	case c.SyncAlways:
		return usagef("--cluster sets its nodes' sync with --cluster-sync (always unless told): not with --sync-always")
	case c.CPUProfile != "":
		return usagef("--cluster runs many processes: --profile DIR profiles each, not --cpuprofile")
	case c.Projectors != 1 || c.StreamDeciders != 1:
		return usagef("--cluster lays services out with --instances: not with --projectors or --stream-deciders")
	}
	return nil
}

// runBenchExternal drives a running deployment: its services, its instances.
func runBenchExternal(ctx context.Context, env *environment, url string, run map[string]bool, sizes benchSizes, asJSON bool, pids map[string]int) error {
	b := &benchStack{url: url, external: true, log: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), progress: newProgress(env, "bench")}
	defer b.stopAll()
	var err error
	if b.admin, err = nats.Connect(url); err != nil {
		return unavailableError{err}
	}
	if b.js, err = jetstream.New(b.admin); err != nil {
		return err
	}
	b.stops = map[string]func(){}
	sizes.instances = []int{0} // whatever is running
	report := &loadgen.Report{Machine: machine() + " (load generator)", Server: "external nats-server " + b.admin.ConnectedServerVersion(),
		Started: time.Now().UTC(), Sync: "as configured"}
	b.pids = pids
	return b.report(ctx, env, run, sizes, report, asJSON)
}

// maxBenchClients bounds --clients: each client is a goroutine with one
// command in flight, and beyond this the load generator measures itself.
const maxBenchClients = 1024

// parseClients reads --clients: counts, comma-separated, run in
// ascending order (the largest is the one compared with raw throughput).
func parseClients(s string) ([]int, error) {
	var out []int
	for _, field := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(field))
		if err != nil || n < 1 || n > maxBenchClients {
			return nil, usagef("--clients %q: want counts within 1..%d, comma-separated", s, maxBenchClients)
		}
		if !slices.Contains(out, n) {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return out, nil
}

// parsePids reads name=pid,name=pid.
func parsePids(s string) (map[string]int, error) {
	out := map[string]int{}
	if s == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		name, pid, ok := strings.Cut(pair, "=")
		n, err := strconv.Atoi(pid)
		if !ok || err != nil || n <= 0 {
			return nil, usagef("--rss %q: want name=pid,name=pid", s)
		}
		out[name] = n
	}
	return out, nil
}

// report runs the scenarios and prints the report.
func (b *benchStack) report(ctx context.Context, env *environment, run map[string]bool, sizes benchSizes, report *loadgen.Report, asJSON bool) error {
	start := time.Now()
	if err := b.scenarios(ctx, run, sizes, report); err != nil {
		return err
	}
	report.Duration = time.Since(start).Round(time.Second).String()
	compare(report, sizes, b.cluster != nil && b.cluster.replicas == 3)
	b.progress.done()
	if asJSON {
		return printReply(env.stdout, report, nil)
	}
	printReport(env.stdout, report)
	return nil
}

// benchStack is Peon running in this process for the benchmark.
type benchStack struct {
	url      string
	external bool // a running deployment: start and stop no services
	// partitions and projectors lay out the transcript and run that many
	// projector instances (embedded server only).
	partitions, projectors int
	// streamDeciders is how many decider instances serve the stream and
	// glass scenarios.
	streamDeciders int
	pids           map[string]int // external processes whose memory is reported
	// cluster, when set, is the topology the bench started as processes:
	// figures are named by its decider instances, not "external".
	cluster *benchCluster
	// cpu, when set, reads the CPU seconds each role has used so far.
	cpu      func() map[string]float64
	log      *slog.Logger
	progress *progress
	admin    *nats.Conn
	js       jetstream.JetStream
	stops    map[string]func()
	deciders []func()
}

func (b *benchStack) start(ctx context.Context) error {
	var err error
	if b.admin, err = nats.Connect(b.url); err != nil {
		return err
	}
	if b.js, err = jetstream.New(b.admin); err != nil {
		return err
	}
	if err := provision.Run(ctx, b.js, provision.Options{TranscriptPartitions: b.partitions}); err != nil {
		return err
	}
	b.stops = map[string]func(){}
	b.addDecider(decider.Config{})
	for i := range max(b.projectors, 1) {
		name := fmt.Sprint("projector-", i)
		b.run(name, func(nc *nats.Conn) (service, error) {
			return projector.New(nc, projector.Config{Instance: name}, b.log)
		})
	}
	for _, role := range []string{"query", "provider-ingest"} {
		b.run(role, func(nc *nats.Conn) (service, error) {
			if role == "query" {
				return query.New(nc, query.Config{Instance: "bench"}, b.log)
			}
			return ingest.New(nc, ingest.Config{Instance: "bench"}, b.log)
		})
	}
	for name, n := range map[string]int{contract.DeciderService: 1, contract.ProjectorService: max(b.projectors, 1), contract.QueryService: 1, contract.IngestService: 1} {
		if err := waitInstances(ctx, b.admin, name, n); err != nil {
			return err
		}
	}
	return nil
}

// run starts a service on its own connection; the returned stop waits for it.
func (b *benchStack) run(name string, build func(*nats.Conn) (service, error)) func() {
	nc, err := nats.Connect(b.url)
	if err != nil {
		return func() {}
	}
	svc, err := build(nc)
	if err != nil {
		nc.Close()
		return func() {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = svc.Run(ctx); close(done) }()
	stop := func() { cancel(); <-done; nc.Close() }
	b.stops[name] = stop
	return stop
}

func (b *benchStack) addDecider(cfg decider.Config) *decider.Service {
	var svc *decider.Service
	name := fmt.Sprint("decider-", len(b.deciders))
	stop := b.run(name, func(nc *nats.Conn) (service, error) {
		var err error
		cfg.Instance = name
		svc, err = decider.New(nc, cfg, b.log)
		return svc, err
	})
	b.deciders = append(b.deciders, stop)
	delete(b.stops, name)
	return svc
}

// setDeciders starts or stops decider instances until n run (embedded
// stack only; a running deployment keeps what it has).
func (b *benchStack) setDeciders(ctx context.Context, n int) error {
	if b.external {
		return nil
	}
	for len(b.deciders) < n {
		b.addDecider(decider.Config{})
	}
	for len(b.deciders) > n {
		last := len(b.deciders) - 1
		b.deciders[last]()
		b.deciders = b.deciders[:last]
	}
	return waitInstances(ctx, b.admin, contract.DeciderService, n)
}

func (b *benchStack) stopDeciders() {
	for _, stop := range b.deciders {
		stop()
	}
	b.deciders = nil
}

func (b *benchStack) stopAll() {
	b.stopDeciders()
	for _, stop := range b.stops {
		stop()
	}
	if b.admin != nil {
		b.admin.Close()
	}
}

func (b *benchStack) say(format string, args ...any) {
	b.progress.say(format, args...)
}

func (b *benchStack) scenarios(ctx context.Context, run map[string]bool, sizes benchSizes, r *loadgen.Report) error {
	events, err := b.js.Stream(ctx, contract.EventStream)
	if err != nil {
		return err
	}
	like := events.CachedInfo().Config
	if run["raw"] {
		b.say("raw JetStream baselines: %d messages of 256 B", sizes.raw)
		// The request→publish→reply responder has a connection of its own,
		// as a decider does: the request crosses the server twice.
		responder, err := nats.Connect(b.url, nats.Name("peon bench raw responder"))
		if err != nil {
			return err
		}
		err = loadgen.Raw(ctx, b.js, responder, like, sizes.raw, 256, r)
		responder.Close()
		if err != nil {
			return fmt.Errorf("raw: %w", err)
		}
	}
	if run["commands"] {
		for _, instances := range sizes.instances {
			if err := b.setDeciders(ctx, max(instances, len(b.deciders))); err != nil {
				return err
			}
			for _, clients := range sizes.clients {
				name := fmt.Sprintf("commands.c%d_i%d", clients, instances)
				if b.external && b.cluster == nil {
					name = fmt.Sprintf("commands.c%d_external", clients)
				}
				b.say("%s: %d clients, %d decider instances, %s", name, clients, instances, sizes.commandFor)
				err := b.measureTrips(ctx, name, r, func() error {
					return b.measureCPU(name, "command", r, sent(r, name), func() error {
						return loadgen.Commands(ctx, b.admin, name, clients, sizes.commandFor, r)
					})
				})
				if err != nil {
					return err
				}
				name = strings.Replace(name, "commands.", "deltas.", 1)
				b.say("%s: %d clients streaming single TextDeltas, %d decider instances, %s", name, clients, instances, sizes.commandFor)
				err = b.measureTrips(ctx, name, r, func() error {
					return b.measureCPU(name, "command", r, sent(r, name), func() error {
						return loadgen.Deltas(ctx, b.admin, name, clients, sizes.commandFor, r)
					})
				})
				if err != nil {
					return err
				}
			}
		}
	}
	if run["stream"] {
		if err := b.setDeciders(ctx, b.streamDeciders); err != nil {
			return err
		}
		for _, threads := range sizes.streamThreads {
			b.say("stream: %d deltas on %d threads", sizes.streamDeltas, threads)
			deltas := func() float64 { return float64(sizes.streamDeltas) }
			err := b.measureCPU(fmt.Sprintf("stream.threads_%d", threads), "delta", r, deltas, func() error {
				return loadgen.Stream(ctx, b.admin, threads, sizes.streamDeltas, r)
			})
			if err != nil {
				return fmt.Errorf("stream: %w", err)
			}
		}
	}
	if run["glass"] {
		if err := b.glass(ctx, sizes, like, r); err != nil {
			return err
		}
	}
	if run["rebuild"] {
		for name, stop := range b.stops {
			if strings.HasPrefix(name, "projector-") {
				stop() // measure the rebuild alone
				delete(b.stops, name)
			}
		}
		b.say("rebuild: writing %d events", sizes.rebuild)
		if err := loadgen.FillStream(ctx, b.js, sizes.rebuild, 1000); err != nil {
			return err
		}
		err := loadgen.Rebuild(ctx, b.js, b.log, r, func(done, total uint64) {
			b.say("rebuild %s %d/%d events", bar(float64(done)/float64(max(total, 1))), done, total)
		})
		if err != nil {
			return fmt.Errorf("rebuild: %w", err)
		}
	}
	if run["memory"] && b.external {
		b.say("memory: %d events over %d threads through the running deployment", sizes.memEvents, sizes.memThreads)
		if err := loadgen.Memory(ctx, b.admin, sizes.memEvents, sizes.memThreads, 0, func() int64 { return 0 }, nil); err != nil {
			return err
		}
		for name, pid := range b.pids {
			r.Add(loadgen.Figure{Name: "memory.rss." + name, Value: float64(loadgen.RSS(pid)) / (1 << 20), Unit: "MiB"})
		}
		return nil
	}
	if run["memory"] {
		b.stopDeciders()
		const limit = 64 << 20
		svc := b.addDecider(decider.Config{CacheBytes: limit})
		if err := waitInstances(ctx, b.admin, contract.DeciderService, 1); err != nil {
			return err
		}
		b.say("memory: %d events over %d threads through one decider (cache limit 64 MiB)", sizes.memEvents, sizes.memThreads)
		err := loadgen.Memory(ctx, b.admin, sizes.memEvents, sizes.memThreads, limit, func() int64 { return svc.Stats().CachedBytes }, r)
		if err != nil {
			return err
		}
	}
	return nil
}

// measureCPU runs a scenario and, where the bench knows the processes
// (--cluster), adds what each role spent on it: <name>.cpu.<role> in CPU
// microseconds per unit of work (units() of them), from the processes'
// CPU time before and after. The scenario's own preparation (its project,
// threads and turns) is in the span: a few commands beside thousands.
func (b *benchStack) measureCPU(name, unit string, r *loadgen.Report, units func() float64, scenario func() error) error {
	if b.cpu == nil {
		return scenario()
	}
	before := b.cpu()
	if err := scenario(); err != nil {
		return err
	}
	after := b.cpu()
	n := units()
	if n <= 0 {
		return nil
	}
	total := 0.0
	for _, role := range cpuRoles {
		used := after[role] - before[role]
		total += used
		r.Add(loadgen.Figure{Name: name + ".cpu." + role, Value: used / n * 1e6, Unit: "CPU µs/" + unit})
	}
	r.Add(loadgen.Figure{Name: name + ".cpu.total", Value: total / n * 1e6, Unit: "CPU µs/" + unit})
	return nil
}

// sent reads how many commands the named command scenario sent.
func sent(r *loadgen.Report, name string) func() float64 {
	return func() float64 {
		f, _ := r.Get(name + ".sent")
		return f.Value
	}
}

// compare attaches each figure's baseline and target.
//
// The single-client latency targets depend on the topology: on one
// embedded server (DESIGN.md) a command may take 1.5× a sync publish; on
// the replicated production topology (R3, sync always) a command is at
// least two round trips across the cluster (the request to the decider and
// its append), so the target is 2.5× for a one-event command and 3× for a
// two-event one.
func compare(r *loadgen.Report, sizes benchSizes, replicated bool) {
	top := sizes.clients[len(sizes.clients)-1]
	oneEvent, twoEvents := 1.5, 1.5
	if replicated {
		oneEvent, twoEvents = 2.5, 3.0
	}
	for _, i := range sizes.instances {
		r.Compare(fmt.Sprintf("commands.c%d_i%d.events", top, i), "raw.async_publish", 0.5, true)
		r.Compare(fmt.Sprintf("commands.c1_i%d.p50", i), "raw.sync_publish.p50", twoEvents, false)
		r.Compare(fmt.Sprintf("deltas.c%d_i%d.events", top, i), "raw.async_publish", 0.5, true)
		r.Compare(fmt.Sprintf("deltas.c1_i%d.p50", i), "raw.sync_publish.p50", oneEvent, false)
		// More instances must add capacity: throughput with i instances
		// beside one instance's, in the same run.
		if i > 1 {
			for _, scenario := range []string{"commands", "deltas"} {
				name := fmt.Sprintf("%s.c%d_i%d.events", scenario, top, i)
				if f, ok := r.Get(name); ok {
					r.Add(loadgen.Figure{Name: name + "_vs_one_instance", Value: f.Value, Unit: f.Unit})
					r.Compare(name+"_vs_one_instance", fmt.Sprintf("%s.c%d_i1.events", scenario, top), 1.0, true)
				}
			}
		}
		// Throughput at 64 clients beside the command pattern's own ceiling
		// (64 requests in flight, each answered after a synchronous publish).
		if top == loadgen.RequestsInFlight {
			for _, scenario := range []string{"commands", "deltas"} {
				name := fmt.Sprintf("%s.c%d_i%d.events", scenario, top, i)
				if f, ok := r.Get(name); ok {
					r.Add(loadgen.Figure{Name: name + "_vs_request_publish_reply", Value: f.Value, Unit: f.Unit})
					r.Relate(name+"_vs_request_publish_reply", fmt.Sprintf("raw.request_publish_reply.c%d", top))
				}
			}
		}
		// The same p50s beside the floor of a command (a request answered
		// after one synchronous publish): what the decider adds to it.
		for _, scenario := range []string{"commands", "deltas"} {
			p50 := fmt.Sprintf("%s.c1_i%d.p50", scenario, i)
			if f, ok := r.Get(p50); ok {
				r.Add(loadgen.Figure{Name: p50 + "_vs_request_publish_reply", Value: f.Value, Unit: f.Unit})
				r.Relate(p50+"_vs_request_publish_reply", "raw.request_publish_reply.p50")
			}
		}
	}
	for _, t := range sizes.streamThreads {
		name := fmt.Sprintf("stream.threads_%d.deltas", t)
		f, ok := r.Get(name)
		if !ok {
			continue
		}
		r.Add(loadgen.Figure{Name: name + "_vs_pipeline", Value: f.Value, Unit: f.Unit})
		r.Compare(name, "raw.async_publish", 1.0, true)
		r.Compare(name+"_vs_pipeline", "raw.pipeline", 0.8, true)
	}
	r.Compare("rebuild.events", "raw.ordered_read_events", 0.5, true)
}

func printReport(w io.Writer, r *loadgen.Report) {
	where := "embedded, file storage, R1, sync " + r.Sync
	switch {
	case r.Topology != "":
		where = r.Topology
	case strings.HasPrefix(r.Server, "external"):
		where = "sync " + r.Sync
	}
	fmt.Fprintf(w, "machine: %s\nserver: %s, %s\nstarted %s, took %s\n\n",
		r.Machine, r.Server, where, r.Started.Format(time.RFC3339), r.Duration)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIGURE\tVALUE\tUNIT\tRATIO\tTARGET\tMET")
	for _, f := range r.Figures {
		ratio, met := "", ""
		if f.Baseline != "" {
			ratio = fmt.Sprintf("%.2f×", f.Ratio)
		}
		if f.Met != nil {
			met = map[bool]string{true: "yes", false: "NO"}[*f.Met]
		}
		fmt.Fprintf(tw, "%s\t%.4g\t%s\t%s\t%s\t%s\n", f.Name, f.Value, f.Unit, ratio, f.Target, met)
	}
	tw.Flush()
}

func machine() string {
	model := runtime.GOARCH
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "model name"); ok {
				model = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
				break
			}
		}
	}
	return fmt.Sprintf("%s, %d CPUs, %s/%s", model, runtime.NumCPU(), runtime.GOOS, runtime.GOARCH)
}
