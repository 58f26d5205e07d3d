package projector_test

import (
	"slices"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/services/projector"
)

// TestPartitionsShareTheLoadAndTakeOver: with the transcript split three
// ways, two projector instances each run a share of the four projections;
// one is killed (no give-back, no unpin) mid-workload and the other takes
// its share over. The result equals a replay from sequence 1, which also
// shows every thread's events were folded in order.
func TestPartitionsShareTheLoadAndTakeOver(t *testing.T) {
	if testing.Short() {
		t.Skip("waits out a pinned TTL")
	}
	s := peontest.StartWith(t, provision.Options{TranscriptPartitions: 3})
	s.WaitServing(t)
	layout, err := readmodel.DiscoverLayout(t.Context(), s.JS, 1)
	if err != nil || len(layout) != 4 {
		t.Fatalf("layout: %v %v", layout, err)
	}
	cfg := projector.Config{BatchSize: 10, RebalanceEvery: 200 * time.Millisecond}
	a := s.StartProjectorInstance(t, "a", cfg)
	b := s.StartProjectorInstance(t, "b", cfg)
	waitShares(t, layout, a, b)

	half := workload(t, s, 5, 4)
	waitFolded(t, s.JS, 1, half)
	a.Kill()
	waitShares(t, layout, b)
	last := workload(t, s, 6, 4)
	waitFolded(t, s.JS, 1, last)

	// Read your writes: a transcript query waits on its thread's partition.
	var threads contract.ThreadsReply
	s.Query(t, contract.ThreadList{MinSequence: last}, &threads)
	if len(threads.Threads) != 8 {
		t.Fatalf("%d threads, want 8", len(threads.Threads))
	}
	partitions := map[int]bool{}
	for _, th := range threads.Threads {
		var msgs contract.MessagesReply
		s.Query(t, contract.ThreadMessages{ThreadID: th.ID, MinSequence: last}, &msgs)
		if len(msgs.Messages) == 0 {
			t.Errorf("thread %s: no transcript", th.ID)
		}
		partitions[readmodel.PartitionOf(th.ID, 3)] = true
	}
	if len(partitions) < 2 {
		t.Errorf("the workload's threads fell into %d partition(s); the test needs several", len(partitions))
	}
	var status contract.StatusReply
	s.Query(t, contract.StatusQuery{MinSequence: last}, &status)
	for _, p := range layout {
		if st, ok := status.Projections[p.Name]; !ok || st.LastFolded < last {
			t.Errorf("status of %s: %+v", p.Name, st)
		}
	}

	replay(t, s, 2, last)
	sameBuckets(t, s.JS, readmodel.BucketsV(1), readmodel.BucketsV(2))
}

// waitShares waits until the instances run every projection of the layout
// between them, each a fair share, none twice.
func waitShares(t *testing.T, layout []readmodel.Projection, instances ...peontest.Projector) {
	t.Helper()
	fair := (len(layout) + len(instances) - 1) / len(instances)
	var got [][]string
	for range 300 {
		got = got[:0]
		var all []string
		for _, in := range instances {
			var names []string
			for _, r := range in.Stats().Runners {
				names = append(names, r.Projection)
			}
			got = append(got, names)
			all = append(all, names...)
		}
		slices.Sort(all)
		balanced := !slices.ContainsFunc(got, func(n []string) bool { return len(n) == 0 || len(n) > fair })
		if balanced && len(all) == len(layout) && len(slices.Compact(all)) == len(layout) {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatalf("projections per instance: %v, want the %d of the layout shared fairly", got, len(layout))
}
