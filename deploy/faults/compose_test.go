//go:build faults

package faults

import (
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/natsproc"
)

// composeProject names the deployment the suite starts (and removes) for
// each scenario, apart from any other.
const composeProject = "peon-faults"

// composeNodes are the nodes' host ports (see compose.faults.yml).
var composeNodes = []struct {
	service            string
	client, monitoring int
}{{"nats-1", 4222, 8222}, {"nats-2", 4223, 8223}, {"nats-3", 4224, 8224}}

// compose is the target built from docker-compose.yml: the images built
// from source, least-privilege users, 3 nodes, 2 instances of each service.
// Faults are docker's: kill -s KILL, start, pause (the cgroup freezer), and
// a partition disconnects the node from the deployment's network (routes
// and clients alike).
type compose struct {
	t        *testing.T
	isolated []int
}

var buildImages sync.Once

func startCompose(t *testing.T) *compose {
	buildImages.Do(func() { sh(t, "bash", "deploy/docker/build-images.sh") })
	c := &compose{t: t}
	c.compose("down", "-v", "--remove-orphans")
	t.Cleanup(func() {
		if t.Failed() {
			c.dumpLogs()
		}
		c.compose("down", "-v", "--remove-orphans")
	})
	c.compose("up", "-d", "--scale", "decider=2", "--scale", "projector=2", "--scale", "query=2", "--scale", "provider-ingest=2")
	c.WaitHealthy(2 * time.Minute)
	return c
}

// compose runs docker compose (v2, or v1 where only that is installed) on
// the deployment from the repository root.
func (c *compose) compose(args ...string) {
	c.t.Helper()
	sh(c.t, "bash", composeArgs(args...)...)
}

// composeArgs is the compose command line for the deployment.
func composeArgs(args ...string) []string {
	return append([]string{"deploy/docker/compose.sh", "-p", composeProject,
		"-f", "docker-compose.yml", "-f", "deploy/faults/compose.faults.yml"}, args...)
}

// sh runs a command from the repository root and fails the test on error.
func sh(t *testing.T, name string, args ...string) string {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Dir = "../.."
	cmd.Env = append(os.Environ(), "COMPOSE_PROJECT_NAME="+composeProject)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (c *compose) URLs() string {
	var urls []string
	for _, n := range composeNodes {
		urls = append(urls, fmt.Sprintf("nats://admin:%s@127.0.0.1:%d", password("ADMIN", "admin-secret"), n.client))
	}
	return strings.Join(urls, ",")
}

func password(user, dflt string) string {
	if p := os.Getenv("PEON_" + user + "_PASSWORD"); p != "" {
		return p
	}
	return dflt
}

func (c *compose) Nodes() []member {
	var out []member
	for _, n := range composeNodes {
		out = append(out, container{c: c, service: n.service, number: 1})
	}
	return out
}

func (c *compose) Services(role string) []member {
	return []member{container{c: c, service: role, number: 1}, container{c: c, service: role, number: 2}}
}

// networkName is the deployment's network, found by its compose label.
func (c *compose) networkName() string {
	out := strings.Fields(sh(c.t, "docker", "network", "ls", "-q", "--filter", "label=com.docker.compose.project="+composeProject))
	if len(out) != 1 {
		c.t.Fatalf("the network of %s: found %v", composeProject, out)
	}
	return out[0]
}

func (c *compose) Isolate(i int) {
	id := container{c: c, service: composeNodes[i].service, number: 1}.id()
	sh(c.t, "docker", "network", "disconnect", c.networkName(), id)
	c.isolated = append(c.isolated, i)
}

func (c *compose) Heal() {
	for _, i := range c.isolated {
		n := composeNodes[i]
		id := container{c: c, service: n.service, number: 1}.id()
		sh(c.t, "docker", "network", "connect", "--alias", n.service, c.networkName(), id)
	}
	c.isolated = nil
}

func (c *compose) WaitHealthy(limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for _, n := range composeNodes {
		url := fmt.Sprintf("http://127.0.0.1:%d/healthz", n.monitoring)
		for {
			resp, err := http.Get(url)
			if err == nil {
				resp.Body.Close()
				if resp.StatusCode == http.StatusOK {
					break
				}
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("%s not healthy after %v", n.service, limit)
			}
			time.Sleep(250 * time.Millisecond)
		}
	}
}

func (c *compose) Replicas(stream string) ([]natsproc.ReplicaState, error) {
	var out []natsproc.ReplicaState
	for _, n := range composeNodes {
		s, err := natsproc.ReplicaAt(fmt.Sprintf("http://127.0.0.1:%d", n.monitoring), n.service, stream)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

func (c *compose) dumpLogs() {
	cmd := exec.Command("bash", composeArgs("logs", "--tail", "30")...) // not sh: a failure here must not end the cleanup
	cmd.Dir = "../.."
	out, _ := cmd.CombinedOutput()
	c.t.Logf("--- compose logs:\n%s", out)
}

// container is one container of the deployment.
type container struct {
	c       *compose
	service string
	number  int
}

func (k container) Name() string { return k.service }

// id finds the container by its compose labels (names differ between
// compose versions).
func (k container) id() string {
	out := strings.Fields(sh(k.c.t, "docker", "ps", "-aq",
		"--filter", "label=com.docker.compose.project="+composeProject,
		"--filter", "label=com.docker.compose.service="+k.service,
		"--filter", fmt.Sprintf("label=com.docker.compose.container-number=%d", k.number)))
	if len(out) != 1 {
		k.c.t.Fatalf("container %d of %s: found %v", k.number, k.service, out)
	}
	return out[0]
}

func (k container) Kill()   { sh(k.c.t, "docker", "kill", "-s", "KILL", k.id()) }
func (k container) Start()  { sh(k.c.t, "docker", "start", k.id()) }
func (k container) Freeze() { sh(k.c.t, "docker", "pause", k.id()) }
func (k container) Thaw()   { sh(k.c.t, "docker", "unpause", k.id()) }
