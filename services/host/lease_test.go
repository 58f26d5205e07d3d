package host

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/natstest"
)

// The lease, step by step with a fake clock: the first instance takes it;
// a second waits while it is renewed; once it goes stale for a whole TTL
// the second takes it and the first, unable to renew, gives it up.
func TestLeaseSteps(t *testing.T) {
	srv := natstest.Server(t)
	_, js := natstest.Connect(t, srv)
	ctx := context.Background()
	kv, err := js.CreateKeyValue(ctx, jetstream.KeyValueConfig{Bucket: "leases", History: 1, Storage: jetstream.MemoryStorage})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	ttl := 3 * time.Second
	a := &lease{kv: kv, key: "box", value: []byte("a"), ttl: ttl, log: log}
	b := &lease{kv: kv, key: "box", value: []byte("b"), ttl: ttl, log: log}
	now := time.Now()

	a.step(ctx, now)
	b.step(ctx, now)
	if !a.held || b.held {
		t.Fatalf("first step: a %v, b %v", a.held, b.held)
	}
	for i := 1; i <= 6; i++ { // renewed every second: b never takes it
		now = now.Add(time.Second)
		a.step(ctx, now)
		b.step(ctx, now)
		if !a.held || b.held {
			t.Fatalf("while renewed (%d): a %v, b %v", i, a.held, b.held)
		}
	}
	// a stops renewing: b takes it once the revision has not moved for a TTL.
	now = now.Add(time.Second)
	b.step(ctx, now)
	if b.held {
		t.Fatal("b took a lease that moved a second ago")
	}
	now = now.Add(ttl)
	b.step(ctx, now)
	if !b.held {
		t.Fatal("b did not take a stale lease")
	}
	if e, err := kv.Get(ctx, "box"); err != nil || string(e.Value()) != "b" {
		t.Fatalf("key = %v, %v", e, err)
	}
	// a comes back: its renewal fails on the revision, so it gives up.
	a.step(ctx, now)
	if a.held {
		t.Fatal("two holders")
	}
	// b releases: a takes it at its next step.
	if err := kv.Delete(ctx, "box", jetstream.LastRevision(b.rev)); err != nil {
		t.Fatal(err)
	}
	a.step(ctx, now)
	if !a.held {
		t.Fatal("a did not take a released lease")
	}
}
