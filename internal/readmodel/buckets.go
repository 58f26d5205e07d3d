package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/retry"
	"github.com/peonhq/peon/pkg/contract"
)

// Buckets names the buckets one version of the read model writes to.
type Buckets struct {
	Projects, Threads, Messages string
}

// BucketsV returns the bucket names of version n: the plain names for 1,
// <name>_v<n> after.
func BucketsV(n int) Buckets {
	suffix := ""
	if n > 1 {
		suffix = "_v" + strconv.Itoa(n)
	}
	return Buckets{
		Projects: contract.BucketProjects + suffix,
		Threads:  contract.BucketThreads + suffix,
		Messages: contract.BucketMessages + suffix,
	}
}

func (b Buckets) All() []string { return []string{b.Projects, b.Threads, b.Messages} }

// BucketConfig is what the read-model buckets are created with.
type BucketConfig struct {
	Replicas int
	Memory   bool
}

// EnsureBuckets creates the buckets of b and the meta bucket if missing
// (admin step; idempotent).
func EnsureBuckets(ctx context.Context, js jetstream.JetStream, b Buckets, c BucketConfig) error {
	storage := jetstream.FileStorage
	if c.Memory {
		storage = jetstream.MemoryStorage
	}
	replicas := max(c.Replicas, 1)
	for _, name := range append(b.All(), contract.BucketMeta) {
		_, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
			Bucket: name, History: 1, Storage: storage, Replicas: replicas,
			Description: "Peon read model",
		})
		if err != nil {
			return fmt.Errorf("ensure bucket %s: %w", name, err)
		}
	}
	return nil
}

// OpenBuckets opens existing buckets; a missing one is reported by name.
// A lookup that fails for another reason (a cluster still electing the
// bucket's leader answers late) is tried again for a while.
func OpenBuckets(ctx context.Context, js jetstream.JetStream, names ...string) (map[string]jetstream.KeyValue, error) {
	out := map[string]jetstream.KeyValue{}
	var errs []error
	for _, name := range names {
		var kv jetstream.KeyValue
		err := retry.Startup.Until(ctx, retry.StartupPatience, retry.Missing, func() (err error) {
			kv, err = js.KeyValue(ctx, name)
			return err
		})
		if err != nil {
			errs = append(errs, fmt.Errorf("bucket %s: %w (run `peon setup`)", name, err))
			continue
		}
		out[name] = kv
	}
	return out, errors.Join(errs...)
}
