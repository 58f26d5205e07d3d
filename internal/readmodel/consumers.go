package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
)

// ConsumerConfig is the durable consumer of a projection, created by the
// admin step.
func ConsumerConfig(p Projection, version int) jetstream.ConsumerConfig {
	return jetstream.ConsumerConfig{
		Durable:        p.ConsumerName(version),
		Description:    "Peon " + p.Name + " projection",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  20_000,
		FilterSubject:  contract.EventSubjects,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PriorityGroup},
		// How long a silent instance keeps the projection before another
		// takes over.
		PinnedTTL: 10 * time.Second,
		Metadata:  map[string]string{metaPartitions: strconv.Itoa(max(p.Partitions, 1))},
	}
}

// metaPartitions is the consumer metadata key that records how many ways
// the transcript is split, so every instance and the rebuild find the
// deployment's layout from the consumers the admin step created.
const metaPartitions = "peon_transcript_partitions"

// DiscoverLayout returns the projections of read model version v as the
// admin step created their consumers.
func DiscoverLayout(ctx context.Context, js jetstream.JetStream, v int) ([]Projection, error) {
	if _, err := js.Consumer(ctx, contract.EventStream, Transcript.ConsumerName(v)); err == nil {
		return All, nil
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, fmt.Errorf("consumer %s: %w", Transcript.ConsumerName(v), err)
	}
	first := FirstPartition
	cons, err := js.Consumer(ctx, contract.EventStream, first.ConsumerName(v))
	if err != nil {
		return nil, fmt.Errorf("consumer %s: %w (run `peon setup`)", Transcript.ConsumerName(v), err)
	}
	n, err := strconv.Atoi(cons.CachedInfo().Config.Metadata[metaPartitions])
	if err != nil || n < 2 || n > MaxTranscriptPartitions {
		return nil, fmt.Errorf("consumer %s does not record its partition count", first.ConsumerName(v))
	}
	return Layout(n), nil
}

// EnsureLayout creates the consumers of read model version v with the
// transcript split n ways (admin step; idempotent). A version already laid
// out with another count is left as it is and reported: changing the count
// means a rebuild into a new version.
func EnsureLayout(ctx context.Context, js jetstream.JetStream, v, n int) error {
	n = max(n, 1)
	if n > MaxTranscriptPartitions {
		return fmt.Errorf("%d transcript partitions: at most %d", n, MaxTranscriptPartitions)
	}
	if existing, err := DiscoverLayout(ctx, js, v); err == nil && len(existing) != len(Layout(n)) {
		return fmt.Errorf("read model version %d already splits the transcript %d ways, not %d (rebuild to change it)",
			v, len(existing)-1, n)
	}
	return EnsureConsumers(ctx, js, v, Layout(n)...)
}

// EnsureConsumers creates the projections' durable consumers (admin step; idempotent).
func EnsureConsumers(ctx context.Context, js jetstream.JetStream, version int, ps ...Projection) error {
	for _, p := range ps {
		if _, err := js.CreateOrUpdateConsumer(ctx, contract.EventStream, ConsumerConfig(p, version)); err != nil {
			return fmt.Errorf("ensure consumer %s: %w", p.ConsumerName(version), err)
		}
	}
	return nil
}
