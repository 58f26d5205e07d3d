package projector

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/pkg/kvwatch"
)

// The live read-model version is named in peon_meta by current.<bucket>
// (one key per bucket, all switched together; the threads key is read).
// Without the keys, version 1 (the plain bucket names) is live.

// CurrentVersion returns the live read-model version.
func CurrentVersion(ctx context.Context, js jetstream.JetStream) (int, error) {
	meta, err := js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		return 0, err
	}
	e, err := meta.Get(ctx, contract.MetaCurrentPrefix+contract.BucketThreads)
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return 1, nil
	}
	if err != nil {
		return 0, err
	}
	return versionOf(string(e.Value()))
}

// versionOf reads the version from a bucket name (peon_threads_v3 -> 3).
func versionOf(bucket string) (int, error) {
	_, v, found := strings.Cut(bucket, "_v")
	if !found {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 2 {
		return 0, fmt.Errorf("bucket name %q does not end in a version", bucket)
	}
	return n, nil
}

// SetCurrentVersion switches readers (and following projectors) to version v.
func SetCurrentVersion(ctx context.Context, js jetstream.JetStream, v int) error {
	meta, err := js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		return err
	}
	b := BucketsV(v)
	for plain, name := range map[string]string{contract.BucketProjects: b.Projects, contract.BucketMessages: b.Messages,
		contract.BucketThreads: b.Threads} { // threads last: it is the key readers watch
		if _, err := meta.PutString(ctx, contract.MetaCurrentPrefix+plain, name); err != nil {
			return err
		}
	}
	return nil
}

// WatchVersion calls changed with every new live version until ctx is done.
func WatchVersion(ctx context.Context, js jetstream.JetStream, changed func(int)) error {
	meta, err := js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		return err
	}
	return kvwatch.Puts(ctx, meta, contract.MetaCurrentPrefix+contract.BucketThreads, true, func(e jetstream.KeyValueEntry) {
		if v, err := versionOf(string(e.Value())); err == nil {
			changed(v)
		}
	})
}

// Rebuild folds the whole stream into read-model version v (new buckets and
// consumers) until it has folded sequence target, then makes it live. The
// live projection keeps running meanwhile; projectors and query services
// that follow the current version switch over when it flips. progress, if
// not nil, is told how far the rebuild has folded.
//
// The new version is laid out like the live one unless partitions > 0
// asks for another split of the transcript.
func Rebuild(ctx context.Context, js jetstream.JetStream, log *slog.Logger, v int, target uint64, partitions int, progress func(uint64)) error {
	live, err := CurrentVersion(ctx, js)
	if err != nil {
		return err
	}
	layout, err := DiscoverLayout(ctx, js, live)
	if err != nil {
		return err
	}
	if partitions > 0 {
		layout = Layout(partitions)
	}
	stream, err := js.Stream(ctx, contract.EventStream)
	if err != nil {
		return err
	}
	replicas := stream.CachedInfo().Config.Replicas
	if err := EnsureBuckets(ctx, js, BucketsV(v), BucketConfig{Replicas: replicas}); err != nil {
		return err
	}
	if err := EnsureLayout(ctx, js, v, len(layout)-1); err != nil { // the catalog and n transcripts
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
		folded := Folded(ctx, meta, v, layout)
		if progress != nil {
			progress(folded)
		}
		if folded >= target {
			return SetCurrentVersion(ctx, js, v)
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

// Folded is how far every one of the projections ps of read model version
// v has folded: the least of their progress records (0 while one has none).
func Folded(ctx context.Context, meta jetstream.KeyValue, v int, ps []Projection) uint64 {
	var least uint64
	for i, p := range ps {
		e, err := meta.Get(ctx, contract.MetaProgressPrefix+p.Key(v))
		if err != nil {
			return 0
		}
		var rec contract.ProgressRecord
		if domain.Unmarshal(domain.MessagePack, e.Value(), &rec) != nil {
			return 0
		}
		if i == 0 || rec.LastFolded < least {
			least = rec.LastFolded
		}
	}
	return least
}
