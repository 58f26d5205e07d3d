package claude

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// The fake claude is built once per test binary, on first use, so that a
// run of the decoder's tests or fuzz workers alone does not build it.
var (
	buildOnce sync.Once
	buildDir  string
	fakePath  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

func fakeClaude(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "fakeclaude-")
		if buildErr != nil {
			return
		}
		fakePath = filepath.Join(buildDir, "claude")
		out, err := exec.Command("go", "build", "-o", fakePath, "./testdata/fakeclaude").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("building the fake claude: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return fakePath
}

// recorder keeps what a turn emits and lets a test wait for an event.
type recorder struct {
	mu     sync.Mutex
	events []domain.ProviderEvent
	ch     chan domain.ProviderEvent
}

func newRecorder() *recorder { return &recorder{ch: make(chan domain.ProviderEvent, 4096)} }

func (r *recorder) emit(ev domain.ProviderEvent) {
	r.mu.Lock()
	r.events = append(r.events, ev)
	r.mu.Unlock()
	r.ch <- ev
}

func (r *recorder) all() []domain.ProviderEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]domain.ProviderEvent(nil), r.events...)
}

// fixture is one turn played by the fake claude.
type fixture struct {
	t    *testing.T
	log  string
	rec  *recorder
	turn agent.Turn
}

// startTurn plays scenario. A zero IdleTimeout in cfg is 5 s and a zero
// Grace 300 ms, so that faults end fast; env is added to the fake's.
func startTurn(t *testing.T, scenario string, req agent.TurnRequest, cfg Config, env ...string) *fixture {
	t.Helper()
	dir := t.TempDir()
	log := filepath.Join(dir, "fake.log")
	cfg.Argv = []string{fakeClaude(t)}
	cfg.Env = append([]string{"FAKECLAUDE_SCENARIO=" + scenario, "FAKECLAUDE_LOG=" + log}, env...)
	if cfg.IdleTimeout == 0 {
		cfg.IdleTimeout = 5 * time.Second
	}
	if cfg.Grace == 0 {
		cfg.Grace = 300 * time.Millisecond
	}
	if req.Dir == "" {
		req.Dir = dir
	}
	if req.Prompt == "" {
		req.Prompt = "do the thing"
	}
	rec := newRecorder()
	turn, err := New(cfg).Start(context.Background(), req, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{t: t, log: log, rec: rec, turn: turn}
	t.Cleanup(func() {
		turn.Interrupt()
		select {
		case <-turn.Done():
		case <-time.After(10 * time.Second):
			t.Error("turn still running 10 s after the test")
		}
	})
	return f
}

// wait waits for the turn to end and returns what it emitted.
func (f *fixture) wait() []domain.ProviderEvent {
	f.t.Helper()
	select {
	case <-f.turn.Done():
	case <-time.After(10 * time.Second):
		f.t.Fatalf("turn not done after 10 s; emitted so far:\n%s", show(f.rec.all()))
	}
	return f.rec.all()
}

// next waits for the next event the turn emits.
func (f *fixture) next() domain.ProviderEvent {
	f.t.Helper()
	select {
	case ev := <-f.rec.ch:
		return ev
	case <-time.After(10 * time.Second):
		f.t.Fatalf("no event after 10 s; emitted so far:\n%s", show(f.rec.all()))
	}
	return nil
}

// logged returns what the fake wrote to its log.
func (f *fixture) logged() []map[string]any {
	f.t.Helper()
	file, err := os.Open(f.log)
	if err != nil {
		f.t.Fatal(err)
	}
	defer file.Close()
	var out []map[string]any
	sc := bufio.NewScanner(file)
	sc.Buffer(nil, 16<<20)
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			f.t.Fatalf("fake log: %v", err)
		}
		out = append(out, m)
	}
	return out
}

// argv is the command line the fake was started with (less the program).
func (f *fixture) argv() []string {
	f.t.Helper()
	for _, m := range f.logged() {
		if a, ok := m["argv"].([]any); ok {
			var out []string
			for _, s := range a {
				out = append(out, s.(string))
			}
			return out
		}
	}
	f.t.Fatal("fake logged no argv")
	return nil
}

// exit is how the fake said it ended: "eof" (its input ended), an exit
// code with an error, or nil when it was killed.
func (f *fixture) exit() any {
	f.t.Helper()
	var exit any
	for _, m := range f.logged() {
		if e, ok := m["exit"]; ok {
			exit = e
			if msg, ok := m["error"]; ok {
				f.t.Errorf("fake failed: %v", msg)
			}
		}
	}
	return exit
}

// received reports whether the fake read a control request of subtype.
func (f *fixture) received(subtype string) bool {
	f.t.Helper()
	for _, m := range f.logged() {
		in, _ := m["in"].(map[string]any)
		req, _ := in["request"].(map[string]any)
		if in["type"] == "control_request" && req["subtype"] == subtype {
			return true
		}
	}
	return false
}

func show(evs []domain.ProviderEvent) string {
	var b strings.Builder
	for _, ev := range evs {
		fmt.Fprintf(&b, "  %s %+v\n", ev.ProviderEventType(), ev)
	}
	return b.String()
}

func checkEvents(t *testing.T, got, want []domain.ProviderEvent) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("events\ngot:\n%swant:\n%s", show(got), show(want))
	}
}
