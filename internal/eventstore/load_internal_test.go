package eventstore

import (
	"context"
	"fmt"
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Pages that start small and grow, and the bound on sequences, read the
// same events as one big page would, whatever the page sizes.
func TestLoadPagesAndBounds(t *testing.T) {
	ctx := context.Background()
	store := newInternalStore(t)
	subject := contract.ThreadSubject("p", "t")
	var seqs []uint64 // of t's events; other threads' events interleave
	for i := range 30 {
		for _, th := range []string{"t", "other"} {
			s := contract.ThreadSubject("p", th)
			a, err := store.Append(ctx, Batch{CommandID: fmt.Sprint(th, i), Events: []domain.Event{domain.ThreadSelected{ThreadID: th}}, Subjects: []string{s}})
			if err != nil {
				t.Fatal(err)
			}
			if th == "t" {
				seqs = append(seqs, a.First)
			}
		}
	}
	read := func(load func(context.Context, string, uint64, uint64, func(Record) error) (uint64, error), after, before uint64) ([]uint64, uint64) {
		var got []uint64
		last, err := load(ctx, subject, after, before, func(r Record) error {
			got = append(got, r.Sequence)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got, last
	}
	for _, pageSize := range []int{1, 3, 1000} {
		store.pageSize = pageSize
		for _, tc := range []struct{ after, before uint64 }{{0, seqs[0] + 1}, {0, seqs[10]}, {seqs[3], seqs[20] + 1}, {0, 1 << 40}, {seqs[29], 1 << 40}} {
			var want []uint64
			for _, s := range seqs {
				if s > tc.after && s < tc.before {
					want = append(want, s)
				}
			}
			for name, load := range map[string]func(context.Context, string, uint64, uint64, func(Record) error) (uint64, error){
				"LoadBefore": store.LoadBefore, "LoadBeforeFew": store.LoadBeforeFew,
			} {
				got, last := read(load, tc.after, tc.before)
				if fmt.Sprint(got) != fmt.Sprint(want) {
					t.Errorf("page %d, %s(after %d, before %d) = %v, want %v", pageSize, name, tc.after, tc.before, got, want)
				}
				if len(want) > 0 && last < want[len(want)-1] {
					t.Errorf("page %d, %s: last %d before the last event read", pageSize, name, last)
				}
			}
		}
	}
}
