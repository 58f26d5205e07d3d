package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/loadgen"
	"github.com/peonhq/peon/pkg/contract"
)

// clusterRoles are the services `peon bench --cluster` runs, each instance
// as its own process, with their micro service names (what a ping finds).
var clusterRoles = []struct{ role, service string }{
	{"decider", contract.DeciderService},
	{"projector", contract.ProjectorService},
	{"query", contract.QueryService},
	{"provider-ingest", contract.IngestService},
}

// cpuRoles is the order CPU figures are reported in: the services, the
// nats-server nodes, and the bench process itself (the load generator).
var cpuRoles = []string{"decider", "projector", "query", "provider-ingest", "nats", "bench"}

// maxClusterNodes bounds --cluster: more servers than this on one machine
// measure the machine, not the topology.
const maxClusterNodes = 7

// childStopGrace is how long a child has to stop after SIGTERM before it
// is killed.
const childStopGrace = 10 * time.Second

// parseInstances reads --instances: role=K,role=K, every role 1 unless named.
func parseInstances(s string) (map[string]int, error) {
	out := map[string]int{}
	for _, r := range clusterRoles {
		out[r.role] = 1
	}
	if s == "" {
		return out, nil
	}
	for _, pair := range strings.Split(s, ",") {
		role, k, ok := strings.Cut(strings.TrimSpace(pair), "=")
		n, err := strconv.Atoi(k)
		least := 1
		if role == "projector" {
			least = 0 // a diagnostic: commands without the read model's work
		}
		if _, known := out[role]; !ok || !known || err != nil || n < least || n > 16 {
			return nil, usagef("--instances %q: want role=K,... with roles decider, projector, query, provider-ingest and K within 1..16 (projector=0 allowed)", s)
		}
		out[role] = n
	}
	return out, nil
}

// benchCluster is the production topology on this machine: nodes
// nats-server processes clustered, with JetStream on file storage and
// sync_interval: always (the deploy setting, deploy/nats/node-*.conf;
// --cluster-sync default leaves nats-server's own),
// streams of min(3, nodes) replicas made by `peon setup`, and every
// service instance a `peon <role>` process. All are children of the bench
// (this binary run again), and stop tears every one down and removes the
// directory holding their configurations, stores and logs.
type benchCluster struct {
	self      string // this binary
	dir       string
	keepDir   bool // the directory was given (--data-dir): left in place
	nodes     int
	replicas  int
	instances map[string]int
	partition int // transcript partitions, passed to peon setup
	urls      string
	// syncAlways sets the nodes' sync_interval to always; else they keep
	// nats-server's default.
	syncAlways bool
	// profileDir, when set, is where every child writes a CPU profile of
	// its life (see cpuProfileEnv), named by profileName.
	profileDir string

	// ctx ends when the bench's context does, or with the cause when a
	// child exits while the bench still needs it.
	ctx      context.Context
	fail     context.CancelCauseFunc
	stopping atomic.Bool

	mu    sync.Mutex
	procs []*benchProcess
}

// benchProcess is one child.
type benchProcess struct {
	name, role string // role: a service's, or "nats" for a node
	cmd        *exec.Cmd
	log        string
	exited     chan struct{}
}

func newBenchCluster(ctx context.Context, nodes int, instances map[string]int, partitions int, dataDir string, syncAlways bool, profileDir string) (*benchCluster, error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cl := &benchCluster{self: self, dir: dataDir, keepDir: dataDir != "", nodes: nodes, replicas: min(3, nodes), instances: instances, partition: partitions,
		syncAlways: syncAlways, profileDir: profileDir}
	if cl.dir == "" {
		if cl.dir, err = os.MkdirTemp("", "peon-bench-cluster-"); err != nil {
			return nil, err
		}
	}
	cl.ctx, cl.fail = context.WithCancelCause(ctx)
	return cl, nil
}

// topology describes the layout for the report.
func (cl *benchCluster) topology() string {
	var roles []string
	for _, r := range clusterRoles {
		roles = append(roles, fmt.Sprintf("%s×%d", r.role, cl.instances[r.role]))
	}
	return fmt.Sprintf("%d nats-server processes clustered on this machine, file storage, R%d, sync %s; each service instance a process: %s",
		cl.nodes, cl.replicas, cl.syncName(), strings.Join(roles, ", "))
}

// syncName is the nodes' sync setting as the report names it.
func (cl *benchCluster) syncName() string {
	return syncName(cl.syncAlways)
}

// start brings the cluster up, provisions it and starts every service
// instance, returning once each serves.
func (cl *benchCluster) start(say func(string, ...any)) error {
	say("cluster: starting %d nats-server processes (R%d, sync %s) in %s", cl.nodes, cl.replicas, cl.syncName(), cl.dir)
	monitors, err := cl.startNodes()
	if err != nil {
		return err
	}
	if err := cl.waitHealthy(monitors, 60*time.Second); err != nil {
		return err
	}
	say("cluster: peon setup --replicas %d", cl.replicas)
	if err := cl.setup(60 * time.Second); err != nil {
		return err
	}
	for _, r := range clusterRoles {
		for i := 1; i <= cl.instances[r.role]; i++ {
			name := fmt.Sprintf("%s-%d", r.role, i)
			if _, err := cl.spawn(name, r.role, r.role, "--nats-url", cl.urls, "--instance", name); err != nil {
				return err
			}
		}
	}
	say("cluster: waiting for the services to serve")
	nc, err := nats.Connect(cl.urls)
	if err != nil {
		return err
	}
	defer nc.Close()
	for _, r := range clusterRoles {
		if err := waitInstances(cl.ctx, nc, r.service, cl.instances[r.role]); err != nil {
			return cl.cause(err)
		}
	}
	var pids []string
	for _, p := range cl.processes() {
		pids = append(pids, fmt.Sprintf("%s=%d", p.Name, p.PID))
	}
	say("cluster up: %s", strings.Join(pids, " "))
	return nil
}

// startNodes writes each node's configuration and starts it; it returns
// the nodes' monitoring ports.
func (cl *benchCluster) startNodes() ([]int, error) {
	ports, err := freeTCPPorts(3 * cl.nodes)
	if err != nil {
		return nil, err
	}
	var urls, routes []string
	for i := range cl.nodes {
		urls = append(urls, fmt.Sprintf("nats://127.0.0.1:%d", ports[3*i]))
		routes = append(routes, fmt.Sprintf("%q", fmt.Sprintf("nats-route://127.0.0.1:%d", ports[3*i+1])))
	}
	cl.urls = strings.Join(urls, ",")
	var httpPorts []int
	for i := range cl.nodes {
		name := fmt.Sprintf("n%d", i+1)
		client, route, mon := ports[3*i], ports[3*i+1], ports[3*i+2]
		sync := "" // nats-server's default
		if cl.syncAlways {
			sync = ", sync_interval: always"
		}
		conf := fmt.Sprintf("server_name: %s\nlisten: 127.0.0.1:%d\nhttp: 127.0.0.1:%d\nmax_payload: 1MB\njetstream { store_dir: %q%s }\n",
			name, client, mon, filepath.Join(cl.dir, name, "js"), sync)
		if cl.nodes > 1 {
			conf += fmt.Sprintf("cluster {\n  name: peon-bench\n  listen: 127.0.0.1:%d\n  routes: [ %s ]\n}\n", route, strings.Join(routes, ", "))
		}
		path := filepath.Join(cl.dir, name+".conf")
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			return nil, err
		}
		if _, err := cl.spawn(name, "nats", "bench-node", "--config", path); err != nil {
			return nil, err
		}
		httpPorts = append(httpPorts, mon)
	}
	return httpPorts, nil
}

// waitHealthy waits until every node reports JetStream healthy (a meta
// leader elected, its streams current).
func (cl *benchCluster) waitHealthy(ports []int, limit time.Duration) error {
	deadline := time.Now().Add(limit)
	client := http.Client{Timeout: 2 * time.Second}
	for i, port := range ports {
		for {
			var h struct {
				Status string `json:"status"`
			}
			resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/healthz", port))
			if err == nil {
				err = json.NewDecoder(resp.Body).Decode(&h)
				resp.Body.Close()
			}
			if err == nil && h.Status == "ok" {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("nats-server n%d not healthy after %s (status %q, %v)", i+1, limit, h.Status, err)
			}
			if err := cl.pause(100 * time.Millisecond); err != nil {
				return err
			}
		}
	}
	return nil
}

// setup runs `peon setup` until it succeeds: a cluster that just became
// healthy may still be electing the leaders of the streams it creates.
func (cl *benchCluster) setup(limit time.Duration) error {
	deadline := time.Now().Add(limit)
	for {
		cmd := exec.CommandContext(cl.ctx, cl.self, "setup", "--replicas", strconv.Itoa(cl.replicas),
			"--transcript-partitions", strconv.Itoa(cl.partition), "--nats-url", cl.urls)
		cmd.SysProcAttr = childAttr()
		out, err := cmd.CombinedOutput()
		if err == nil {
			return nil
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("peon setup: %w\n%s", err, out)
		}
		if err := cl.pause(time.Second); err != nil {
			return err
		}
	}
}

// pause waits d, or fails as the cluster's context does.
func (cl *benchCluster) pause(d time.Duration) error {
	select {
	case <-cl.ctx.Done():
		return cl.cause(cl.ctx.Err())
	case <-time.After(d):
		return nil
	}
}

// cause is why the cluster's context ended (a child that exited), else err.
func (cl *benchCluster) cause(err error) error {
	if c := context.Cause(cl.ctx); c != nil && !errors.Is(c, context.Canceled) && !errors.Is(c, context.DeadlineExceeded) {
		return c
	}
	return err
}

// spawn starts this binary with args as a child named name, its output in
// a log file; a child that exits before stop ends the cluster's context.
func (cl *benchCluster) spawn(name, role string, args ...string) (*benchProcess, error) {
	path := filepath.Join(cl.dir, name+".log")
	log, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(cl.self, args...)
	profile := "" // set even when empty: no child profiles unless asked
	if cl.profileDir != "" {
		profile = filepath.Join(cl.profileDir, profileName(name, role))
	}
	cmd.Env = append(os.Environ(), "PEON_LOG_FORMAT=text", "PEON_LOG_LEVEL=warn", cpuProfileEnv+"="+profile)
	cmd.Stdout, cmd.Stderr = log, log
	cmd.SysProcAttr = childAttr()
	if err := cmd.Start(); err != nil {
		log.Close()
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &benchProcess{name: name, role: role, cmd: cmd, log: path, exited: make(chan struct{})}
	cl.mu.Lock()
	cl.procs = append(cl.procs, p)
	cl.mu.Unlock()
	go func() {
		err := cmd.Wait()
		log.Close()
		close(p.exited)
		if !cl.stopping.Load() {
			cl.fail(fmt.Errorf("%s exited while the bench ran (%v); last lines of its log:\n%s", name, err, tail(path, 20)))
		}
	}()
	return p, nil
}

// profileName is the file a child's CPU profile goes to: its role and
// instance number, decider-1.pprof, and nats-1.pprof for node n1.
func profileName(name, role string) string {
	if role == "nats" {
		return "nats-" + strings.TrimPrefix(name, "n") + ".pprof"
	}
	return name + ".pprof"
}

// processes lists the children for the report.
func (cl *benchCluster) processes() []loadgen.Process {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	out := make([]loadgen.Process, 0, len(cl.procs))
	for _, p := range cl.procs {
		out = append(out, loadgen.Process{Name: p.name, Role: p.role, PID: p.cmd.Process.Pid})
	}
	return out
}

// cpu is the CPU seconds each role's processes have used so far, summed
// over its instances; "bench" is this process.
func (cl *benchCluster) cpu() map[string]float64 {
	out := map[string]float64{"bench": loadgen.CPUSeconds(0)}
	for _, p := range cl.processes() {
		out[p.Role] += loadgen.CPUSeconds(p.PID)
	}
	return out
}

// stop ends every child, the services before the servers, each with
// SIGTERM and after a grace period SIGKILL, then removes the directory.
func (cl *benchCluster) stop() {
	cl.stopping.Store(true)
	cl.mu.Lock()
	procs := cl.procs
	cl.mu.Unlock()
	var services, nodes []*benchProcess
	for _, p := range procs {
		if p.role == "nats" {
			nodes = append(nodes, p)
		} else {
			services = append(services, p)
		}
	}
	for _, group := range [][]*benchProcess{services, nodes} {
		var wg sync.WaitGroup
		for _, p := range group {
			wg.Add(1)
			go func() { defer wg.Done(); p.stop(childStopGrace) }()
		}
		wg.Wait()
	}
	cl.fail(context.Canceled)
	if !cl.keepDir {
		_ = os.RemoveAll(cl.dir)
	}
}

// stop asks the process to stop, and kills it if it has not after grace.
func (p *benchProcess) stop(grace time.Duration) {
	select {
	case <-p.exited:
		return
	default:
	}
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		_ = p.cmd.Process.Kill()
	}
	select {
	case <-p.exited:
	case <-time.After(grace):
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail is the last n lines of a file.
func tail(path string, n int) string {
	b, _ := os.ReadFile(path)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// freeTCPPorts returns n distinct ports free right now: all are held open
// until the last is chosen, so none is handed out twice.
func freeTCPPorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// runBenchCluster is `peon bench --cluster N`: the production topology
// started here, the scenarios run against it, each figure beside raw
// JetStream on the same cluster, and every role's CPU per unit of work.
func runBenchCluster(ctx context.Context, env *environment, c *benchCmd, run map[string]bool, sizes benchSizes) error {
	instances, err := parseInstances(c.Instances)
	if err != nil {
		return err
	}
	if instances["projector"] == 0 && (run["stream"] || run["glass"]) {
		return usagef("--instances projector=0 runs no read model: the stream and glass scenarios wait for it (use --scenarios raw,commands)")
	}
	var profiles *benchProfiles
	if c.Profile != "" {
		if profiles, err = startBenchProfiles(c.Profile); err != nil {
			return err
		}
		// Deferred first, so it runs last: once every child has stopped
		// and flushed its profile.
		defer profiles.finish(env.stderr)
	}
	cl, err := newBenchCluster(ctx, c.Cluster, instances, c.TranscriptPartitions, c.DataDir, c.ClusterSync == "always", profiles.dir())
	if err != nil {
		return err
	}
	defer cl.stop()
	profiles.expect(cl)
	b := &benchStack{url: cl.urls, external: true, cluster: cl, log: slog.New(slog.NewTextHandler(env.stderr, &slog.HandlerOptions{Level: slog.LevelWarn})), progress: newProgress(env, "bench")}
	if err := cl.start(b.say); err != nil {
		return err
	}
	b.url = cl.urls
	defer b.stopAll()
	if b.admin, err = nats.Connect(cl.urls); err != nil {
		return err
	}
	if b.js, err = jetstream.New(b.admin); err != nil {
		return err
	}
	b.stops = map[string]func(){}
	b.cpu = cl.cpu
	b.pids = map[string]int{}
	for _, p := range cl.processes() {
		b.pids[p.Name] = p.PID
	}
	sizes.instances = []int{instances["decider"]}
	report := &loadgen.Report{Machine: machine(), Server: "nats-server " + serverModuleVersion, Started: time.Now().UTC(),
		Sync: cl.syncName(), Topology: cl.topology(), Processes: cl.processes()}
	if err := b.report(cl.ctx, env, run, sizes, report, c.JSON); err != nil {
		return cl.cause(err)
	}
	return nil
}
