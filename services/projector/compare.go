package projector

import (
	"bytes"
	"context"
	"fmt"
	"slices"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/readmodel"
)

// Compare reads two read-model versions key by key and describes every
// difference: a key only one holds, or values that differ in a single
// byte. Folding is deterministic, so a version rebuilt from the stream
// must equal the live one exactly; Compare is how that is checked.
func Compare(ctx context.Context, js jetstream.JetStream, a, b readmodel.Buckets) (diffs []string, err error) {
	for _, pair := range [][2]string{{a.Projects, b.Projects}, {a.Threads, b.Threads}, {a.Messages, b.Messages}} {
		x, err := readBucket(ctx, js, pair[0])
		if err != nil {
			return nil, err
		}
		y, err := readBucket(ctx, js, pair[1])
		if err != nil {
			return nil, err
		}
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		for k := range y {
			if _, ok := x[k]; !ok {
				keys = append(keys, k)
			}
		}
		slices.Sort(keys)
		for _, k := range keys {
			vx, inX := x[k]
			vy, inY := y[k]
			switch {
			case !inX || !inY:
				diffs = append(diffs, fmt.Sprintf("%s: key %s only in %s", pair[0], k, map[bool]string{true: pair[0], false: pair[1]}[inX]))
			case !bytes.Equal(vx, vy):
				diffs = append(diffs, fmt.Sprintf("%s vs %s: key %s differs (%d vs %d bytes)", pair[0], pair[1], k, len(vx), len(vy)))
			}
		}
	}
	return diffs, nil
}

// readBucket returns every live key of bucket with its value.
func readBucket(ctx context.Context, js jetstream.JetStream, bucket string) (map[string][]byte, error) {
	kv, err := js.KeyValue(ctx, bucket)
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	w, err := kv.WatchAll(ctx, jetstream.IgnoreDeletes())
	if err != nil {
		return nil, fmt.Errorf("bucket %s: %w", bucket, err)
	}
	defer func() { _ = w.Stop() }()
	out := map[string][]byte{}
	for {
		select {
		case e := <-w.Updates():
			if e == nil {
				return out, nil
			}
			out[e.Key()] = e.Value()
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}
