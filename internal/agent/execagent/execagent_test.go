package execagent_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/internal/agent/execagent"
	"github.com/peonhq/peon/pkg/domain"
)

// recorder collects what a turn emits.
type recorder struct {
	mu     sync.Mutex
	events []domain.ProviderEvent
}

func (r *recorder) emit(e domain.ProviderEvent) {
	r.mu.Lock()
	r.events = append(r.events, e)
	r.mu.Unlock()
}

func (r *recorder) all() []domain.ProviderEvent {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]domain.ProviderEvent(nil), r.events...)
}

func (r *recorder) text() string {
	var b strings.Builder
	for _, e := range r.all() {
		if d, ok := e.(domain.TextDelta); ok {
			b.WriteString(d.Delta)
		}
	}
	return b.String()
}

func (r *recorder) last() domain.ProviderEvent {
	all := r.all()
	if len(all) == 0 {
		return nil
	}
	return all[len(all)-1]
}

func play(t *testing.T, cfg execagent.Config, req agent.TurnRequest) (*recorder, agent.Turn) {
	t.Helper()
	p, err := execagent.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if req.Dir == "" {
		req.Dir = t.TempDir()
	}
	if req.TurnID == "" {
		req.TurnID = "u1"
	}
	rec := &recorder{}
	turn, err := p.Start(context.Background(), req, rec.emit)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		turn.Interrupt()
		<-turn.Done()
	})
	return rec, turn
}

func wait(t *testing.T, turn agent.Turn) {
	t.Helper()
	select {
	case <-turn.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("the turn did not end")
	}
}

// The prompt arrives on stdin, the program runs in the project's
// directory, every stdout line is text of one message, exit 0 completes.
func TestLinesAreTextAndExitZeroCompletes(t *testing.T) {
	dir := t.TempDir()
	rec, turn := play(t, execagent.Config{Argv: []string{"sh", "-c", `read p; echo "you said: $p"; pwd; echo "turn $PEON_TURN_ID"`}},
		agent.TurnRequest{Prompt: "fix the bug\n", Dir: dir, TurnID: "u7"})
	wait(t, turn)
	want := "you said: fix the bug\n" + dir + "\nturn u7\n"
	if got := rec.text(); got != want {
		t.Errorf("text = %q, want %q", got, want)
	}
	for _, e := range rec.all() {
		if d, ok := e.(domain.TextDelta); ok && d.MessageID != execagent.MessageID("u7") {
			t.Errorf("delta of message %q, want %q", d.MessageID, execagent.MessageID("u7"))
		}
	}
	if tc, ok := rec.last().(domain.TurnComplete); !ok || tc.StopReason != domain.StopEndTurn {
		t.Errorf("last event = %#v, want TurnComplete", rec.last())
	}
}

// Any other exit is an error carrying the tail of stderr, after
// SessionExited with the status.
func TestFailureCarriesStderrTail(t *testing.T) {
	rec, turn := play(t, execagent.Config{Argv: []string{"sh", "-c", `echo working; echo "cannot open go.mod" >&2; exit 3`}}, agent.TurnRequest{})
	wait(t, turn)
	all := rec.all()
	if len(all) < 2 {
		t.Fatalf("events = %#v", all)
	}
	exited, ok := all[len(all)-2].(domain.SessionExited)
	if !ok || exited.ExitCode != 3 {
		t.Errorf("before the error: %#v, want SessionExited 3", all[len(all)-2])
	}
	pe, ok := rec.last().(domain.ProviderError)
	if !ok || !strings.Contains(pe.Message, "status 3") || !strings.Contains(pe.Message, "cannot open go.mod") {
		t.Errorf("last = %#v, want an error with the status and stderr", rec.last())
	}
}

// A program that starts nothing is an error from Start, not a turn.
func TestMissingProgram(t *testing.T) {
	p, err := execagent.New(execagent.Config{Argv: []string{"/nonexistent/agent"}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Start(context.Background(), agent.TurnRequest{Dir: t.TempDir(), TurnID: "u1"}, func(domain.ProviderEvent) {}); err == nil {
		t.Fatal("started a program that does not exist")
	}
	if _, err := execagent.New(execagent.Config{}); err == nil {
		t.Fatal("accepted an empty command line")
	}
}

// A program silent past the idle timeout is killed; the turn ends with a
// retryable error.
func TestIdleTimeout(t *testing.T) {
	rec, turn := play(t, execagent.Config{Argv: []string{"sh", "-c", "echo start; exec sleep 30"}, IdleTimeout: 300 * time.Millisecond}, agent.TurnRequest{})
	wait(t, turn)
	pe, ok := rec.last().(domain.ProviderError)
	if !ok || !strings.Contains(pe.Message, "idle timeout") || !pe.Retryable {
		t.Errorf("last = %#v, want a retryable idle error", rec.last())
	}
}

// Interrupt stops the program (SIGINT, then SIGKILL for one that ignores
// it) and nothing more is emitted.
func TestInterrupt(t *testing.T) {
	rec, turn := play(t, execagent.Config{Argv: []string{"sh", "-c", `trap '' INT; echo started; while :; do sleep 0.05; done`}, Grace: 200 * time.Millisecond},
		agent.TurnRequest{})
	for rec.text() == "" {
		select {
		case <-turn.Done():
			t.Fatal("ended before the interrupt")
		case <-time.After(10 * time.Millisecond):
		}
	}
	turn.Interrupt()
	wait(t, turn)
	for _, e := range rec.all() {
		if _, ok := e.(domain.TextDelta); !ok {
			t.Errorf("emitted %#v after the interrupt", e)
		}
	}
	if err := turn.Respond("r1", agent.Decision{Allow: true}); err == nil {
		t.Error("an exec turn accepted an answer to a request it never made")
	}
}

// A line past MaxLine ends the turn with an error.
func TestLineTooLong(t *testing.T) {
	rec, turn := play(t, execagent.Config{Argv: []string{"sh", "-c", "head -c 2000000 /dev/zero | tr '\\0' a; echo"}}, agent.TurnRequest{})
	wait(t, turn)
	if pe, ok := rec.last().(domain.ProviderError); !ok || !strings.Contains(pe.Message, "longer than") {
		t.Errorf("last = %#v, want a line-too-long error", rec.last())
	}
}

// Deltas of any line are valid UTF-8, each within the chunk limit, and
// together the line (invalid bytes replaced) and its newline.
func FuzzDeltas(f *testing.F) {
	f.Add([]byte("hello"))
	f.Add([]byte("caf\xc3\xa9 \xff\xfe"))
	f.Add([]byte(strings.Repeat("é", agent.MaxTextChunk)))
	f.Fuzz(func(t *testing.T, line []byte) {
		ds := execagent.Deltas(line)
		var b strings.Builder
		for _, d := range ds {
			if !utf8.ValidString(d) || len(d) > agent.MaxTextChunk || d == "" {
				t.Fatalf("bad delta %q", d)
			}
			b.WriteString(d)
		}
		if want := strings.ToValidUTF8(string(line), "\uFFFD") + "\n"; b.String() != want {
			t.Fatalf("deltas join to %q, want %q", b.String(), want)
		}
	})
}

func TestMessageIDIsValid(t *testing.T) {
	for _, id := range []string{"u1", strings.Repeat("x", 64)} {
		if m := execagent.MessageID(id); !domain.ValidID(m) || m != execagent.MessageID(id) {
			t.Errorf("MessageID(%q) = %q", id, m)
		}
	}
}
