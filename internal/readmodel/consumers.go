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
// admin step on p.Stream(version). A transcript partition's filters its
// share of the split stream; every other projection reads every event.
func ConsumerConfig(p Projection, version int) jetstream.ConsumerConfig {
	filter := contract.EventSubjects
	if p.Split() {
		filter = SplitFilter(p.Partition)
	}
	return jetstream.ConsumerConfig{
		Durable:        p.ConsumerName(version),
		Description:    "Peon " + p.Name + " projection",
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        30 * time.Second,
		MaxAckPending:  20_000,
		FilterSubject:  filter,
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

// ErrWholeStreamPartitions: the transcript partitions of a version were
// laid out before they read a split stream, each reading every event;
// `peon setup` moves them (EnsureLayout).
var ErrWholeStreamPartitions = errors.New("the transcript partitions read the whole event stream, as laid out by an earlier Peon: run `peon setup` to move each to its share")

// DiscoverLayout returns the projections of read model version v as the
// admin step created their consumers.
func DiscoverLayout(ctx context.Context, js jetstream.JetStream, v int) ([]Projection, error) {
	layout, whole, err := discover(ctx, js, v)
	if err == nil && whole {
		return nil, ErrWholeStreamPartitions
	}
	return layout, err
}

// discover finds version v's layout, also one whose partitions still read
// the whole event stream (whole).
func discover(ctx context.Context, js jetstream.JetStream, v int) (layout []Projection, whole bool, err error) {
	if _, err := js.Consumer(ctx, contract.EventStream, Transcript.ConsumerName(v)); err == nil {
		return All, false, nil
	} else if !errors.Is(err, jetstream.ErrConsumerNotFound) {
		return nil, false, fmt.Errorf("consumer %s: %w", Transcript.ConsumerName(v), err)
	}
	first := FirstPartition.ConsumerName(v)
	cons, err := js.Consumer(ctx, SplitStream(v), first)
	if errors.Is(err, jetstream.ErrStreamNotFound) || errors.Is(err, jetstream.ErrConsumerNotFound) {
		whole = true
		cons, err = js.Consumer(ctx, contract.EventStream, first)
	}
	if err != nil {
		return nil, false, fmt.Errorf("consumer %s or %s: %w (run `peon setup`)", Transcript.ConsumerName(v), first, err)
	}
	n, err := strconv.Atoi(cons.CachedInfo().Config.Metadata[metaPartitions])
	if err != nil || n < 2 || n > MaxTranscriptPartitions {
		return nil, false, fmt.Errorf("consumer %s does not record its partition count", first)
	}
	return Layout(n), whole, nil
}

// EnsureLayout creates the consumers of read model version v with the
// transcript split n ways (admin step; idempotent), and for a split the
// split stream its partitions read. A version already laid out with another
// count is left as it is and reported: changing the count means a
// rebuild into a new version. Partitions an earlier Peon laid out on the
// whole event stream are moved to the split stream (EnsureConsumers):
// stop the projectors while this runs.
func EnsureLayout(ctx context.Context, js jetstream.JetStream, v, n int) error {
	n = max(n, 1)
	if n > MaxTranscriptPartitions {
		return fmt.Errorf("%d transcript partitions: at most %d", n, MaxTranscriptPartitions)
	}
	if existing, _, err := discover(ctx, js, v); err == nil && len(existing) != len(Layout(n)) {
		return fmt.Errorf("read model version %d already splits the transcript %d ways, not %d (rebuild to change it)",
			v, len(existing)-1, n)
	}
	if n > 1 {
		events, err := js.Stream(ctx, contract.EventStream)
		if err != nil {
			return fmt.Errorf("stream %s: %w", contract.EventStream, err)
		}
		cfg := events.CachedInfo().Config
		if split, err := js.Stream(ctx, SplitStream(v)); err == nil {
			// Its transform cannot change: what it holds was split n ways.
			if had := split.CachedInfo().Config.Metadata[metaPartitions]; had != strconv.Itoa(n) {
				return fmt.Errorf("stream %s splits the events %s ways, not %d (rebuild to change it)", SplitStream(v), had, n)
			}
		} else if !errors.Is(err, jetstream.ErrStreamNotFound) {
			return fmt.Errorf("stream %s: %w", SplitStream(v), err)
		}
		if _, err := js.CreateOrUpdateStream(ctx, SplitStreamConfig(v, n, cfg.Replicas, cfg.Storage)); err != nil {
			return fmt.Errorf("ensure stream %s: %w", SplitStream(v), err)
		}
	}
	return EnsureConsumers(ctx, js, v, Layout(n)...)
}

// EnsureConsumers creates the projections' durable consumers (admin step;
// idempotent). A transcript partition's consumer that an earlier Peon
// made on the event stream is deleted once its successor on the split
// stream exists: the successor starts from the beginning, and the
// projector skips what the partition's progress record says is folded.
func EnsureConsumers(ctx context.Context, js jetstream.JetStream, version int, ps ...Projection) error {
	for _, p := range ps {
		cfg := ConsumerConfig(p, version)
		if _, err := js.CreateOrUpdateConsumer(ctx, p.Stream(version), cfg); err != nil {
			return fmt.Errorf("ensure consumer %s: %w", cfg.Durable, err)
		}
		if !p.Split() {
			continue
		}
		err := js.DeleteConsumer(ctx, contract.EventStream, cfg.Durable)
		if err != nil && !errors.Is(err, jetstream.ErrConsumerNotFound) {
			return fmt.Errorf("delete the whole-stream consumer %s: %w", cfg.Durable, err)
		}
	}
	return nil
}
