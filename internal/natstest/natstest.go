// Package natstest starts real, in-process JetStream servers for tests:
// port -1, a store under t.TempDir(), shut down by t.Cleanup. No mocks.
package natstest

import (
	"testing"

	"github.com/nats-io/nats-server/v2/server"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/embednats"
)

// Server starts a JetStream server for the test and returns it.
func Server(t testing.TB) *server.Server {
	t.Helper()
	srv, err := embednats.Start(embednats.Config{Host: "127.0.0.1", Port: -1, StoreDir: t.TempDir(), Name: "test"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		srv.Shutdown()
		srv.WaitForShutdown()
	})
	return srv
}

// Connect opens a connection to srv, closed by t.Cleanup.
func Connect(t testing.TB, srv *server.Server) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return ConnectURL(t, srv.ClientURL())
}

// ConnectURL opens a connection to url (a comma-separated list for a
// cluster), closed by t.Cleanup.
func ConnectURL(t testing.TB, url string, opts ...nats.Option) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	nc, err := nats.Connect(url, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(nc.Close)
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	return nc, js
}
