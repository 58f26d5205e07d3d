package agent

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ProcessConfig says how to run an agent's program.
type ProcessConfig struct {
	// Argv is the program and its arguments, from the host's configuration
	// only (never from a command).
	Argv []string
	// Dir is the working directory: the project's path.
	Dir string
	// Env is added to the host's environment.
	Env []string
	// ThreadID and TurnID name the turn the process plays: every agent
	// process carries them (TurnEnv), which is how KillLeftovers finds what
	// a killed host left running.
	ThreadID, TurnID string
	// IdleTimeout ends a process that writes nothing for that long while
	// the watchdog is on (see Process.Watch); 0 disables it.
	IdleTimeout time.Duration
	// Grace is how long Interrupt waits after SIGINT before SIGKILL, and
	// how long, once the program has exited, its output may stay silent
	// (held open by a child that left its process group) before it counts
	// as ended (default 5 s).
	Grace time.Duration
	// MaxLine bounds one line of output (default 8 MiB); a longer line is
	// ErrLineTooLong, as garbage would be.
	MaxLine int
}

// ErrLineTooLong means the agent wrote a line past ProcessConfig.MaxLine.
var ErrLineTooLong = errors.New("agent output line too long")

// ErrIdle means the process was killed for writing nothing past its idle timeout.
var ErrIdle = errors.New("agent idle past its timeout")

// stderrTail is how much of the end of stderr is kept for error messages.
const stderrTail = 4 << 10

// Process is an agent's running program: stdin to write to, stdout read
// line by line, the tail of stderr kept for the error that ends a turn.
// It runs in its own process group, so interrupting or killing it reaches
// whatever it started.
type Process struct {
	cfg    ProcessConfig
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	stdout *os.File
	stderr *tailBuffer

	writeMu sync.Mutex

	mu       sync.Mutex
	watching bool
	idle     *time.Timer
	idled    bool
	killed   bool
	waited   chan struct{}
	waitErr  error
}

// StartProcess starts the program. ctx bounds its life: when ctx is done
// the process group is killed.
func StartProcess(ctx context.Context, cfg ProcessConfig) (*Process, error) {
	if len(cfg.Argv) == 0 {
		return nil, errors.New("agent: no program configured")
	}
	if cfg.Grace <= 0 {
		cfg.Grace = 5 * time.Second
	}
	if cfg.MaxLine <= 0 {
		cfg.MaxLine = 8 << 20
	}
	cmd := exec.Command(cfg.Argv[0], cfg.Argv[1:]...)
	cmd.Dir = cfg.Dir
	cmd.Env = append(append(os.Environ(), cfg.Env...), TurnEnv(cfg.ThreadID, cfg.TurnID)...)
	cmd.SysProcAttr = procAttr()
	// A child that left the process group keeps stderr open after the
	// program exits; Wait stops waiting for it after the grace period.
	cmd.WaitDelay = cfg.Grace
	p := &Process{cfg: cfg, cmd: cmd, stderr: &tailBuffer{limit: stderrTail}, waited: make(chan struct{})}
	var err error
	if p.stdin, err = cmd.StdinPipe(); err != nil {
		return nil, err
	}
	// Not cmd.StdoutPipe: Wait closes that pipe as soon as the process
	// exits, dropping what it wrote last (a crash's final lines) before
	// ReadLines has read it. The child gets the write end; the read end
	// stays open until ReadLines has read to the end (see readStdout).
	stdout, stdoutW, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	p.stdout = stdout
	cmd.Stdout = stdoutW
	cmd.Stderr = p.stderr
	err = cmd.Start()
	stdoutW.Close() // the child has its own copy
	if err != nil {
		stdout.Close()
		return nil, fmt.Errorf("start %s: %w", cfg.Argv[0], err)
	}
	go func() {
		p.waitErr = cmd.Wait()
		p.mu.Lock()
		if p.idle != nil {
			p.idle.Stop()
		}
		p.mu.Unlock()
		close(p.waited)
		// Bound a read already waiting (see readStdout).
		_ = p.stdout.SetReadDeadline(time.Now().Add(p.cfg.Grace))
	}()
	go func() {
		select {
		case <-ctx.Done():
			p.Kill()
		case <-p.waited:
		}
	}()
	return p, nil
}

// Watch turns the idle watchdog on or off. An adapter turns it off while
// the agent legitimately waits (for an approval, say) and on again after.
func (p *Process) Watch(on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.watching = on
	p.resetIdleLocked()
}

func (p *Process) resetIdleLocked() {
	if p.idle != nil {
		p.idle.Stop()
		p.idle = nil
	}
	if !p.watching || p.cfg.IdleTimeout <= 0 {
		return
	}
	p.idle = time.AfterFunc(p.cfg.IdleTimeout, func() {
		p.mu.Lock()
		p.idled = true
		p.mu.Unlock()
		p.Kill()
	})
}

// ReadLines calls fn with every line the program writes to stdout (without
// the newline; the slice is only valid during the call), until stdout ends,
// a line is too long (ErrLineTooLong) or fn fails; then stdout is closed.
// Each line resets the idle watchdog.
func (p *Process) ReadLines(fn func(line []byte) error) error {
	defer p.stdout.Close()
	r := bufio.NewReaderSize(readerFunc(p.readStdout), 64<<10)
	var long []byte
	for {
		chunk, err := r.ReadSlice('\n')
		if errors.Is(err, bufio.ErrBufferFull) {
			long = append(long, chunk...)
			if len(long) > p.cfg.MaxLine {
				return ErrLineTooLong
			}
			continue
		}
		line := chunk
		if long != nil {
			line = append(long, chunk...)
			long = nil
		}
		if len(line) > p.cfg.MaxLine {
			return ErrLineTooLong
		}
		if len(line) > 0 {
			p.mu.Lock()
			p.resetIdleLocked()
			p.mu.Unlock()
			if ferr := fn(bytes.TrimRight(line, "\r\n")); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return err
		}
	}
}

// readStdout reads the program's stdout. Once the program has exited, a
// read that gets nothing for the grace period ends the output: a child
// that left the process group may hold stdout open long after.
func (p *Process) readStdout(b []byte) (int, error) {
	select {
	case <-p.waited:
		_ = p.stdout.SetReadDeadline(time.Now().Add(p.cfg.Grace))
	default:
	}
	n, err := p.stdout.Read(b)
	if errors.Is(err, os.ErrDeadlineExceeded) {
		err = io.EOF
	}
	return n, err
}

type readerFunc func([]byte) (int, error)

func (f readerFunc) Read(b []byte) (int, error) { return f(b) }

// WriteLine writes one line (a newline is added) to the program's stdin.
// Safe for concurrent use.
func (p *Process) WriteLine(line []byte) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	if _, err := p.stdin.Write(append(line[:len(line):len(line)], '\n')); err != nil {
		return fmt.Errorf("write to agent: %w", err)
	}
	return nil
}

// Write writes raw bytes to stdin (the exec kind's prompt).
func (p *Process) Write(b []byte) error {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	_, err := p.stdin.Write(b)
	return err
}

// CloseStdin closes the program's stdin (end of input).
func (p *Process) CloseStdin() {
	p.writeMu.Lock()
	defer p.writeMu.Unlock()
	_ = p.stdin.Close()
}

// Interrupt sends SIGINT to the process group, then SIGKILL once the grace
// period has passed without the process ending.
func (p *Process) Interrupt() {
	p.signal(syscall.SIGINT)
	go func() {
		select {
		case <-p.waited:
		case <-time.After(p.cfg.Grace):
			p.Kill()
		}
	}()
}

// Kill ends the process group at once.
func (p *Process) Kill() {
	p.mu.Lock()
	p.killed = true
	p.mu.Unlock()
	p.signal(syscall.SIGKILL)
}

func (p *Process) signal(sig syscall.Signal) {
	select {
	case <-p.waited:
		return
	default:
	}
	if p.cmd.Process != nil {
		// The negative pid addresses the whole group.
		_ = syscall.Kill(-p.cmd.Process.Pid, sig)
	}
}

// Exited is closed once the process has ended.
func (p *Process) Exited() <-chan struct{} { return p.waited }

// Exit is how a process ended.
type Exit struct {
	// Code is the exit status; -1 when a signal ended it.
	Code int
	// Signal names the signal that ended it, if one did.
	Signal string
	// Idle says the idle watchdog killed it.
	Idle bool
	// Stderr is the tail of what it wrote to stderr.
	Stderr string
}

// OK reports a clean exit (status 0).
func (e Exit) OK() bool { return e.Code == 0 && e.Signal == "" && !e.Idle }

// Error describes an unclean exit for a turn's error message: why it
// ended and the tail of stderr.
func (e Exit) Error() string {
	var why string
	switch {
	case e.Idle:
		why = ErrIdle.Error()
	case e.Signal != "":
		why = "agent ended by a signal (" + e.Signal + ")"
	default:
		why = fmt.Sprintf("agent exited with status %d", e.Code)
	}
	if tail := strings.TrimSpace(e.Stderr); tail != "" {
		why += ": " + tail
	}
	return why
}

// Wait waits for the process to end (closing stdin first does not happen
// here: the adapter decides) and reports how.
func (p *Process) Wait() Exit {
	<-p.waited
	p.mu.Lock()
	idled := p.idled
	p.mu.Unlock()
	e := Exit{Idle: idled, Stderr: p.stderr.String()}
	var exitErr *exec.ExitError
	switch {
	case p.waitErr == nil, errors.Is(p.waitErr, exec.ErrWaitDelay):
		// ErrWaitDelay: it exited 0, an escaped child still held stderr.
	case errors.As(p.waitErr, &exitErr):
		e.Code = exitErr.ExitCode()
		if ws, ok := exitErr.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			e.Code, e.Signal = -1, ws.Signal().String()
		}
	default:
		e.Code = -1
		e.Signal = p.waitErr.Error()
	}
	return e
}

// StderrTail returns the tail of stderr so far.
func (p *Process) StderrTail() string { return p.stderr.String() }

// tailBuffer keeps the last limit bytes written to it.
type tailBuffer struct {
	mu    sync.Mutex
	limit int
	buf   []byte
}

func (t *tailBuffer) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if over := len(t.buf) - t.limit; over > 0 {
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	return len(b), nil
}

func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return string(t.buf)
}
