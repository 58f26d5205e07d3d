package provision

import (
	"context"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
)

// BucketHosts holds one key per host name: the lease of the instance that
// is active for it (see services/host). One revision per key is enough.
const BucketHosts = "peon_hosts"

// ensureHosts creates the hosts bucket (admin step; idempotent).
func ensureHosts(ctx context.Context, js jetstream.JetStream, o Options) error {
	storage := jetstream.FileStorage
	if o.Memory {
		storage = jetstream.MemoryStorage
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: BucketHosts, Description: "the lease of the active instance of each host name",
		History: 1, Storage: storage, Replicas: max(o.Replicas, 1),
	}); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", BucketHosts, err)
	}
	return nil
}
