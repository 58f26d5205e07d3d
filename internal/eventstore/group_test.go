package eventstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func threadBatch(cmd, thread string, expect uint64) eventstore.Batch {
	subject := contract.ThreadSubject("p", thread)
	return eventstore.Batch{CommandID: cmd,
		Events:       []domain.Event{domain.ThreadSelected{ThreadID: thread}, domain.ThreadSelected{ThreadID: thread}},
		Subjects:     []string{subject, subject},
		ExpectFilter: subject, ExpectLastSeq: expect,
	}
}

// Many callers at once, some of them stale or repeating a stored command:
// each gets the answer it would get appending alone, and the stream holds
// exactly the accepted commands, each whole and contiguous.
func TestCommitterUnderConcurrency(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t)
	committer := eventstore.NewCommitter(store)
	if _, err := store.Append(ctx, threadBatch("stored", "dup", 0)); err != nil {
		t.Fatal(err)
	}
	const threads, rounds = 24, 10
	var wg sync.WaitGroup
	errs := make(chan error, threads*rounds)
	for th := range threads {
		wg.Go(func() {
			thread := fmt.Sprint("t", th)
			last := uint64(0)
			for r := range rounds {
				if r == 3 { // decided on old state: refused, nothing stored
					if _, err := committer.Append(ctx, threadBatch(fmt.Sprint(thread, "-stale"), thread, 0)); !errors.Is(err, eventstore.ErrConflict) {
						errs <- fmt.Errorf("%s stale append: %v", thread, err)
					}
				}
				if r == 5 { // a retry of a stored command
					if _, err := committer.Append(ctx, threadBatch("stored", "dup", 0)); !errors.Is(err, eventstore.ErrDuplicate) {
						errs <- fmt.Errorf("%s duplicate append: %v", thread, err)
					}
				}
				a, err := committer.Append(ctx, threadBatch(fmt.Sprint(thread, "-", r), thread, last))
				if err != nil {
					errs <- fmt.Errorf("%s round %d: %v", thread, r, err)
					return
				}
				if a.Last != a.First+1 {
					errs <- fmt.Errorf("%s round %d: sequences %d..%d", thread, r, a.First, a.Last)
				}
				last = a.Last
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if seq, _ := store.LastSequence(ctx, contract.EventSubjects); seq != 2+2*threads*rounds {
		t.Fatalf("stream ends at %d, want %d", seq, 2+2*threads*rounds)
	}
	for th := range threads {
		thread := fmt.Sprint("t", th)
		var got []string
		var prev uint64
		if _, err := store.Load(ctx, contract.ThreadFilter(thread), 0, func(r eventstore.Record) error {
			got = append(got, r.CommandID)
			if len(got)%2 == 0 && r.Sequence != prev+1 {
				return fmt.Errorf("command %s split: %d then %d", r.CommandID, prev, r.Sequence)
			}
			prev = r.Sequence
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		for r := range rounds {
			if got[2*r] != fmt.Sprint(thread, "-", r) || got[2*r+1] != got[2*r] {
				t.Fatalf("%s holds %v", thread, got)
			}
		}
	}
	groups, batches := committer.Stats()
	t.Logf("%d groups held %d of %d commands", groups, batches, threads*rounds)
}
