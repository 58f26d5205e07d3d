// Package provision is the admin step (`peon setup`): it creates or updates
// every stream, bucket and consumer Peon needs, with the settings the
// guarantees rely on. Services themselves only check that these exist, so
// they can run with least-privilege credentials.
package provision

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/readmodel"
)

// Options are the deployment's storage settings.
type Options struct {
	// Replicas of every stream and bucket: 1 on one server, 3 on a cluster.
	Replicas int
	// Memory storage (tests and benchmarks only).
	Memory bool
	// IngestTiming is provider-ingest's handover timing (zero: the default).
	IngestTiming IngestTiming
	// TranscriptPartitions splits the transcript projection this many ways
	// (0 or 1: one), so that many projector instances share the streaming load.
	TranscriptPartitions int
}

// Run provisions everything. It is idempotent.
func Run(ctx context.Context, js jetstream.JetStream, o Options) error {
	stream := eventstore.DefaultStreamConfig()
	stream.Replicas = max(o.Replicas, 1)
	stream.Memory = o.Memory
	if _, err := eventstore.EnsureStream(ctx, js, stream); err != nil {
		return err
	}
	if err := EnsureCommandIDs(ctx, js, o); err != nil {
		return err
	}
	if err := readmodel.EnsureBuckets(ctx, js, readmodel.BucketsV(1), readmodel.BucketConfig{Replicas: o.Replicas, Memory: o.Memory}); err != nil {
		return err
	}
	if err := readmodel.EnsureLayout(ctx, js, 1, o.TranscriptPartitions); err != nil {
		return err
	}
	if err := ensureDiffs(ctx, js, o); err != nil {
		return err
	}
	if err := ensureIngest(ctx, js, o); err != nil {
		return err
	}
	return ensureHosts(ctx, js, o)
}
