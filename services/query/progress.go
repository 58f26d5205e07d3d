package query

import (
	"context"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/kvwatch"
	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// progress follows how far each projection has folded, by watching the
// progress.<projection> keys the projector writes after every batch.
type progress struct {
	mu      sync.Mutex
	records map[string]contract.ProgressRecord
	changed chan struct{} // closed and replaced on every update
}

func newProgress() *progress {
	return &progress{records: map[string]contract.ProgressRecord{}, changed: make(chan struct{})}
}

// follow updates p from the meta bucket until ctx is done.
func (p *progress) follow(ctx context.Context, meta jetstream.KeyValue) error {
	return kvwatch.Puts(ctx, meta, contract.MetaProgressPrefix+"*", false, func(e jetstream.KeyValueEntry) {
		var rec contract.ProgressRecord
		if domain.Unmarshal(domain.MessagePack, e.Value(), &rec) != nil {
			return
		}
		name := strings.TrimPrefix(e.Key(), contract.MetaProgressPrefix)
		p.mu.Lock()
		p.records[name] = rec
		close(p.changed)
		p.changed = make(chan struct{})
		p.mu.Unlock()
	})
}

func (p *progress) get(projection string) (contract.ProgressRecord, <-chan struct{}) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.records[projection], p.changed
}

// layout returns the projections of read model version v, as the
// progress records tell: false until the transcript has recorded progress.
func (p *progress) layout(v int) ([]readmodel.Projection, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.records[readmodel.Transcript.Key(v)]; ok {
		return readmodel.All, true
	}
	if rec, ok := p.records[readmodel.FirstPartition.Key(v)]; ok && rec.Partitions > 1 {
		return readmodel.Layout(rec.Partitions), true
	}
	return nil, false
}

// wait returns once the projection named by key() has folded min, or
// fails after limit: with ErrTimeout, or, when the projection records that
// it cannot go on (Degraded), with unavailable and its reason, so the
// asker learns why. key is asked again on every change: it may not be
// known (false) until the projection has recorded progress. A projection
// marked past the stream's end fails the wait at once, whatever its
// progress. check is asked about the record that satisfies the wait.
func (p *progress) wait(ctx context.Context, key func() (string, bool), min uint64, limit time.Duration,
	check func(contract.ProgressRecord) error) error {
	if min == 0 {
		return nil
	}
	timer := time.NewTimer(limit)
	defer timer.Stop()
	for {
		name, known := key()
		rec, changed := p.get(name)
		if known && rec.PastStreamEnd {
			return domain.Errorf(contract.CodeUnavailable, "projection %s: %s", name, rec.Degraded)
		}
		if known && rec.LastFolded >= min {
			return check(rec)
		}
		select {
		case <-changed:
		case <-timer.C:
			if known && rec.Degraded != "" {
				return domain.Errorf(contract.CodeUnavailable, "projection %s is degraded: %s", name, rec.Degraded)
			}
			return microreply.ErrTimeout
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
