// Package natsproc runs a real NATS cluster as separate nats-server
// processes (built from the module this repository pins) and injects
// faults into it: kill -9, restart, SIGSTOP/SIGCONT, and network
// partitions through proxies in front of every node's cluster port. It
// also builds and runs other binaries (the peon services) as processes, so
// they too can be killed mid-work. Fault-injection suites use it; it needs
// a POSIX system and the Go toolchain.
package natsproc

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"
)

var (
	buildMu sync.Mutex
	built   = map[string]string{}
)

// Binary builds the main package pkg (an import path, built in this
// module's context) once per test process and returns the executable.
func Binary(t testing.TB, pkg string) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if path, ok := built[pkg]; ok {
		return path
	}
	dir, err := os.MkdirTemp("", "natsproc-bin-")
	if err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, filepath.Base(strings.TrimSuffix(pkg, "/v2")))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, b)
	}
	built[pkg] = out
	return out
}

// Node is one nats-server process.
type Node struct {
	*Process
	ClientPort, ClusterPort int
	HTTPPort                int
	dir                     string
	proxy                   *routeProxy
}

// URL is the node's client URL.
func (n *Node) URL() string { return fmt.Sprintf("nats://127.0.0.1:%d", n.ClientPort) }

// Cluster is a running cluster.
type Cluster struct {
	t     testing.TB
	Nodes []*Node
	links *links
}

// Start starts a cluster of size nodes with JetStream (file store, fsync
// before every acknowledgement) and waits until it has a meta leader.
func Start(t testing.TB, size int) *Cluster {
	t.Helper()
	bin := Binary(t, "github.com/nats-io/nats-server/v2")
	c := &Cluster{t: t, links: newLinks()}
	ports := freePorts(t, 3*size)
	for i := range size {
		n := &Node{ClientPort: ports[3*i], ClusterPort: ports[3*i+1], HTTPPort: ports[3*i+2], dir: t.TempDir()}
		p, err := startProxy(i, fmt.Sprintf("127.0.0.1:%d", n.ClusterPort), c.links)
		for err == nil && slices.Contains(ports, p.ln.Addr().(*net.TCPAddr).Port) {
			p.close() // it drew a port meant for a node: draw again
			p, err = startProxy(i, fmt.Sprintf("127.0.0.1:%d", n.ClusterPort), c.links)
		}
		if err != nil {
			t.Fatal(err)
		}
		n.proxy = p
		c.Nodes = append(c.Nodes, n)
	}
	for i, n := range c.Nodes {
		var routes []string
		for j, m := range c.Nodes {
			if j != i {
				routes = append(routes, fmt.Sprintf("%q", "nats-route://"+m.proxy.addr()))
			}
		}
		name := fmt.Sprintf("n%d", i+1)
		path := filepath.Join(n.dir, "nats.conf")
		conf := fmt.Sprintf(`server_name: %s
listen: 127.0.0.1:%d
http: 127.0.0.1:%d
max_payload: 1MB
jetstream { store_dir: %q, sync_interval: always }
cluster {
  name: peon
  listen: 127.0.0.1:%d
  advertise: %q
  routes: [ %s ]
}
`, name, n.ClientPort, n.HTTPPort, filepath.Join(n.dir, "js"), n.ClusterPort, n.proxy.addr(), strings.Join(routes, ", "))
		if err := os.WriteFile(path, []byte(conf), 0o600); err != nil {
			t.Fatal(err)
		}
		n.Process = NewProcess(t, name, bin, nil, "-c", path)
		t.Cleanup(n.proxy.close)
	}
	for _, n := range c.Nodes {
		n.Start()
	}
	c.WaitHealthy(60 * time.Second)
	return c
}

// URLs is every node's client URL, comma separated, for nats.Connect.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		urls[i] = n.URL()
	}
	return strings.Join(urls, ",")
}

// Isolate cuts node i's routes to every other node (clients can still
// reach it) until Heal.
func (c *Cluster) Isolate(i int) {
	for j, n := range c.Nodes {
		var varz struct {
			ID string `json:"server_id"`
		}
		if getJSON(n, "/varz", &varz) == nil {
			c.links.learn(varz.ID, j)
		}
	}
	c.links.isolate(i)
}

// Heal lets every route through again.
func (c *Cluster) Heal() { c.links.heal() }

// WaitHealthy waits until every node reports JetStream healthy.
func (c *Cluster) WaitHealthy(limit time.Duration) {
	c.t.Helper()
	deadline := time.Now().Add(limit)
	for _, n := range c.Nodes {
		for {
			var h struct {
				Status string `json:"status"`
			}
			if getJSON(n, "/healthz", &h) == nil && h.Status == "ok" {
				break
			}
			if time.Now().After(deadline) {
				c.t.Fatalf("node %s not healthy after %v", n.Name, limit)
			}
			time.Sleep(100 * time.Millisecond)
		}
	}
}

// ReplicaState is one node's own view of a stream.
type ReplicaState struct {
	Node     string
	Messages uint64 `json:"messages"`
	Bytes    uint64 `json:"bytes"`
	FirstSeq uint64 `json:"first_seq"`
	LastSeq  uint64 `json:"last_seq"`
}

// Replicas reads every node's local state of stream from its monitoring
// endpoint (not through the leader), so replicas can be compared.
func (c *Cluster) Replicas(stream string) ([]ReplicaState, error) {
	var out []ReplicaState
	for _, n := range c.Nodes {
		s, err := ReplicaAt(fmt.Sprintf("http://127.0.0.1:%d", n.HTTPPort), n.Name, stream)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// ReplicaAt reads one node's local state of stream from its monitoring
// endpoint at base (http://host:port).
func ReplicaAt(base, node, stream string) (ReplicaState, error) {
	var jsz struct {
		Accounts []struct {
			Streams []struct {
				Name  string       `json:"name"`
				State ReplicaState `json:"state"`
			} `json:"stream_detail"`
		} `json:"account_details"`
	}
	if err := getURL(base+"/jsz?streams=true", &jsz); err != nil {
		return ReplicaState{}, fmt.Errorf("%s: %w", node, err)
	}
	for _, a := range jsz.Accounts {
		for _, s := range a.Streams {
			if s.Name == stream {
				s.State.Node = node
				return s.State, nil
			}
		}
	}
	return ReplicaState{}, fmt.Errorf("%s holds no replica of %s", node, stream)
}

func getJSON(n *Node, path string, v any) error {
	return getURL(fmt.Sprintf("http://127.0.0.1:%d%s", n.HTTPPort, path), v)
}

func getURL(url string, v any) error {
	client := http.Client{Timeout: 2 * time.Second}
	resp, err := client.Get(url)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	return json.NewDecoder(resp.Body).Decode(v)
}

// freePorts returns n distinct ports free right now: all are held open
// until the last is chosen, so none is handed out twice.
func freePorts(t testing.TB, n int) []int {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports
}
