//go:build browser

// Browser tests: the console in headless Chromium (Debian's chromium
// package), driven over the DevTools protocol. Run with
//
//	go test -tags browser ./services/gateway -run Browser -v
//
// PEON_SCREENSHOTS=dir keeps the screenshots of the main views there
// (CI keeps them as artifacts; docs/console-*.png are made this way).
package gateway_test

import (
	"context"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/gateway"
	"github.com/peonhq/peon/services/gitwork"
	"github.com/peonhq/peon/services/host"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

// browser starts a stack behind a gateway open to loopback (as peon dev
// serves it) and a headless Chromium.
func browser(t *testing.T) (*peontest.Stack, string, context.Context) {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("the browser tests need chromium on PATH (Debian: apt-get install chromium)")
	}
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	cfg := gateway.DefaultConfig()
	cfg.LoopbackWithoutToken = true
	g, err := gateway.New(cfg, gateway.Identities{Loopback: &gateway.Identity{Role: "local", NC: s.NC}}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(g.Handler())
	t.Cleanup(srv.Close)
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(bin), chromedp.NoSandbox,
		chromedp.WindowSize(1280, 900), chromedp.Flag("disable-dev-shm-usage", true))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(cancel)
	ctx, cancelTimeout := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancelTimeout)
	return s, srv.URL, ctx
}

func screenshot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("PEON_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}

// waitText waits until sel's text contains want and returns it.
func waitText(ctx context.Context, sel, want string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(_ context.Context, _ *chromedp.Target) error {
		var got string
		for {
			var err error
			got, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel), chromedp.NodeVisible))
			if err == nil && strings.Contains(got, want) {
				return nil
			}
			select {
			case <-ctx.Done():
				return fmt.Errorf("%s: waited for %q, page shows %q: %w", sel, want, got, ctx.Err())
			case <-time.After(50 * time.Millisecond):
			}
		}
	})
}

// TestBrowserDrivesATurn creates a project and a thread from the page,
// starts a turn, watches the agent's text stream in, approves its request,
// sees the turn end with its usage and changed files, and asks for a commit.
func TestBrowserDrivesATurn(t *testing.T) {
	s, url, ctx := browser(t)
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#new-project summary`)),
		chromedp.Click(chromedp.CSS(`#new-project summary`)),
		chromedp.SendKeys(chromedp.CSS(`#project-form input[name=name]`), "demo"),
		chromedp.SendKeys(chromedp.CSS(`#project-form input[name=path]`), "/tmp/browser-demo"),
		chromedp.Click(chromedp.CSS(`#project-form button`)),
		waitText(ctx, `#projects`, "demo"),
		chromedp.SendKeys(chromedp.CSS(`.new-thread input`), "fix the bug"),
		chromedp.Click(chromedp.CSS(`.new-thread button`)),
		waitText(ctx, `.thread-head h1`, "fix the bug"),
		chromedp.SendKeys(chromedp.CSS(`.composer textarea`), "make the tests pass"),
		chromedp.Click(chromedp.CSS(`.composer button`)),
		waitText(ctx, `.msg.user`, "make the tests pass"),
		waitText(ctx, `[data-testid=thread-status]`, "Running"),
	)
	if err != nil {
		t.Fatal(err)
	}
	var threads contract.ThreadsReply
	s.Query(t, contract.ThreadList{}, &threads)
	if len(threads.Threads) != 1 {
		t.Fatalf("threads = %d", len(threads.Threads))
	}
	th := threads.Threads[0]
	turn := th.ActiveTurnID
	if turn == "" {
		t.Fatalf("no active turn on %+v", th)
	}

	// The agent streams its answer in chunks; the page shows it growing.
	words := strings.Fields("I found the failing test and will fix the handler that reads the body twice.")
	for i, w := range words {
		s.Publish(t, th.ID, turn, fmt.Sprintf("t%d", i), domain.TextDelta{MessageID: "a1", Delta: w + " "})
	}
	if err := chromedp.Do(ctx, waitText(ctx, `[data-message=a1]`, "reads the body twice.")); err != nil {
		t.Fatal(err)
	}
	s.Publish(t, th.ID, turn, "tool", domain.ToolCall{ToolCallID: "c1", Name: "Bash", Kind: domain.ToolKindCommand,
		Input: map[string]any{"command": "go test ./..."}})
	s.Publish(t, th.ID, turn, "ask", domain.AwaitingApproval{RequestID: "r1", ToolCallID: "c1", Kind: "command",
		Description: "run go test ./..."})
	err = chromedp.Do(ctx,
		waitText(ctx, `[data-request=r1]`, "run go test ./..."),
		waitText(ctx, `[data-testid=thread-status]`, "AwaitingApproval"),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-approval")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`[data-request=r1] button.primary`)),
		waitText(ctx, `[data-request=r1]`, "approved"),
		waitText(ctx, `[data-testid=thread-status]`, "Running"),
	)
	if err != nil {
		t.Fatal(err)
	}
	s.Publish(t, th.ID, turn, "result", domain.ToolResult{ToolCallID: "c1", Output: "ok  example.com/app 0.01s"})
	s.Publish(t, th.ID, turn, "done", domain.TurnComplete{StopReason: domain.StopEndTurn,
		Usage: domain.Usage{InputTokens: 1200, OutputTokens: 340}})
	err = chromedp.Do(ctx,
		waitText(ctx, `[data-tool=c1]`, "done"),
		waitText(ctx, `[data-testid=thread-status]`, "Idle"),
		waitText(ctx, `[data-testid=turn-usage]`, "1200 in"),
		waitText(ctx, `#projects .badge`, "Idle"), // the sidebar follows the stream too
	)
	if err != nil {
		t.Fatal(err)
	}
	s.Send(t, domain.CreateCheckpoint{ThreadID: th.ID, TurnID: turn, Ref: "refs/peon/checkpoints/" + th.ID + "/" + turn,
		Files: []domain.FileChange{{Path: "handler.go", Kind: domain.FileModified, Additions: 3, Deletions: 1}}})
	err = chromedp.Do(ctx,
		waitText(ctx, `.changes`, "1 file changed"),
		chromedp.SendKeys(chromedp.CSS(`.git input[name=message]`), "Fix the double read"),
		chromedp.Click(chromedp.CSS(`.git form button`)),
		waitText(ctx, `.git ul`, "Fix the double read"),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-thread")
	var rec contract.ThreadReply
	s.Query(t, contract.ThreadGet{ThreadID: th.ID}, &rec)
	if n := len(rec.Thread.GitOperations); n != 1 || rec.Thread.GitOperations[0].Message != "Fix the double read" {
		t.Errorf("git operations = %+v", rec.Thread.GitOperations)
	}
	if p := rec.Thread.PendingActions; len(p) != 1 || p[0].Resolution != domain.ResolutionApproved {
		t.Errorf("pending actions = %+v", p)
	}

	// A phone's width: the sidebar folds behind the menu button.
	err = chromedp.Do(ctx,
		chromedp.EmulateViewport(390, 844),
		chromedp.Navigate(url+"/#/status"),
		waitText(ctx, `[data-testid=verdict]`, ""),
	)
	if err != nil {
		t.Fatal(err)
	}
	sidebarShown, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`getComputedStyle(document.querySelector('#sidebar')).display !== 'none'`))
	if err != nil {
		t.Fatal(err)
	}
	if sidebarShown {
		t.Error("the sidebar shows at phone width before the menu is opened")
	}
	screenshot(t, ctx, "console-status-phone")
}

// TestBrowserWithARealHost: a host runs a script as the agent in a real git
// repository; from the page a user starts the turn, watches the answer,
// opens the turn's diff (made by the host from its checkpoints), commits
// the agent's work and sees the commit's sha — which is in the repository.
func TestBrowserWithARealHost(t *testing.T) {
	s, url, ctx := browser(t)
	repo := t.TempDir()
	git := func(args ...string) string {
		t.Helper()
		out, err := exec.Command("git", append([]string{"-C", repo}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
		return strings.TrimSpace(string(out))
	}
	git("init", "-q")
	git("config", "user.email", "dev@example.com")
	git("config", "user.name", "Dev")
	if err := os.WriteFile(filepath.Join(repo, "handler.go"), []byte("package app\n\nfunc Handle() {}\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	git("add", "-A")
	git("commit", "-q", "-m", "initial")

	spec, err := host.ParseProvider(`script=exec:sh -c 'read prompt; printf "package app\n\n// %s\nfunc Handle() {}\n" "$prompt" > handler.go; echo "I rewrote handler.go"'`)
	if err != nil {
		t.Fatal(err)
	}
	cp, err := gitwork.NewCheckpointer(t.Context(), s.NC)
	if err != nil {
		t.Fatal(err)
	}
	h, err := host.New(s.NC, host.Config{Name: domain.DefaultHost, Providers: []host.ProviderSpec{spec}, DefaultProvider: "script",
		LeaseTTL: time.Second, Workspace: cp}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	ex, err := gitwork.New(s.NC, gitwork.Config{Instance: "g", AckWait: time.Second}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	rctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{}, 2)
	t.Cleanup(func() { stop(); <-done; <-done })
	for _, run := range []func(context.Context) error{h.Run, ex.Run} {
		go func() { _ = run(rctx); done <- struct{}{} }()
	}

	err = chromedp.Do(ctx,
		chromedp.Navigate(url+"/"),
		chromedp.WaitVisible(chromedp.CSS(`#new-project summary`)),
		chromedp.Click(chromedp.CSS(`#new-project summary`)),
		chromedp.SendKeys(chromedp.CSS(`#project-form input[name=name]`), "app"),
		chromedp.SendKeys(chromedp.CSS(`#project-form input[name=path]`), repo),
		chromedp.Click(chromedp.CSS(`#project-form button`)),
		waitText(ctx, `#projects`, repo),
		chromedp.SendKeys(chromedp.CSS(`.new-thread input`), "document the handler"),
		chromedp.Click(chromedp.CSS(`.new-thread button`)),
		waitText(ctx, `.thread-head h1`, "document the handler"),
		chromedp.SendKeys(chromedp.CSS(`.composer textarea`), "Handle serves the API"),
		chromedp.Click(chromedp.CSS(`.composer button`)),
		waitText(ctx, `.msg.user`, "Handle serves the API"),
		waitText(ctx, `.turn`, "I rewrote handler.go"),
		waitText(ctx, `[data-testid=thread-status]`, "Idle"),
		waitText(ctx, `.changes`, "1 file changed"),
		waitText(ctx, `.changes`, "handler.go"),
		chromedp.Click(chromedp.CSS(`.changes .actions button`)),
		waitText(ctx, `[data-testid=diff]`, "+// Handle serves the API"),
	)
	if err != nil {
		t.Fatal(err)
	}
	screenshot(t, ctx, "console-diff")
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`.git input[name=message]`), "Document the handler"),
		chromedp.Click(chromedp.CSS(`.git form button`)),
		waitText(ctx, `.git ul`, "completed"),
	)
	if err != nil {
		t.Fatal(err)
	}
	if got := git("log", "-1", "--format=%s"); got != "Document the handler" {
		t.Fatalf("the repository's last commit is %q", got)
	}
	sha := git("rev-parse", "HEAD")
	if err := chromedp.Do(ctx, waitText(ctx, `.git ul`, sha[:10])); err != nil {
		t.Fatal(err)
	}
	if st := git("status", "--porcelain"); st != "" {
		t.Errorf("the commit left changes behind: %q", st)
	}
}
