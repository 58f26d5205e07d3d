package projector_test

import (
	"errors"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
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

// TestPartitionsReadOnlyTheirShare: each transcript partition's consumer
// is delivered the events of its own threads and nothing else, the
// server's partition of every event agrees with PartitionOf, and a
// partition whose threads are quiet still keeps pace with the stream.
func TestPartitionsReadOnlyTheirShare(t *testing.T) {
	const n = 4
	ctx := t.Context()
	s := peontest.StartWith(t, provision.Options{TranscriptPartitions: n})
	s.WaitServing(t)
	s.StartProjectorInstance(t, "a", projector.Config{BatchSize: 10})
	first := workload(t, s, 7, 6)
	waitFolded(t, s.JS, 1, first)

	// The mirror holds every event under its thread's partition.
	split, err := s.JS.Stream(ctx, readmodel.SplitStream(1))
	if err != nil {
		t.Fatal(err)
	}
	info, err := split.Info(ctx, jetstream.WithSubjectFilter("peon.split.>"))
	if err != nil {
		t.Fatal(err)
	}
	if info.State.Msgs != first {
		t.Fatalf("split stream: %d events; the event stream has %d", info.State.Msgs, first)
	}
	if info.Config.Duplicates != 0 {
		t.Errorf("split stream: a duplicate window of %s would drop events whose message id repeats", info.Config.Duplicates)
	}
	perPartition := map[int]uint64{}
	for subject, count := range info.State.Subjects {
		parts := strings.Split(subject, ".") // peon.split.<k>.<project>.<thread>
		if len(parts) != 5 {
			t.Fatalf("split subject %s", subject)
		}
		k, _ := strconv.Atoi(parts[2])
		if parts[4] != contract.ProjectToken && readmodel.SplitSubject(n, parts[3], parts[4]) != subject {
			t.Errorf("the server put thread %s in partition %d; PartitionOf says %d", parts[4], k, readmodel.PartitionOf(parts[4], n))
		}
		perPartition[k] += count
	}
	var total uint64
	for k := range n {
		cons, err := s.JS.Consumer(ctx, readmodel.SplitStream(1), readmodel.Layout(n)[k+1].ConsumerName(1))
		if err != nil {
			t.Fatal(err)
		}
		ci := cons.CachedInfo()
		if ci.Delivered.Consumer != perPartition[k] || ci.NumRedelivered != 0 {
			t.Errorf("partition %d: %d deliveries (%d redelivered), its share holds %d events", k, ci.Delivered.Consumer, ci.NumRedelivered, perPartition[k])
		}
		total += ci.Delivered.Consumer
	}
	if total != first {
		t.Errorf("the partitions were delivered %d events between them, the stream holds %d", total, first)
	}

	// More events on two threads only: every partition's progress follows.
	var threads contract.ThreadsReply
	s.Query(t, contract.ThreadList{MinSequence: first}, &threads)
	last := first
	for i := range 4 {
		last = s.Send(t, domain.SelectThread{ThreadID: threads.Threads[i%2].ID}).LastSequence
	}
	waitFolded(t, s.JS, 1, last)
}

// TestWholeStreamPartitionsMoveToTheirShare: transcript partitions laid
// out on the whole event stream, as an earlier Peon made them, are
// refused until `peon setup` moves them to the split stream; moved, they
// go on from their progress, and the read model still equals a replay.
func TestWholeStreamPartitionsMoveToTheirShare(t *testing.T) {
	ctx := t.Context()
	s := peontest.StartWith(t, provision.Options{TranscriptPartitions: 2})
	s.WaitServing(t)
	stop := s.StartProjector(t, "a", projector.Config{})
	first := workload(t, s, 11, 4)
	waitFolded(t, s.JS, 1, first)
	stop()

	// The earlier layout: each partition a consumer of every event, its
	// ack floor at what it folded; no split stream.
	layout := readmodel.Layout(2)
	for _, p := range layout[1:] {
		if err := s.JS.DeleteConsumer(ctx, readmodel.SplitStream(1), p.ConsumerName(1)); err != nil {
			t.Fatal(err)
		}
		old := readmodel.ConsumerConfig(p, 1)
		old.FilterSubject = contract.EventSubjects
		old.DeliverPolicy, old.OptStartSeq = jetstream.DeliverByStartSequencePolicy, first+1
		if _, err := s.JS.CreateConsumer(ctx, contract.EventStream, old); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.JS.DeleteStream(ctx, readmodel.SplitStream(1)); err != nil {
		t.Fatal(err)
	}
	if _, err := readmodel.DiscoverLayout(ctx, s.JS, 1); !errors.Is(err, readmodel.ErrWholeStreamPartitions) {
		t.Fatalf("discovering the earlier layout: %v, want ErrWholeStreamPartitions", err)
	}

	if err := provision.Run(ctx, s.JS, provision.Options{TranscriptPartitions: 2}); err != nil {
		t.Fatalf("setup over the earlier layout: %v", err)
	}
	if got, err := readmodel.DiscoverLayout(ctx, s.JS, 1); err != nil || len(got) != 3 {
		t.Fatalf("layout after setup: %v %v", got, err)
	}
	for _, p := range layout[1:] {
		if _, err := s.JS.Consumer(ctx, contract.EventStream, p.ConsumerName(1)); !errors.Is(err, jetstream.ErrConsumerNotFound) {
			t.Errorf("the whole-stream consumer %s is still there: %v", p.ConsumerName(1), err)
		}
	}
	s.StartProjector(t, "b", projector.Config{})
	last := workload(t, s, 12, 4)
	waitFolded(t, s.JS, 1, last)
	replay(t, s, 2, last)
	sameBuckets(t, s.JS, readmodel.BucketsV(1), readmodel.BucketsV(2))
}
