//go:build faults

package faults

import (
	"cmp"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/natsproc"
)

// target is what the scenarios inject faults into: three NATS nodes and two
// instances of each Peon service. It is either separate processes on this
// machine (the default) or the compose deployment (PEON_FAULTS_TARGET=compose).
type target interface {
	// URLs are the nodes' client URLs, for the workload and the checks
	// (which connect with admin rights).
	URLs() string
	// Nodes are the NATS nodes, named as the servers call themselves.
	Nodes() []member
	// Isolate cuts node i off from the other nodes until Heal.
	Isolate(i int)
	Heal()
	// WaitHealthy waits until every node reports JetStream healthy.
	WaitHealthy(limit time.Duration)
	// Replicas is every node's own view of a stream.
	Replicas(stream string) ([]natsproc.ReplicaState, error)
	// Services are the instances of a role: decider, projector, provider-ingest.
	Services(role string) []member
}

// member is a node or a service instance.
type member interface {
	Name() string
	Kill()   // SIGKILL
	Start()  // after Kill
	Freeze() // SIGSTOP, or the cgroup freezer
	Thaw()
}

func startTarget(t *testing.T) target {
	if os.Getenv("PEON_FAULTS_TARGET") == "compose" {
		return startCompose(t)
	}
	return startProcesses(t)
}

// processes is the target built from processes: nats-server built from the
// pinned module, partitions through proxies on the route ports (routes are
// cut, clients still reach the node).
type processes struct {
	cluster  *natsproc.Cluster
	services map[string][]member
}

func startProcesses(t *testing.T) *processes {
	c := natsproc.Start(t, 3)
	peon := natsproc.Binary(t, "github.com/peonhq/peon/cmd/peon")
	partitions := cmp.Or(os.Getenv("PEON_FAULTS_PARTITIONS"), "3")
	setup := func() *exec.Cmd {
		return exec.Command(peon, "setup", "--replicas", "3", "--transcript-partitions", partitions, "--nats-url", c.URLs())
	}
	for attempt := 0; ; attempt++ {
		out, err := setup().CombinedOutput()
		if err == nil {
			break
		}
		if attempt == 30 {
			t.Fatalf("peon setup: %v\n%s", err, out)
		}
		time.Sleep(time.Second)
	}
	p := &processes{cluster: c, services: map[string][]member{}}
	for _, role := range roles {
		for i := 1; i <= 2; i++ {
			name := fmt.Sprintf("%s-%d", role, i)
			proc := natsproc.NewProcess(t, name, peon, []string{"PEON_LOG_FORMAT=text", "PEON_LOG_LEVEL=" + logLevel(role)},
				role, "--nats-url", c.URLs(), "--instance", name)
			proc.Start()
			p.services[role] = append(p.services[role], process{proc})
		}
	}
	return p
}

// roles are the services the suite runs two instances of and kills.
var roles = []string{"decider", "projector", "provider-ingest"}

func (p *processes) URLs() string { return p.cluster.URLs() }

func (p *processes) Nodes() []member {
	var out []member
	for _, n := range p.cluster.Nodes {
		out = append(out, process{n.Process})
	}
	return out
}

func (p *processes) Isolate(i int)                   { p.cluster.Isolate(i) }
func (p *processes) Heal()                           { p.cluster.Heal() }
func (p *processes) WaitHealthy(limit time.Duration) { p.cluster.WaitHealthy(limit) }
func (p *processes) Services(role string) []member   { return p.services[role] }

func (p *processes) Replicas(stream string) ([]natsproc.ReplicaState, error) {
	return p.cluster.Replicas(stream)
}

// process adapts a natsproc.Process.
type process struct{ *natsproc.Process }

func (p process) Name() string { return p.Process.Name }
func (p process) Freeze()      { p.Signal(syscall.SIGSTOP) }
func (p process) Thaw()        { p.Signal(syscall.SIGCONT) }

// logLevel is the services' log level: PEON_FAULTS_DEBUG=<role> runs that
// role at debug level (with PEON_FAULTS_LOG_DIR, the logs of a failed run
// are kept whole).
func logLevel(role string) string {
	if os.Getenv("PEON_FAULTS_DEBUG") == role {
		return "debug"
	}
	return "info"
}
