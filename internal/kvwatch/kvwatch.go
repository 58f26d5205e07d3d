// Package kvwatch follows puts to JetStream KV keys: the projector and the
// query service use it to react to peon_meta changes (version switches,
// projection progress) without polling.
package kvwatch

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
)

// Puts calls fn for the current value and every later put of the keys
// matching filter (UpdatesOnly: only later puts), until ctx is done or the
// watch ends. Deletes and the end-of-initial-values marker are skipped.
func Puts(ctx context.Context, kv jetstream.KeyValue, filter string, updatesOnly bool, fn func(jetstream.KeyValueEntry)) error {
	var opts []jetstream.WatchOpt
	if updatesOnly {
		opts = append(opts, jetstream.UpdatesOnly())
	}
	w, err := kv.Watch(ctx, filter, opts...)
	if err != nil {
		return err
	}
	defer func() { _ = w.Stop() }()
	for {
		select {
		case <-ctx.Done():
			return nil
		case e, ok := <-w.Updates():
			if !ok {
				return nil
			}
			if e == nil || e.Operation() != jetstream.KeyValuePut {
				continue
			}
			fn(e)
		}
	}
}
