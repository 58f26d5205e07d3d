package projector

import (
	"io"
	"log/slog"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/domain"
)

// TestStaleWriterNeverOverwritesNewer: an instance whose state is behind
// finds a newer value, leaves it, and a later write of its still-older
// state leaves it too (it must not reuse the newer value's revision).
func TestStaleWriterNeverOverwritesNewer(t *testing.T) {
	srv := natstest.Server(t)
	_, js := natstest.Connect(t, srv)
	kv, err := js.CreateKeyValue(t.Context(), jetstream.KeyValueConfig{Bucket: "stale"})
	if err != nil {
		t.Fatal(err)
	}
	r := newRunner(readmodel.Projection{Name: "test"}, Config{}.withDefaults(), js, map[string]jetstream.KeyValue{"stale": kv},
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	write := func(revs *revisions, seq uint64) {
		t.Helper()
		v, _ := domain.Marshal(domain.MessagePack, seqOnly{Seq: seq})
		if err := r.putBytes(t.Context(), "stale", "k", v, seq, revs); err != nil {
			t.Fatal(err)
		}
	}
	var current, stale revisions
	write(&current, 10) // the up-to-date instance
	write(&stale, 5)    // the stale one finds 10 and leaves it
	write(&stale, 6)    // and again
	e, err := kv.Get(t.Context(), "k")
	if err != nil {
		t.Fatal(err)
	}
	var got seqOnly
	if err := domain.Unmarshal(domain.MessagePack, e.Value(), &got); err != nil || got.Seq != 10 {
		t.Fatalf("key holds seq %d (%v), want 10", got.Seq, err)
	}
	write(&current, 11) // the up-to-date instance still writes
	if e, _ := kv.Get(t.Context(), "k"); e.Revision() != 2 {
		t.Fatalf("revision %d, want 2 (two writes of the current instance only)", e.Revision())
	}
}
