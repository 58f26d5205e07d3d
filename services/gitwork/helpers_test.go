package gitwork

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/gittest"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// newRepo makes a work tree with one commit and a bare origin.
func newRepo(t *testing.T, name string) (dir, origin string) {
	t.Helper()
	return gittest.NewRepo(t, name, map[string]string{"README": "hello\n", ".gitignore": "*.log\n"})
}

// thread folds a thread's events from the stream.
func thread(t *testing.T, s *peontest.Stack, projectID, threadID string) *domain.ThreadState {
	t.Helper()
	m := domain.NewModel()
	if _, err := eventstore.New(s.JS).Load(context.Background(), contract.ThreadSubject(projectID, threadID), 0, func(r eventstore.Record) error {
		domain.Project(m, r.StoredEvent)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return m.Threads[threadID]
}

// waitOutcome waits until the operation has an outcome and returns it.
// The bound only keeps a broken build from hanging; nothing is timed.
func waitOutcome(t *testing.T, s *peontest.Stack, projectID, threadID, opID string) *domain.GitOperation {
	t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if op, ok := thread(t, s, projectID, threadID).GitOperation(opID); ok && op.Status != domain.GitOperationRequested {
			return op
		}
	}
	t.Fatalf("operation %s never got an outcome", opID)
	return nil
}

// startExecutor runs an executor for host on its own connection until the
// returned stop is called; stop returns Run's error.
func startExecutor(t *testing.T, s *peontest.Stack, cfg Config, hook func(domain.GitOperationKind) bool) (stop func() error) {
	t.Helper()
	stop, _ = runExecutor(t, s, cfg, hook)
	return stop
}

// runExecutor is startExecutor that also returns a channel closed when
// Run returned by itself (stop then returns its error at once).
func runExecutor(t *testing.T, s *peontest.Stack, cfg Config, hook func(domain.GitOperationKind) bool) (stop func() error, exited <-chan struct{}) {
	t.Helper()
	nc, _ := connect(t, s)
	ex, err := New(nc, cfg, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	ex.beforeRecord = hook
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	ended := make(chan struct{})
	go func() { done <- ex.Run(ctx); close(ended) }()
	select {
	case <-ex.Ready():
	case err := <-done:
		t.Fatalf("executor: %v", err)
	}
	var result error
	stopped := false
	stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			result = <-done
		}
		return result
	}
	t.Cleanup(func() { _ = stop() })
	return stop, ended
}

// project creates a project on host at dir and a thread in it.
func project(t *testing.T, s *peontest.Stack, host, dir string) (projectID, threadID string) {
	t.Helper()
	projectID = s.Send(t, domain.CreateProject{Name: filepath.Base(dir), Path: dir, Host: host}).ProjectID
	threadID = s.Send(t, domain.CreateThread{ProjectID: projectID}).ThreadID
	return projectID, threadID
}

// runTurn starts a turn, lets fn change the tree as the agent would, and
// completes it, with the checkpointer around it as a host calls it.
func runTurn(t *testing.T, s *peontest.Stack, c *Checkpointer, projectID, threadID, dir string, first bool, fn func()) string {
	t.Helper()
	ctx := context.Background()
	turn := s.Send(t, domain.StartTurn{ThreadID: threadID, Text: "go"}).TurnID
	info := TurnInfo{ProjectID: projectID, ThreadID: threadID, TurnID: turn, Dir: dir, First: first}
	if err := c.BeforeTurn(ctx, info); err != nil {
		t.Fatal(err)
	}
	fn()
	s.Send(t, domain.IngestProviderEvent{ThreadID: threadID, TurnID: turn, Events: []domain.ProviderEventBatchItem{
		{ProviderEventID: turn + "-done", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{StopReason: "end_turn"}}},
	}})
	if err := c.AfterTurn(ctx, info); err != nil {
		t.Fatal(err)
	}
	return turn
}
