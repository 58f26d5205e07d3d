package loadgen

import (
	"context"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/natstest"
)

// TestRequestPublishReply: every trip of the raw command floor is a
// request answered only after its body is stored in the scratch stream,
// by a responder on a connection of its own.
func TestRequestPublishReply(t *testing.T) {
	ctx, client, responder, stream := requestPair(t)
	const n, size = 50, 256
	lat, took, err := requestPublishReply(ctx, client, responder, n, 1, make([]byte, size))
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != n || took <= 0 {
		t.Fatalf("%d latencies over %v, want %d", len(lat), took, n)
	}
	for i, l := range lat {
		if l <= 0 {
			t.Errorf("trip %d took %v", i, l)
		}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The n measured trips and the readiness probe before them.
	if info.State.Msgs != n+1 {
		t.Errorf("scratch stream holds %d messages, want %d", info.State.Msgs, n+1)
	}
	last, err := stream.GetLastMsgForSubject(ctx, rawSubject+".request")
	if err != nil {
		t.Fatal(err)
	}
	if len(last.Data) != size {
		t.Errorf("stored body %d B, want the request's %d B", len(last.Data), size)
	}
}

// TestRawReportsRequestPublishReply: the raw scenario reports the floor
// beside sync publish, and still every figure it reported before.
func TestRawReportsRequestPublishReply(t *testing.T) {
	srv := natstest.Server(t)
	_, js := natstest.Connect(t, srv)
	responder, _ := natstest.Connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var r Report
	if err := Raw(ctx, js, responder, jetstream.StreamConfig{Storage: jetstream.FileStorage, Replicas: 1}, 500, 256, &r); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"raw.sync_publish", "raw.sync_publish.p50", "raw.sync_publish.p99",
		"raw.request_publish_reply", "raw.request_publish_reply.p50", "raw.request_publish_reply.p99",
		"raw.async_publish", "raw.ordered_read", "raw.pipeline"} {
		if f, ok := r.Get(name); !ok || f.Value <= 0 {
			t.Errorf("figure %s missing or not positive: %+v", name, f)
		}
	}
	if _, err := js.Stream(ctx, rawStream); err == nil {
		t.Error("the scratch stream outlived the scenario")
	}
}

// TestRelate: a figure related to a baseline gets its ratio and no target.
func TestRelate(t *testing.T) {
	r := Report{Figures: []Figure{{Name: "floor", Value: 2}, {Name: "x", Value: 5}}}
	r.Relate("x", "floor")
	r.Relate("x", "absent") // no such baseline: left as it is
	f, _ := r.Get("x")
	if f.Baseline != "floor" || f.Ratio != 2.5 || f.Target != "" || f.Met != nil {
		t.Errorf("related figure %+v, want baseline floor, ratio 2.5, no target", f)
	}
}

// TestRequestPublishReplyInFlight: with several requests in flight every
// one of n is answered once and stored once.
func TestRequestPublishReplyInFlight(t *testing.T) {
	ctx, client, responder, stream := requestPair(t)
	const n = 300
	lat, _, err := requestPublishReply(ctx, client, responder, n, 16, make([]byte, 64))
	if err != nil {
		t.Fatal(err)
	}
	info, err := stream.Info(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(lat) != n || info.State.Msgs != n+1 {
		t.Fatalf("%d trips answered, %d messages stored, want %d and %d", len(lat), info.State.Msgs, n, n+1)
	}
}

// requestPair is a server with a scratch stream, a client connection and
// a responder connection of its own.
func requestPair(t *testing.T) (context.Context, *nats.Conn, *nats.Conn, jetstream.Stream) {
	t.Helper()
	srv := natstest.Server(t)
	client, js := natstest.Connect(t, srv)
	responder, _ := natstest.Connect(t, srv)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	stream, err := rawScratch(ctx, js, jetstream.StreamConfig{Storage: jetstream.FileStorage, Replicas: 1})
	if err != nil {
		t.Fatal(err)
	}
	return ctx, client, responder, stream
}
