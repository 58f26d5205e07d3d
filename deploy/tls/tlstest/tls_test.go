// Package tlstest checks the TLS setup of deploy/tls: material from gen.sh,
// a server with the tls block of tls.conf, and peon's client options.
package tlstest

import (
	"net"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
)

func TestTLS(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Fatalf("openssl is needed to generate the test material: %v", err)
	}
	dir := t.TempDir()
	good, bad := filepath.Join(dir, "good"), filepath.Join(dir, "bad")
	for _, out := range []string{good, bad} {
		if b, err := exec.Command("bash", "../gen.sh", out).CombinedOutput(); err != nil {
			t.Fatalf("gen.sh: %v\n%s", err, b)
		}
	}
	tlsConfig, err := server.GenTLSConfig(&server.TLSConfigOpts{
		CertFile: filepath.Join(good, "server.pem"), KeyFile: filepath.Join(good, "server-key.pem"),
		CaFile: filepath.Join(good, "ca.pem"), Verify: true, Timeout: 2,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv, err := server.NewServer(&server.Options{Host: "127.0.0.1", Port: -1, TLS: true, TLSVerify: true,
		TLSConfig: tlsConfig, TLSTimeout: 2, NoLog: true, NoSigs: true})
	if err != nil {
		t.Fatal(err)
	}
	srv.Start()
	t.Cleanup(srv.Shutdown)
	if !srv.ReadyForConnections(10 * time.Second) {
		t.Fatal("server not ready")
	}
	_, port, _ := net.SplitHostPort(srv.Addr().String())
	url := "tls://127.0.0.1:" + port

	connect := func(opts ...nats.Option) error {
		nc, err := nats.Connect(url, append(opts, nats.Timeout(3*time.Second), nats.MaxReconnects(0))...)
		if err == nil {
			nc.Close()
		}
		return err
	}
	// The options peon sets from --tls-ca, --tls-cert and --tls-key.
	if err := connect(nats.RootCAs(filepath.Join(good, "ca.pem")),
		nats.ClientCert(filepath.Join(good, "client.pem"), filepath.Join(good, "client-key.pem"))); err != nil {
		t.Fatalf("a client with the right CA and certificate was refused: %v", err)
	}
	if err := connect(nats.RootCAs(filepath.Join(bad, "ca.pem")),
		nats.ClientCert(filepath.Join(good, "client.pem"), filepath.Join(good, "client-key.pem"))); err == nil {
		t.Fatal("a client trusting the wrong CA connected")
	}
	if err := connect(nats.RootCAs(filepath.Join(good, "ca.pem")),
		nats.ClientCert(filepath.Join(bad, "client.pem"), filepath.Join(bad, "client-key.pem"))); err == nil {
		t.Fatal("a client certificate from another CA was accepted")
	}
	if err := connect(nats.RootCAs(filepath.Join(good, "ca.pem"))); err == nil {
		t.Fatal("a client without a certificate was accepted (mutual TLS)")
	}
}
