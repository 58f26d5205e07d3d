package provision

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
)

// DiffsConfig is peon_diffs: each turn's diff, written by the host that ran
// the turn and kept as long as the thread's history (no age limit), so it
// can be read while the host is offline.
func DiffsConfig(replicas int, memory bool) jetstream.ObjectStoreConfig {
	storage := jetstream.FileStorage
	if memory {
		storage = jetstream.MemoryStorage
	}
	return jetstream.ObjectStoreConfig{
		Bucket:      contract.BucketDiffs,
		Description: "each turn's changed files and unified diff (<thread_id>/<turn_id>)",
		Storage:     storage,
		Replicas:    max(replicas, 1),
		Compression: true,
	}
}

// ensureDiffs creates or updates the peon_diffs object store.
func ensureDiffs(ctx context.Context, js jetstream.JetStream, o Options) error {
	if _, err := js.CreateOrUpdateObjectStore(ctx, DiffsConfig(o.Replicas, o.Memory)); err != nil {
		return fmt.Errorf("ensure object store %s: %w", contract.BucketDiffs, err)
	}
	return nil
}
