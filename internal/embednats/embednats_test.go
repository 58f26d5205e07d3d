package embednats_test

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/embednats"
)

// TestBusyPortFailsAtOnce: a client port another listener holds fails
// within a second, with the operating system's error.
func TestBusyPortFailsAtOnce(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	port := l.Addr().(*net.TCPAddr).Port
	start := time.Now()
	srv, err := embednats.Start(embednats.Config{Host: "127.0.0.1", Port: port, StoreDir: t.TempDir()})
	if err == nil {
		srv.Shutdown()
		t.Fatal("started on a busy port")
	}
	if took := time.Since(start); took > time.Second {
		t.Errorf("took %s to fail", took)
	}
	if !errors.Is(err, syscall.EADDRINUSE) || !strings.Contains(err.Error(), "address already in use") {
		t.Errorf("error does not carry EADDRINUSE: %v", err)
	}
	if !strings.Contains(err.Error(), "127.0.0.1:"+strconv.Itoa(port)) {
		t.Errorf("error does not name the address: %v", err)
	}
}

// TestStartServes: a free port starts and accepts connections.
func TestStartServes(t *testing.T) {
	srv, err := embednats.Start(embednats.Config{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	conn, err := net.Dial("tcp", strings.TrimPrefix(srv.ClientURL(), "nats://"))
	if err != nil {
		t.Fatal(err)
	}
	conn.Close()
}

// TestLockDir: a second lock on the directory is refused, naming the
// holder; once unlocked the directory can be taken again.
func TestLockDir(t *testing.T) {
	dir := t.TempDir()
	unlock, err := embednats.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, err = embednats.LockDir(dir)
	var held *embednats.HeldError
	if !errors.As(err, &held) || held.PID != os.Getpid() || held.Dir != dir {
		t.Fatalf("second lock: %v (%+v)", err, held)
	}
	if !strings.Contains(err.Error(), "in use by process "+strconv.Itoa(os.Getpid())) {
		t.Errorf("message: %v", err)
	}
	unlock()
	unlock, err = embednats.LockDir(dir)
	if err != nil {
		t.Fatalf("after unlock: %v", err)
	}
	unlock()
}

// TestSecondProcessOnADataDirExitsAtOnce runs a second process (this test
// binary again) on a data directory this one holds: it exits at once,
// naming this process as the holder. Then the roles swap: a directory a
// child process holds is refused here, naming the child.
func TestSecondProcessOnADataDirExitsAtOnce(t *testing.T) {
	if dir := os.Getenv("PEON_LOCK_HELPER_DIR"); dir != "" {
		lockHelper(dir)
		return
	}
	dir := t.TempDir()
	unlock, err := embednats.LockDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	second := exec.Command(os.Args[0], "-test.run=^TestSecondProcessOnADataDirExitsAtOnce$")
	second.Env = append(os.Environ(), "PEON_LOCK_HELPER_DIR="+dir)
	out, err := second.CombinedOutput()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 3 ||
		!strings.Contains(string(out), "in use by process "+strconv.Itoa(os.Getpid())) {
		t.Fatalf("second process on a held directory: %v\n%s", err, out)
	}
	unlock()

	holder := exec.Command(os.Args[0], "-test.run=^TestSecondProcessOnADataDirExitsAtOnce$")
	holder.Env = append(os.Environ(), "PEON_LOCK_HELPER_DIR="+dir, "PEON_LOCK_HELPER_HOLD=1")
	stdin, err := holder.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := holder.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := holder.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); _ = holder.Wait() }()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != "locked" {
		t.Fatalf("holder: %q, %v", line, err)
	}
	_, err = embednats.LockDir(dir)
	var held *embednats.HeldError
	if !errors.As(err, &held) || held.PID != holder.Process.Pid {
		t.Fatalf("lock on a directory process %d holds: %v", holder.Process.Pid, err)
	}
}

// lockHelper is the child process of TestSecondProcessOnADataDirExitsAtOnce:
// it takes dir, or exits 3 with the error as a second peon would; asked to
// hold, it says "locked" and keeps the directory until stdin closes.
func lockHelper(dir string) {
	unlock, err := embednats.LockDir(dir)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	defer unlock()
	if os.Getenv("PEON_LOCK_HELPER_HOLD") != "" {
		fmt.Println("locked")
		_, _ = io.Copy(io.Discard, os.Stdin)
	}
	os.Exit(0)
}
