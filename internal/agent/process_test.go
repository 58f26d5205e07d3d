package agent

import (
	"context"
	"errors"
	"os/exec"
	"strings"
	"testing"
	"time"
)

func start(t *testing.T, cfg ProcessConfig) *Process {
	t.Helper()
	p, err := StartProcess(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Kill)
	return p
}

func TestProcessLinesAndExit(t *testing.T) {
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "read x; echo one; echo \"got $x\"; echo oops >&2; exit 3"}})
	if err := p.WriteLine([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	var lines []string
	if err := p.ReadLines(func(l []byte) error { lines = append(lines, string(l)); return nil }); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(lines, "|"), "one|got hello"; got != want {
		t.Errorf("lines = %q, want %q", got, want)
	}
	exit := p.Wait()
	if exit.OK() || exit.Code != 3 || !strings.Contains(exit.Error(), "status 3: oops") {
		t.Errorf("exit = %+v (%s)", exit, exit.Error())
	}
}

// The lines a program writes just before it exits all reach a reader that
// is still busy when it exits (the output fits the pipe, so it can exit).
func TestProcessLastLinesAfterExit(t *testing.T) {
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "seq 1 2500; sleep 0.1; seq 2501 5000"}})
	n := 0
	err := p.ReadLines(func([]byte) error {
		if n == 0 {
			select {
			case <-p.Exited():
			case <-time.After(10 * time.Second):
				t.Fatal("still running 10 s after writing its output")
			}
		}
		n++
		return nil
	})
	if err != nil || n != 5000 {
		t.Errorf("read %d of 5000 lines (err %v)", n, err)
	}
}

func TestProcessInterruptThenKill(t *testing.T) {
	// The program ignores SIGINT, so the grace period ends in SIGKILL.
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "trap '' INT; echo ready; sleep 30"}, Grace: 100 * time.Millisecond})
	ready := make(chan struct{})
	go func() {
		_ = p.ReadLines(func(l []byte) error {
			if string(l) == "ready" {
				close(ready)
			}
			return nil
		})
	}()
	<-ready
	p.Interrupt()
	select {
	case <-p.Exited():
	case <-time.After(10 * time.Second):
		t.Fatal("still running 10 s after Interrupt")
	}
	if exit := p.Wait(); exit.Signal == "" {
		t.Errorf("exit = %+v, want killed by a signal", exit)
	}
}

func TestProcessIdleTimeout(t *testing.T) {
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "echo hi; sleep 30"}, IdleTimeout: 200 * time.Millisecond})
	p.Watch(true)
	_ = p.ReadLines(func([]byte) error { return nil })
	exit := p.Wait()
	if !exit.Idle || !strings.Contains(exit.Error(), ErrIdle.Error()) {
		t.Errorf("exit = %+v, want idle", exit)
	}
}

func TestProcessLineTooLong(t *testing.T) {
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "head -c 300000 /dev/zero | tr '\\0' a; echo"}, MaxLine: 100_000})
	err := p.ReadLines(func([]byte) error { return nil })
	if !errors.Is(err, ErrLineTooLong) {
		t.Errorf("err = %v, want ErrLineTooLong", err)
	}
}

func TestTruncateAndChunks(t *testing.T) {
	s := strings.Repeat("é", 1000) // 2000 bytes
	if got := Truncate(s, 500); len(got) > 500 || !strings.Contains(got, "bytes left out") {
		t.Errorf("Truncate: %d bytes %q...", len(got), got[:20])
	}
	chunks := Chunks(s, 301)
	if strings.Join(chunks, "") != s {
		t.Fatal("chunks do not join back")
	}
	for _, c := range chunks {
		if len(c) > 301 || !strings.HasPrefix(c, "é") {
			t.Errorf("chunk of %d bytes starts %q", len(c), c[:2])
		}
	}
}

func TestProcessOutputReadAfterExit(t *testing.T) {
	// The program is gone before the first line is read: what it wrote
	// must still all be there.
	// Reading all of it takes longer than the grace period: that bounds
	// silence after the exit, not the time to read what is there.
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done; exit 3"},
		Grace: 50 * time.Millisecond})
	<-p.Exited()
	var n int
	read := func([]byte) error {
		if n++; n%100 == 0 {
			time.Sleep(5 * time.Millisecond) // 150 ms in all
		}
		return nil
	}
	if err := p.ReadLines(read); err != nil {
		t.Fatal(err)
	}
	if n != 3000 {
		t.Errorf("read %d lines, want 3000", n)
	}
	if exit := p.Wait(); exit.Code != 3 {
		t.Errorf("exit = %+v, want status 3", exit)
	}
}

func TestProcessReadEndsAfterExitDespiteAnEscapedChild(t *testing.T) {
	// sleep, in a session of its own, outlives the program and the kill
	// of its group while holding stdout open.
	if _, err := exec.LookPath("setsid"); err != nil {
		t.Skip("no setsid")
	}
	p := start(t, ProcessConfig{Argv: []string{"sh", "-c", "setsid sleep 3 & echo hi; exit 0"}, Grace: 200 * time.Millisecond})
	began := time.Now()
	var lines []string
	_ = p.ReadLines(func(l []byte) error { lines = append(lines, string(l)); return nil })
	if took := time.Since(began); took > 2*time.Second {
		t.Errorf("ReadLines returned %v after start, want within the grace period after exit", took)
	}
	if len(lines) != 1 || lines[0] != "hi" {
		t.Errorf("lines = %q, want [hi]", lines)
	}
	if exit := p.Wait(); !exit.OK() {
		t.Errorf("exit = %+v, want the program's status 0", exit)
	}
}
