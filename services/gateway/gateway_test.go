package gateway_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/gateway"
	"github.com/peonhq/peon/services/projector"
)

const (
	operatorToken = "operator-token-0123456789"
	viewerToken   = "viewer-token-0123456789ab"
)

// api is a running stack behind a gateway, and an HTTP client for it.
type api struct {
	t     *testing.T
	stack *peontest.Stack
	url   string
}

func start(t *testing.T) *api {
	t.Helper()
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.WaitServing(t)
	g, err := gateway.New(gateway.DefaultConfig(), gateway.Identities{Tokens: map[string]*gateway.Identity{
		operatorToken: {Role: "operator", NC: s.NC},
		viewerToken:   {Role: "viewer", NC: s.NC, ReadOnly: true},
	}}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	return &api{t: t, stack: s, url: srv.URL}
}

// do sends a request and decodes the JSON reply into out (when not nil),
// returning the status.
func (a *api) do(method, path, token, body string, out any) int {
	a.t.Helper()
	req, err := http.NewRequest(method, a.url+path, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		a.t.Fatal(err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			a.t.Fatalf("%s %s: %d %q: %v", method, path, res.StatusCode, data, err)
		}
	}
	return res.StatusCode
}

type errorReply struct {
	Error struct{ Code, Message string } `json:"error"`
}

func (a *api) mustCommand(name, body string) contract.CommandReply {
	a.t.Helper()
	var r contract.CommandReply
	if status := a.do("POST", "/v1/commands/"+name, operatorToken, body, &r); status != 200 {
		a.t.Fatalf("%s: status %d", name, status)
	}
	return r
}

func (a *api) wantError(method, path, token, body string, status int, code string) {
	a.t.Helper()
	var e errorReply
	if got := a.do(method, path, token, body, &e); got != status || e.Error.Code != code {
		a.t.Errorf("%s %s: %d %q (%s), want %d %q", method, path, got, e.Error.Code, e.Error.Message, status, code)
	}
}

func TestAuth(t *testing.T) {
	a := start(t)
	req, _ := http.NewRequest("GET", a.url+"/v1/projects", nil)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 401 || !strings.HasPrefix(res.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("no token: %d %q", res.StatusCode, res.Header.Get("WWW-Authenticate"))
	}
	a.wantError("GET", "/v1/projects", "wrong-token-0123456789", "", 401, "unauthorized")
	a.wantError("GET", "/v1/events", "", "", 401, "unauthorized")
	a.wantError("POST", "/v1/commands/project.create", viewerToken, `{"name":"x","path":"/x"}`, 403, "forbidden")
	var who map[string]any
	if a.do("GET", "/v1/whoami", viewerToken, "", &who) != 200 || who["role"] != "viewer" || who["read_only"] != true {
		t.Errorf("whoami = %v", who)
	}
	if a.do("GET", "/v1/projects", viewerToken, "", &contract.ProjectsReply{}) != 200 {
		t.Error("a read-only token cannot read")
	}
}

func TestNoTokenNoAccessUnlessLoopbackAllowed(t *testing.T) {
	s := peontest.Start(t)
	s.WaitServing(t)
	if _, err := gateway.New(gateway.DefaultConfig(), gateway.Identities{}, s.Log); err == nil {
		t.Error("a gateway nobody can use was accepted")
	}
	cfg := gateway.DefaultConfig()
	cfg.LoopbackWithoutToken = true
	g, err := gateway.New(cfg, gateway.Identities{Loopback: &gateway.Identity{Role: "local", NC: s.NC}}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	defer srv.Close()
	res, err := http.Get(srv.URL + "/v1/whoami")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != 200 {
		t.Errorf("loopback without a token: %d", res.StatusCode)
	}
}

func TestCommandsAndQueries(t *testing.T) {
	a := start(t)
	p := a.mustCommand("project.create", `{"name":"demo","path":"/tmp/gw-demo"}`)
	if p.ProjectID == "" || len(p.Events) != 1 {
		t.Fatalf("project.create reply %+v", p)
	}
	th := a.mustCommand("thread.create", fmt.Sprintf(`{"project_id":%q,"title":"fix it"}`, p.ProjectID))
	turn := a.mustCommand("turn.start", fmt.Sprintf(`{"thread_id":%q,"text":"hello"}`, th.ThreadID))
	last := strconv.FormatUint(turn.LastSequence, 10)

	var projects contract.ProjectsReply
	if a.do("GET", "/v1/projects?min_sequence="+last, operatorToken, "", &projects) != 200 || len(projects.Projects) != 1 ||
		projects.Projects[0].Name != "demo" {
		t.Errorf("projects = %+v", projects)
	}
	var project contract.ProjectReply
	if a.do("GET", "/v1/projects/"+p.ProjectID, operatorToken, "", &project) != 200 || project.Project.Path != "/tmp/gw-demo" {
		t.Errorf("project = %+v", project.Project)
	}
	var threads contract.ThreadsReply
	if a.do("GET", "/v1/threads?project_id="+p.ProjectID+"&min_sequence="+last, operatorToken, "", &threads) != 200 ||
		len(threads.Threads) != 1 || threads.Threads[0].Title != "fix it" {
		t.Errorf("threads = %+v", threads)
	}
	var thread map[string]map[string]any
	if a.do("GET", "/v1/threads/"+th.ThreadID+"?min_sequence="+last, operatorToken, "", &thread) != 200 ||
		thread["thread"]["status"] != string(domain.StatusRunning) {
		t.Errorf("thread = %v", thread)
	}
	var msgs contract.MessagesReply
	if a.do("GET", "/v1/threads/"+th.ThreadID+"/messages?limit=10&min_sequence="+last, operatorToken, "", &msgs) != 200 ||
		len(msgs.Messages) != 1 || msgs.Messages[0].Text != "hello" {
		t.Errorf("messages = %+v", msgs)
	}
	var status struct {
		Healthy     bool
		Projections map[string]contract.ProjectionStatus
		Services    []struct{ Name string }
	}
	if a.do("GET", "/v1/status", operatorToken, "", &status) != 200 || len(status.Projections) == 0 || len(status.Services) == 0 {
		t.Errorf("status = %+v", status)
	}

	// Errors carry the contract's code and status.
	a.wantError("POST", "/v1/commands/project.create", operatorToken, `{"name":"x","path":"relative"}`, 400, "invalid_command")
	a.wantError("POST", "/v1/commands/project.create", operatorToken, `{"name":"demo2","path":"/tmp/gw-demo"}`, 409, "duplicate_project_path")
	a.wantError("POST", "/v1/commands/project.create", operatorToken, `{"name":`, 400, "bad_request")
	a.wantError("POST", "/v1/commands/project.create", operatorToken, `{"name":"x","path":"/y","colour":1}`, 400, "bad_request")
	a.wantError("POST", "/v1/commands/no.such", operatorToken, `{}`, 404, "not_found")
	a.wantError("POST", "/v1/commands/project.create", operatorToken, `{"name":"`+strings.Repeat("x", 300<<10)+`"}`, 413, "payload_too_large")
	a.wantError("POST", "/v1/commands/turn.start", operatorToken, fmt.Sprintf(`{"thread_id":%q,"text":"again"}`, th.ThreadID), 409, "thread_busy")
	a.wantError("GET", "/v1/projects/nope", operatorToken, "", 404, "project_not_found")
	a.wantError("GET", "/v1/projects?min_sequence=-1", operatorToken, "", 400, "bad_request")
	a.wantError("GET", "/v1/projects?colour=blue", operatorToken, "", 400, "bad_request")
	a.wantError("GET", "/v1/threads/"+th.ThreadID+"/events?after=x", operatorToken, "", 400, "bad_request")
	a.wantError("GET", "/v1/threads/no.pe/events", operatorToken, "", 400, "invalid_command")
}

// sse reads Server-Sent Events: the ids it saw, until it has n events or
// the connection is closed by stop.
type sse struct {
	ids   []uint64
	types []string
}

func (a *api) follow(ctx context.Context, path string, lastID *uint64, n int, got *sse) error {
	req, _ := http.NewRequestWithContext(ctx, "GET", a.url+path, nil)
	req.Header.Set("Authorization", "Bearer "+operatorToken)
	if lastID != nil {
		req.Header.Set("Last-Event-ID", strconv.FormatUint(*lastID, 10))
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != 200 || res.Header.Get("Content-Type") != "text/event-stream" {
		return fmt.Errorf("status %d %q", res.StatusCode, res.Header.Get("Content-Type"))
	}
	sc := bufio.NewScanner(res.Body)
	seen := 0
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "id: "):
			id, err := strconv.ParseUint(line[4:], 10, 64)
			if err != nil {
				return err
			}
			got.ids = append(got.ids, id)
		case strings.HasPrefix(line, "event: "):
			got.types = append(got.types, line[7:])
		case strings.HasPrefix(line, "data: "):
			var rec contract.StoredEventJSON
			if err := json.Unmarshal([]byte(line[6:]), &rec); err != nil {
				return fmt.Errorf("data %q: %w", line, err)
			}
			if seen++; seen == n {
				return nil
			}
		}
	}
	return sc.Err()
}

// TestEventStreamResumesWithoutLossOrDuplicates streams a thread's events
// while the agent writes, drops the connection halfway, reconnects with
// Last-Event-ID and checks that the two halves together are exactly the
// thread's events in the stream, in order.
func TestEventStreamResumesWithoutLossOrDuplicates(t *testing.T) {
	a := start(t)
	p := a.mustCommand("project.create", `{"name":"sse","path":"/tmp/gw-sse"}`)
	th := a.mustCommand("thread.create", fmt.Sprintf(`{"project_id":%q}`, p.ProjectID))
	turn := a.mustCommand("turn.start", fmt.Sprintf(`{"thread_id":%q,"text":"go"}`, th.ThreadID))

	const chunks = 60
	written := make(chan error, 1)
	go func() {
		for i := range chunks {
			_, err := a.stack.Client.Send(context.Background(), domain.IngestProviderEvent{ThreadID: th.ThreadID, TurnID: turn.TurnID,
				ProviderEventID: fmt.Sprintf("e%d", i), Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m1", Delta: "x"}}})
			if err != nil {
				written <- err
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		written <- nil
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var first, second sse
	if err := a.follow(ctx, "/v1/threads/"+th.ThreadID+"/events?after=0", nil, 20, &first); err != nil {
		t.Fatal(err)
	}
	// Dropped after 20 events; the writer goes on meanwhile.
	resume := first.ids[len(first.ids)-1]
	if err := <-written; err != nil {
		t.Fatal(err)
	}
	var want []uint64
	for after := uint64(0); ; {
		var page contract.EventsReply
		a.stack.Query(t, contract.EventsSince{AfterSequence: after, Limit: 1000}, &page)
		for _, e := range page.Events {
			if strings.HasSuffix(e.Subject, "."+th.ThreadID) {
				want = append(want, e.Sequence)
			}
		}
		if page.Next == 0 {
			break
		}
		after = page.Next
	}
	rest := 0
	for _, id := range want {
		if id > resume {
			rest++
		}
	}
	if err := a.follow(ctx, "/v1/threads/"+th.ThreadID+"/events", &resume, rest, &second); err != nil {
		t.Fatal(err)
	}
	got := append(first.ids, second.ids...)
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("streamed %v\nthe stream holds %v", got, want)
	}
	if first.types[0] != "ThreadCreated" {
		t.Errorf("first event %s, want ThreadCreated", first.types[0])
	}
}
