package host_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/host"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

// stack is a whole Peon (decider, query, projector, ingest) on a real
// embedded server.
func stack(t *testing.T) *peontest.Stack {
	t.Helper()
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	return s
}

// instance is a running host instance.
type instance struct {
	svc  *host.Service
	nc   *nats.Conn
	stop func()
}

// startHost runs a host instance on its own connection and waits until it
// has folded the stream.
func startHost(t *testing.T, s *peontest.Stack, cfg host.Config) instance {
	t.Helper()
	return startHostWith(t, s, cfg, nil)
}

// startHostWith is startHost for an instance whose Run may fail: its
// error goes to ended instead of failing the test.
func startHostWith(t *testing.T, s *peontest.Stack, cfg host.Config, ended chan<- error) instance {
	t.Helper()
	nc, _ := natstest.Connect(t, s.Srv)
	if cfg.LeaseTTL == 0 {
		cfg.LeaseTTL = 900 * time.Millisecond
	}
	if cfg.StopGrace == 0 {
		cfg.StopGrace = 5 * time.Second
	}
	svc, err := host.New(nc, cfg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	run := svc.Run
	if ended != nil {
		run = func(ctx context.Context) error { ended <- svc.Run(ctx); return nil }
	}
	stop := peontest.Run(t, "host "+cfg.Instance, run)
	select {
	case <-svc.Ready():
	case <-time.After(20 * time.Second):
		t.Fatal("host never ready")
	}
	return instance{svc: svc, nc: nc, stop: stop}
}

func waitActive(t *testing.T, in instance) {
	t.Helper()
	eventually(t, "the host to become active", func() bool { return in.svc.Active() })
}

func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitThread polls the thread until ok holds. It lists threads rather
// than getting one: a thread not projected yet is then absent, not an
// error reply.
func waitThread(t *testing.T, s *peontest.Stack, thread string, what string, ok func(*domain.ThreadState) bool) *domain.ThreadState {
	t.Helper()
	var last *domain.ThreadState
	deadline := time.Now().Add(30 * time.Second)
	for {
		var r contract.ThreadsReply
		if err := s.Client.Query(context.Background(), contract.ThreadList{}, &r); err == nil {
			for _, th := range r.Threads {
				if th.ID != thread {
					continue
				}
				last = th
				if ok(th) {
					return th
				}
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited 30s for %s; thread: %+v", what, last)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// idleAfter waits until n turns have ended and the thread is idle.
func idleAfter(t *testing.T, s *peontest.Stack, thread string, n int) *domain.ThreadState {
	t.Helper()
	return waitThread(t, s, thread, fmt.Sprintf("%d turns to end", n), func(th *domain.ThreadState) bool {
		return len(th.Turns) >= n && th.ActiveTurnID == "" && th.Turns[n-1].Status != domain.TurnStatusRunning
	})
}

// transcript is the assistant text of a turn.
func transcript(t *testing.T, s *peontest.Stack, thread, turn string) string {
	t.Helper()
	var r contract.MessagesReply
	s.Query(t, contract.ThreadMessages{ThreadID: thread}, &r)
	var b strings.Builder
	for _, m := range r.Messages {
		if m.TurnID == turn && m.Role == domain.RoleAssistant {
			b.WriteString(m.Text)
		}
	}
	return b.String()
}

// gitRepo is a real repository with one commit.
func gitRepo(t *testing.T) string {
	t.Helper()
	gittest.Isolate(t)
	dir, _ := gittest.NewRepo(t, "repo", map[string]string{"README": "hello\n"})
	return dir
}

// script writes an executable shell script and returns its path.
func script(t *testing.T, body string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "agent.sh")
	if err := os.WriteFile(path, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return path
}

// editor is an exec agent that appends the prompt to notes.txt and says so.
const editor = `prompt=$(cat)
echo "editing notes.txt"
printf '%s\n' "$prompt" >> notes.txt
echo "done: $prompt"
`

func execProvider(t *testing.T, name, body string) host.ProviderSpec {
	t.Helper()
	spec, err := host.ParseProvider(name + "=exec:" + script(t, body))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// recordingWorkspace records the hooks it is called with, in order.
type recordingWorkspace struct {
	mu    sync.Mutex
	calls []string
}

func (w *recordingWorkspace) BeforeTurn(_ context.Context, ti host.TurnInfo) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, fmt.Sprintf("before %s first=%v", ti.TurnID, ti.First))
	return fmt.Errorf("a workspace failure does not stop the turn")
}

func (w *recordingWorkspace) AfterTurn(_ context.Context, ti host.TurnInfo) error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls = append(w.calls, "after "+ti.TurnID)
	return nil
}

func (w *recordingWorkspace) list() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.calls...)
}
