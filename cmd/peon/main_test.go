package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

// peonBin is the binary the tests run end to end, built once.
var peonBin string

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "peon-cli-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	peonBin = filepath.Join(dir, "peon")
	build := exec.Command("go", "build", "-o", peonBin, ".")
	build.Stderr = os.Stderr
	if err := build.Run(); err != nil {
		fmt.Fprintln(os.Stderr, "build peon:", err)
		os.Exit(1)
	}
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// result is what one invocation printed and its exit code.
type result struct {
	out, err string
	code     int
}

func (r result) String() string {
	return fmt.Sprintf("exit %d\n--- stdout\n%s--- stderr\n%s", r.code, r.out, r.err)
}

// invocation is one run of the CLI: its arguments, environment and input.
type invocation struct {
	args  []string
	env   map[string]string
	stdin string
	// within bounds the run: then it is interrupted, as Ctrl-C would.
	within time.Duration
}

// inProcess runs the CLI through runEnv, as main does.
func inProcess(t *testing.T, in invocation) result {
	t.Helper()
	var out, errOut bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), cmpDuration(in.within, 30*time.Second))
	defer cancel()
	env := newEnvironment(func(k string) string { return in.env[k] }, strings.NewReader(in.stdin), &out, &errOut)
	code := exitCode(runEnv(ctx, in.args, env), env.stderr)
	return result{out.String(), errOut.String(), code}
}

// binary runs the built binary with only the given environment (and PATH,
// HOME): nothing leaks in from the test's own.
func binary(t *testing.T, in invocation) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), cmpDuration(in.within, 30*time.Second))
	defer cancel()
	cmd := exec.CommandContext(ctx, peonBin, in.args...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}
	for k, v := range in.env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var out, errOut bytes.Buffer
	cmd.Stdin, cmd.Stdout, cmd.Stderr = strings.NewReader(in.stdin), &out, &errOut
	err := cmd.Run()
	code := 0
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		code = exit.ExitCode()
	} else if err != nil {
		t.Fatalf("run peon: %v", err)
	}
	return result{out.String(), errOut.String(), code}
}

func cmpDuration(d, def time.Duration) time.Duration {
	if d > 0 {
		return d
	}
	return def
}

// runner is one way of running the CLI.
type runner struct {
	name string
	run  func(*testing.T, invocation) result
}

var runners = []runner{{"in-process", inProcess}, {"binary", binary}}

// check is an invocation and what it must give.
type check struct {
	invocation
	code int
	// want must all appear in stdout+stderr; wantOut in stdout alone.
	want, wantOut []string
	// not must not appear anywhere.
	not []string
}

// verify runs every check each way.
func verify(t *testing.T, checks []check) {
	t.Helper()
	for _, r := range runners {
		for _, c := range checks {
			t.Run(r.name+"/"+strings.Join(c.args, "_"), func(t *testing.T) {
				got := r.run(t, c.invocation)
				bad := got.code != c.code
				for _, w := range c.want {
					bad = bad || !strings.Contains(got.out+got.err, w)
				}
				for _, w := range c.wantOut {
					bad = bad || !strings.Contains(got.out, w)
				}
				for _, w := range c.not {
					bad = bad || strings.Contains(got.out+got.err, w)
				}
				if bad {
					t.Errorf("peon %s: want exit %d with %q (stdout %q), without %q; got %s",
						strings.Join(c.args, " "), c.code, c.want, c.wantOut, c.not, got)
				}
			})
		}
	}
}

// startStack runs a whole Peon (decider, query, projector, ingest) on an
// embedded server and returns it with its client URL.
func startStack(t *testing.T) (*peontest.Stack, string) {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	return s, s.Srv.ClientURL()
}

// at is the environment that points the CLI at url.
func at(url string) map[string]string { return map[string]string{"NATS_URL": url} }

func waitOutput(t *testing.T, get func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if strings.Contains(get(), want) {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatalf("never saw %q; last:\n%s", want, get())
}
