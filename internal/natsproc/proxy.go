package natsproc

import (
	"bufio"
	"encoding/json"
	"io"
	"net"
	"strings"
	"sync"
)

// routeProxy stands in front of one node's cluster port. Every route
// connection to that node passes through it, and it learns which server
// dialed from the route's CONNECT line, so it can cut the routes between
// chosen servers — a network partition without touching the host's
// network.
type routeProxy struct {
	target string // the node's real cluster address
	node   int
	ln     net.Listener
	links  *links
}

// links is what all proxies of a cluster share: who is cut off, which
// server id is which node, and the live connections to cut.
type links struct {
	mu       sync.Mutex
	isolated map[int]bool
	ids      map[string]int // server id -> node
	conns    map[*route]bool
}

type route struct {
	dialer     string // the dialing server's id, from its CONNECT
	to         int
	dial, back net.Conn
}

func (r *route) close() { _ = r.dial.Close(); _ = r.back.Close() }

func newLinks() *links {
	return &links{isolated: map[int]bool{}, ids: map[string]int{}, conns: map[*route]bool{}}
}

// cut reports whether r crosses the partition. A dialer not known yet is
// treated as cut off while a partition is on: better a route too few than
// one through the wall.
func (l *links) cut(r *route) bool {
	if l.isolated[r.to] {
		return true
	}
	from, known := l.ids[r.dialer]
	return (known && l.isolated[from]) || (!known && r.dialer != "" && len(l.isolated) > 0)
}

// isolate cuts node off from every other node until heal.
func (l *links) isolate(node int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.isolated[node] = true
	for r := range l.conns {
		if l.cut(r) {
			r.close()
			delete(l.conns, r)
		}
	}
}

func (l *links) heal() {
	l.mu.Lock()
	l.isolated = map[int]bool{}
	l.mu.Unlock()
}

func (l *links) learn(id string, node int) {
	l.mu.Lock()
	l.ids[id] = node
	l.mu.Unlock()
}

func startProxy(node int, target string, l *links) (*routeProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &routeProxy{target: target, node: node, ln: ln, links: l}
	go p.accept()
	return p, nil
}

func (p *routeProxy) addr() string { return p.ln.Addr().String() }

func (p *routeProxy) close() { _ = p.ln.Close() }

func (p *routeProxy) accept() {
	for {
		c, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(c)
	}
}

// serve relays one route connection. The accepting server speaks first
// (INFO), then the dialer sends CONNECT naming itself by server id.
func (p *routeProxy) serve(dial net.Conn) {
	back, err := net.Dial("tcp", p.target)
	if err != nil {
		_ = dial.Close()
		return
	}
	r := &route{to: p.node, dial: dial, back: back}
	p.links.mu.Lock()
	if p.links.isolated[p.node] {
		p.links.mu.Unlock()
		r.close()
		return
	}
	p.links.conns[r] = true
	p.links.mu.Unlock()
	defer func() {
		p.links.mu.Lock()
		delete(p.links.conns, r)
		p.links.mu.Unlock()
		r.close()
	}()
	go func() { _, _ = io.Copy(dial, back); r.close() }()

	in := bufio.NewReader(dial)
	line, err := in.ReadString('\n')
	if err != nil {
		return
	}
	if rest, ok := strings.CutPrefix(line, "CONNECT "); ok {
		var connect struct {
			Name string `json:"name"`
		}
		if json.Unmarshal([]byte(strings.TrimSpace(rest)), &connect) == nil {
			p.links.mu.Lock()
			r.dialer = connect.Name
			cut := p.links.cut(r)
			p.links.mu.Unlock()
			if cut {
				return
			}
		}
	}
	if _, err := back.Write([]byte(line)); err != nil {
		return
	}
	_, _ = io.Copy(back, in)
}
