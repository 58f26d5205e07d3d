package gitwork

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// isolateGit makes git ignore the machine's configuration and gives it an
// identity, so the tests run the same everywhere.
func isolateGit(t *testing.T) {
	t.Helper()
	home := t.TempDir()
	t.Setenv("HOME", home)
	t.Setenv("XDG_CONFIG_HOME", home)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	t.Setenv("GIT_CONFIG_GLOBAL", filepath.Join(home, "gitconfig"))
	for k, v := range map[string]string{"GIT_AUTHOR_NAME": "Test", "GIT_AUTHOR_EMAIL": "test@example.com",
		"GIT_COMMITTER_NAME": "Test", "GIT_COMMITTER_EMAIL": "test@example.com"} {
		t.Setenv(k, v)
	}
}

func gitIn(t *testing.T, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	out, err := cmd.Output()
	if err != nil {
		msg := ""
		if ee, ok := err.(*exec.ExitError); ok {
			msg = string(ee.Stderr)
		}
		t.Fatalf("git %s: %v %s", strings.Join(args, " "), err, msg)
	}
	return strings.TrimSpace(string(out))
}

// newRepo makes a work tree with one commit and a bare origin.
func newRepo(t *testing.T, name string) (dir, origin string) {
	t.Helper()
	base := t.TempDir()
	dir, origin = filepath.Join(base, name), filepath.Join(base, name+".git")
	gitIn(t, base, "init", "--quiet", "--bare", "--initial-branch=main", origin)
	gitIn(t, base, "init", "--quiet", "--initial-branch=main", dir)
	write(t, dir, "README", "hello\n")
	write(t, dir, ".gitignore", "*.log\n")
	gitIn(t, dir, "add", "-A")
	gitIn(t, dir, "commit", "--quiet", "-m", "initial")
	gitIn(t, dir, "remote", "add", "origin", origin)
	return dir, origin
}

func write(t *testing.T, dir, name, content string) {
	t.Helper()
	path := filepath.Join(dir, filepath.FromSlash(name))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o755); err != nil {
		t.Fatal(err)
	}
}

func read(t *testing.T, dir, name string) (string, bool) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(name)))
	if os.IsNotExist(err) {
		return "", false
	}
	if err != nil {
		t.Fatal(err)
	}
	return string(b), true
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
