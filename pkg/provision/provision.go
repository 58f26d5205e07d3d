// Package provision is the admin step (`peon setup`): it creates or updates
// every stream, bucket and consumer Peon needs, with the settings the
// guarantees rely on. Services themselves only check that these exist, so
// they can run with least-privilege credentials.
package provision

import (
	"context"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/eventstore"
	"github.com/peonhq/peon/services/projector"
	ingest "github.com/peonhq/peon/services/provider-ingest"
)

// Options are the deployment's storage settings.
type Options struct {
	// Replicas of every stream and bucket: 1 on one server, 3 on a cluster.
	Replicas int
	// Memory storage (tests and benchmarks only).
	Memory bool
	// IngestTiming is provider-ingest's handover timing (zero: the default).
	IngestTiming ingest.Timing
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
	if err := projector.EnsureBuckets(ctx, js, projector.BucketsV(1), projector.BucketConfig{Replicas: o.Replicas, Memory: o.Memory}); err != nil {
		return err
	}
	if err := projector.EnsureLayout(ctx, js, 1, o.TranscriptPartitions); err != nil {
		return err
	}
	return ingest.Ensure(ctx, js, ingest.Options{Replicas: o.Replicas, Memory: o.Memory, Timing: o.IngestTiming})
}
