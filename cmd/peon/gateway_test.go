package main

import (
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestGatewayRole runs `peon gateway` as its own process against a stack:
// a request without a token is refused, the tokens file's read-only
// identity may read but not send commands, the --http-token one may both.
func TestGatewayRole(t *testing.T) {
	_, url := startStack(t)
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	tokens := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokens, []byte("# viewers\nviewer-token-0123456789 viewer read-only\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	const own = "operator-token-0123456789"
	gw := exec.Command(peonBin, "gateway", "--listen", addr, "--http-token", own, "--tokens-file", tokens)
	gw.Env = []string{"NATS_URL=" + url, "PATH=" + os.Getenv("PATH")}
	if err := gw.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Process.Kill(); _ = gw.Wait() })

	call := func(method, path, token, body string) int {
		req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return -1
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	deadline := time.Now().Add(15 * time.Second)
	for call("GET", "/v1/whoami", own, "") != 200 {
		if time.Now().After(deadline) {
			t.Fatal("peon gateway never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range []struct {
		method, path, token, body string
		want                      int
	}{
		{"GET", "/v1/projects", "", "", 401},
		{"GET", "/v1/projects", "not-a-token-at-all-0000", "", 401},
		{"GET", "/v1/projects", "viewer-token-0123456789", "", 200},
		{"POST", "/v1/commands/project.create", "viewer-token-0123456789", `{"name":"x","path":"/x"}`, 403},
		{"POST", "/v1/commands/project.create", own, `{"name":"x","path":"/x"}`, 200},
	} {
		if got := call(c.method, c.path, c.token, c.body); got != c.want {
			t.Errorf("%s %s with token %q: %d, want %d", c.method, c.path, c.token, got, c.want)
		}
	}
}

// TestGatewayFlags: without a token the gateway refuses to start, and a
// tokens file's problems are all reported at once.
func TestGatewayFlags(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(bad, []byte("short role\nlonely\nlong-enough-token-0000 r sideways\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, r := range runners {
		got := r.run(t, invocation{args: []string{"gateway", "--listen", "127.0.0.1:0", "--tokens-file", bad}, env: at("nats://127.0.0.1:1")})
		if got.code != exitUsage || !strings.Contains(got.err, `unknown option "sideways"`) {
			t.Errorf("%s: a bad tokens file: %s", r.name, got)
		}
	}
	if _, err := readTokensFile(bad); err == nil || !strings.Contains(err.Error(), ":1:") || !strings.Contains(err.Error(), ":2:") || !strings.Contains(err.Error(), `unknown option "sideways"`) {
		t.Errorf("tokens file problems: %v", err)
	}
	for _, r := range runners {
		got := r.run(t, invocation{args: []string{"gateway", "--listen", "127.0.0.1:0"}, env: at("nats://127.0.0.1:1")})
		if got.code != exitUsage || !strings.Contains(got.err, "--http-token or --tokens-file") {
			t.Errorf("%s: %s", r.name, got)
		}
	}
}
