package embednats_test

import (
	"errors"
	"net"
	"os"
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
