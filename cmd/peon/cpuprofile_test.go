package main

import (
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestCPUProfileEnv: PEON_CPUPROFILE makes any command write a CPU profile
// of its process, a readable one, once it returns.
func TestCPUProfileEnv(t *testing.T) {
	path := filepath.Join(t.TempDir(), "version.pprof")
	got := binary(t, invocation{args: []string{"version"}, env: map[string]string{cpuProfileEnv: path}})
	if got.code != 0 {
		t.Fatalf("peon version: %s", got)
	}
	checkCPUProfile(t, path)
}

// TestCPUProfileEnvUnwritable: a profile that cannot be written is an
// error before the command runs, not a run without it.
func TestCPUProfileEnvUnwritable(t *testing.T) {
	got := binary(t, invocation{args: []string{"version"}, env: map[string]string{cpuProfileEnv: filepath.Join(t.TempDir(), "no", "such", "dir.pprof")}})
	if got.code == 0 || !bytes.Contains([]byte(got.err), []byte(cpuProfileEnv)) {
		t.Errorf("want a failure naming %s, got %s", cpuProfileEnv, got)
	}
}

// TestCPUProfileOnSIGTERM: a long-running role stopped with SIGTERM, as
// `peon bench --cluster` stops its children, flushes its profile.
func TestCPUProfileOnSIGTERM(t *testing.T) {
	dir := t.TempDir()
	conf := filepath.Join(dir, "node.conf")
	if err := os.WriteFile(conf, []byte("listen: 127.0.0.1:-1\nhttp: 127.0.0.1:-1\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "nats-1.pprof")
	cmd := exec.Command(peonBin, "bench-node", "--config", conf)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME"), cpuProfileEnv + "=" + path}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitOutput(t, stderr.String, "Server is ready")
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-exited:
		if err != nil {
			t.Fatalf("bench-node after SIGTERM: %v\n%s", err, stderr.String())
		}
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatalf("bench-node still running a minute after SIGTERM:\n%s", stderr.String())
	}
	checkCPUProfile(t, path)
}

// checkCPUProfile fails unless path holds a complete CPU profile: gzip
// that decompresses to the end, a profile.proto whose string table names
// the CPU sample type (what go tool pprof reads).
func checkCPUProfile(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatalf("profile: %v", err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s is not gzip: %v", path, err)
	}
	proto, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s is cut short: %v", path, err)
	}
	for _, want := range []string{"cpu", "nanoseconds", "samples"} {
		if !bytes.Contains(proto, []byte(want)) {
			t.Errorf("%s: the profile names no %q sample type (%d bytes)", path, want, len(proto))
		}
	}
}
