package ingest

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
)

// ConsumerName is provider-ingest's durable consumer on PEON_PROVIDER.
const ConsumerName = "peon_provider_ingest"

// PriorityGroup is the pinned group ingest instances pull in.
const PriorityGroup = "peon"

// Timing is how the consumer hands over between instances. The pin
// outlives the ack wait: when the pinned instance stops or dies, every event
// delivered to it and not acked — given back, lost in flight, or held by a
// dead process — is due for redelivery before another instance is pinned,
// so it comes back first. An instance never unpins itself for the same
// reason: it cannot know what is still in flight to it. A newly pinned
// instance also holds what it receives for one ack wait and sorts it by
// stream sequence before ingesting (see settleGate), so stragglers of the
// previous instance are put back in order.
type Timing struct {
	AckWait, PinnedTTL time.Duration
}

// DefaultTiming hands over within 8 seconds.
var DefaultTiming = Timing{AckWait: 5 * time.Second, PinnedTTL: 8 * time.Second}

// Options are the settings of the ingest stream and consumer.
type Options struct {
	Replicas int
	Memory   bool
	Timing   Timing
}

// StreamConfig is PEON_PROVIDER: input waiting to be ingested, kept a week.
func StreamConfig(replicas int, memory bool) jetstream.StreamConfig {
	storage := jetstream.FileStorage
	if memory {
		storage = jetstream.MemoryStorage
	}
	return jetstream.StreamConfig{
		Name:        contract.ProviderStream,
		Description: "What coding agents report, waiting for provider-ingest",
		Subjects:    []string{contract.ProviderSubjects},
		Storage:     storage,
		Replicas:    max(replicas, 1),
		Duplicates:  10 * time.Minute,
		MaxAge:      7 * 24 * time.Hour,
		MaxMsgSize:  1 << 20,
		AllowDirect: true,
		Discard:     jetstream.DiscardOld,
	}
}

// ConsumerConfig is the durable consumer the ingest instances share.
func ConsumerConfig(t Timing) jetstream.ConsumerConfig {
	if t.AckWait == 0 {
		t = DefaultTiming
	}
	if t.PinnedTTL <= t.AckWait {
		t.PinnedTTL = t.AckWait + t.AckWait/2
	}
	return jetstream.ConsumerConfig{
		Durable:        ConsumerName,
		Description:    "provider-ingest: provider events into IngestProviderEvent commands",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        t.AckWait,
		MaxAckPending:  2 * pullSize,
		MaxDeliver:     -1,
		FilterSubject:  contract.ProviderSubjects,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PriorityGroup},
		PinnedTTL:      t.PinnedTTL,
	}
}

// Ensure creates the provider stream, the consumer and the rejections
// bucket (admin step; idempotent).
func Ensure(ctx context.Context, js jetstream.JetStream, o Options) error {
	replicas, memory := o.Replicas, o.Memory
	if _, err := js.CreateOrUpdateStream(ctx, StreamConfig(replicas, memory)); err != nil {
		return fmt.Errorf("ensure stream %s: %w", contract.ProviderStream, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, contract.ProviderStream, ConsumerConfig(o.Timing)); err != nil {
		return fmt.Errorf("ensure consumer %s: %w", ConsumerName, err)
	}
	storage := jetstream.FileStorage
	if memory {
		storage = jetstream.MemoryStorage
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: contract.BucketIngestRejections, Description: "provider events provider-ingest could not apply",
		TTL: 7 * 24 * time.Hour, Storage: storage, Replicas: max(replicas, 1),
	}); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", contract.BucketIngestRejections, err)
	}
	return nil
}
