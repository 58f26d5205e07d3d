package projector

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
)

// Rebuild folds the whole stream into read-model version v (new buckets and
// consumers) until it has folded sequence target, then makes it live. The
// live projection keeps running meanwhile; projectors and query services
// that follow the current version switch over when it flips. progress, if
// not nil, is told how far the rebuild has folded.
//
// The new version is laid out like the live one unless partitions > 0
// asks for another split of the transcript.
func Rebuild(ctx context.Context, js jetstream.JetStream, log *slog.Logger, v int, target uint64, partitions int, progress func(uint64)) error {
	live, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return err
	}
	layout, err := readmodel.DiscoverLayout(ctx, js, live)
	if err != nil {
		return err
	}
	if partitions > 0 {
		layout = readmodel.Layout(partitions)
	}
	stream, err := js.Stream(ctx, contract.EventStream)
	if err != nil {
		return err
	}
	replicas := stream.CachedInfo().Config.Replicas
	if err := readmodel.EnsureBuckets(ctx, js, readmodel.BucketsV(v), readmodel.BucketConfig{Replicas: replicas}); err != nil {
		return err
	}
	if err := readmodel.EnsureLayout(ctx, js, v, len(layout)-1); err != nil { // the catalog and n transcripts
		return err
	}
	svc, err := New(js.Conn(), Config{Instance: "rebuild", Version: v, BatchSize: 10_000}, log, layout...)
	if err != nil {
		return err
	}
	rctx, stop := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- svc.Run(rctx) }()
	defer func() { stop(); <-done }()
	meta, err := js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		return err
	}
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		folded := readmodel.Folded(ctx, meta, v, layout)
		if progress != nil {
			progress(folded)
		}
		if folded >= target {
			return readmodel.SetCurrentVersion(ctx, js, v)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-done:
			return fmt.Errorf("rebuild projector stopped: %w", err)
		case <-tick.C:
		}
	}
}
