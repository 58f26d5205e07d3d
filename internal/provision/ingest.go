package provision

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
)

// IngestConsumer is provider-ingest's durable consumer on PEON_PROVIDER.
const IngestConsumer = "peon_provider_ingest"

// IngestPriorityGroup is the pinned group ingest instances pull in.
const IngestPriorityGroup = "peon"

// IngestPullSize is how many provider events an ingest instance keeps in
// flight. It is large so that when many threads stream at once, each worker
// still finds several events per thread waiting and sends them as one
// command; the consumer allows two pulls' worth unacked.
const IngestPullSize = 4096

// IngestTiming is how the consumer hands over between instances. The pin
// outlives the ack wait: when the pinned instance stops or dies, every event
// delivered to it and not acked — given back, lost in flight, or held by a
// dead process — is due for redelivery before another instance is pinned,
// so it comes back first. An instance never unpins itself for the same
// reason: it cannot know what is still in flight to it. A newly pinned
// instance also holds what it receives for one ack wait and sorts it by
// stream sequence before ingesting (see settleGate), so stragglers of the
// previous instance are put back in order.
type IngestTiming struct {
	AckWait, PinnedTTL time.Duration
}

// DefaultIngestTiming hands over within 8 seconds.
var DefaultIngestTiming = IngestTiming{AckWait: 5 * time.Second, PinnedTTL: 8 * time.Second}

// ProviderStreamConfig is PEON_PROVIDER: input waiting to be ingested, kept a week.
func ProviderStreamConfig(replicas int, memory bool) jetstream.StreamConfig {
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

// IngestConsumerConfig is the durable consumer the ingest instances share.
func IngestConsumerConfig(t IngestTiming) jetstream.ConsumerConfig {
	if t.AckWait == 0 {
		t = DefaultIngestTiming
	}
	if t.PinnedTTL <= t.AckWait {
		t.PinnedTTL = t.AckWait + t.AckWait/2
	}
	return jetstream.ConsumerConfig{
		Durable:        IngestConsumer,
		Description:    "provider-ingest: provider events into IngestProviderEvent commands",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        t.AckWait,
		MaxAckPending:  2 * IngestPullSize,
		MaxDeliver:     -1,
		FilterSubject:  contract.ProviderSubjects,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{IngestPriorityGroup},
		PinnedTTL:      t.PinnedTTL,
	}
}

// ensureIngest creates the provider stream, the consumer and the rejections
// bucket (admin step; idempotent).
func ensureIngest(ctx context.Context, js jetstream.JetStream, o Options) error {
	replicas, memory := o.Replicas, o.Memory
	if _, err := js.CreateOrUpdateStream(ctx, ProviderStreamConfig(replicas, memory)); err != nil {
		return fmt.Errorf("ensure stream %s: %w", contract.ProviderStream, err)
	}
	if _, err := js.CreateOrUpdateConsumer(ctx, contract.ProviderStream, IngestConsumerConfig(o.IngestTiming)); err != nil {
		return fmt.Errorf("ensure consumer %s: %w", IngestConsumer, err)
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

// EnsureCommandIDs creates (or updates) the decider's record of used
// command ids, BucketCommandIDs; Run does it with everything else.
func EnsureCommandIDs(ctx context.Context, js jetstream.JetStream, o Options) error {
	storage := jetstream.FileStorage
	if o.Memory {
		storage = jetstream.MemoryStorage
	}
	if _, err := js.CreateOrUpdateKeyValue(ctx, jetstream.KeyValueConfig{
		Bucket: contract.BucketCommandIDs, Description: "the aggregate each accepted command_id was used on",
		TTL: contract.CommandIDTTL, History: 1, MaxValueSize: 1 << 10, Storage: storage, Replicas: max(o.Replicas, 1),
	}); err != nil {
		return fmt.Errorf("ensure bucket %s: %w", contract.BucketCommandIDs, err)
	}
	return nil
}
