package projector

import (
	"context"
	"sync/atomic"

	"github.com/nats-io/nats.go/jetstream"
)

// countedKV is a bucket whose reads and writes are counted: each is one
// request to JetStream, a round trip, as the stats report
// (Stats.JetStreamRequests).
type countedKV struct {
	jetstream.KeyValue
	requests *atomic.Int64
}

func (c countedKV) Get(ctx context.Context, key string) (jetstream.KeyValueEntry, error) {
	c.requests.Add(1)
	return c.KeyValue.Get(ctx, key)
}

func (c countedKV) Create(ctx context.Context, key string, value []byte, opts ...jetstream.KVCreateOpt) (uint64, error) {
	c.requests.Add(1)
	return c.KeyValue.Create(ctx, key, value, opts...)
}

func (c countedKV) Update(ctx context.Context, key string, value []byte, revision uint64) (uint64, error) {
	c.requests.Add(1)
	return c.KeyValue.Update(ctx, key, value, revision)
}

func (c countedKV) Put(ctx context.Context, key string, value []byte) (uint64, error) {
	c.requests.Add(1)
	return c.KeyValue.Put(ctx, key, value)
}

func (c countedKV) Delete(ctx context.Context, key string, opts ...jetstream.KVDeleteOpt) error {
	c.requests.Add(1)
	return c.KeyValue.Delete(ctx, key, opts...)
}

// counted wraps every bucket of kv.
func counted(kv map[string]jetstream.KeyValue, requests *atomic.Int64) map[string]jetstream.KeyValue {
	out := make(map[string]jetstream.KeyValue, len(kv))
	for name, b := range kv {
		out[name] = countedKV{KeyValue: b, requests: requests}
	}
	return out
}
