package readmodel

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/kvwatch"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
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
	// Threads last: it is the key readers watch, so when it flips the
	// other buckets already name the new version.
	switches := [][2]string{{contract.BucketProjects, b.Projects}, {contract.BucketMessages, b.Messages},
		{contract.BucketThreads, b.Threads}}
	for _, sw := range switches {
		if _, err := meta.PutString(ctx, contract.MetaCurrentPrefix+sw[0], sw[1]); err != nil {
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
