package gitwork

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/peontest"
)

func connect(t *testing.T, s *peontest.Stack) (*nats.Conn, jetstream.JetStream) {
	t.Helper()
	return natstest.Connect(t, s.Srv)
}
