// Package embednats runs a nats-server with JetStream inside the Peon
// process: `peon dev` uses it so a newcomer needs nothing installed, and the
// tests use it as the real server they run against.
package embednats

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config is what an embedded server needs.
type Config struct {
	// Host and Port of the client listener; Port -1 picks a free port.
	Host string
	Port int
	// StoreDir is where JetStream keeps its files.
	StoreDir string
	// MaxMemory and MaxStore bound JetStream's memory and file storage (bytes).
	MaxMemory, MaxStore int64
	// SyncAlways makes the server fsync every write before acknowledging it,
	// as the deploy configs do. Off, the server syncs every two minutes.
	SyncAlways bool
	// MaxPayload bounds one message (bytes); 0 keeps the server's default (1 MiB).
	MaxPayload int32
	// Name of the server, shown in monitoring and logs.
	Name string
}

// Start starts the server and waits until it accepts connections. A client
// listener that cannot be opened (the address is in use, or not this
// machine's) fails at once with the operating system's error.
func Start(c Config) (*server.Server, error) {
	if c.StoreDir == "" {
		return nil, errors.New("embednats: StoreDir is required")
	}
	opts := &server.Options{
		ServerName:         c.Name,
		Host:               c.Host,
		Port:               c.Port,
		JetStream:          true,
		StoreDir:           c.StoreDir,
		JetStreamMaxMemory: c.MaxMemory,
		JetStreamMaxStore:  c.MaxStore,
		SyncAlways:         c.SyncAlways,
		MaxPayload:         c.MaxPayload,
		NoSigs:             true,
	}
	srv, err := server.NewServer(opts)
	if err != nil {
		return nil, fmt.Errorf("embednats: %w", err)
	}
	// The server reports a listener it cannot open only to its logger, and
	// would then leave ReadyForConnections to time out.
	fatal := &fatalLogger{}
	srv.SetLogger(fatal, false, false)
	srv.Start() // opens the client listener before it returns
	if err := fatal.err(); err != nil {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("embednats: listen on %s: %w", net.JoinHostPort(c.Host, strconv.Itoa(c.Port)), err)
	}
	if !srv.ReadyForConnections(15 * time.Second) {
		srv.Shutdown()
		return nil, errors.New("embednats: server not ready after 15s")
	}
	return srv, nil
}
