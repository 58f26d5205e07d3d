package natsproc

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Process is a program run as a child process that can be killed,
// frozen and restarted with the same arguments. Its output goes to a log
// file, shown when the test fails.
type Process struct {
	Name string
	t    testing.TB
	bin  string
	args []string
	env  []string
	log  string

	mu     sync.Mutex
	cmd    *exec.Cmd
	exited chan struct{}
}

// NewProcess prepares (does not start) bin with args; env is added to the
// test process's environment.
func NewProcess(t testing.TB, name, bin string, env []string, args ...string) *Process {
	p := &Process{Name: name, t: t, bin: bin, args: args, env: env, log: filepath.Join(t.TempDir(), name+".log")}
	t.Cleanup(func() {
		p.Signal(syscall.SIGCONT)
		p.Kill()
		if t.Failed() {
			p.dumpLog()
		}
	})
	return p
}

// Start starts the process unless it is running.
func (p *Process) Start() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		return
	}
	log, err := os.OpenFile(p.log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		p.t.Fatal(err)
	}
	cmd := exec.Command(p.bin, p.args...)
	cmd.Env = append(os.Environ(), p.env...)
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		p.t.Fatal(err)
	}
	exited := make(chan struct{})
	go func() { _ = cmd.Wait(); _ = log.Close(); close(exited) }()
	p.cmd, p.exited = cmd, exited
}

// Kill sends SIGKILL and waits for the process to be gone.
func (p *Process) Kill() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.exited
	p.cmd = nil
}

// Signal sends sig if the process runs (SIGSTOP freezes it, SIGCONT resumes).
func (p *Process) Signal(sig syscall.Signal) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd != nil {
		_ = p.cmd.Process.Signal(sig)
	}
}

// Running reports whether the process was started and has not exited.
func (p *Process) Running() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.cmd == nil {
		return false
	}
	select {
	case <-p.exited:
		return false
	default:
		return true
	}
}

func (p *Process) dumpLog() {
	b, _ := os.ReadFile(p.log)
	if dir := os.Getenv("PEON_FAULTS_LOG_DIR"); dir != "" {
		// Keep the whole log of a failed run for a closer look.
		_ = os.WriteFile(filepath.Join(dir, fmt.Sprintf("%s-%d.log", p.Name, time.Now().UnixNano())), b, 0o644)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	p.t.Logf("--- last lines of %s's log:\n%s", p.Name, strings.Join(lines[max(0, len(lines)-30):], "\n"))
}
