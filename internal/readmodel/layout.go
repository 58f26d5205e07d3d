package readmodel

import (
	"fmt"
	"hash/fnv"

	"github.com/peonhq/peon/pkg/contract"
)

// Projection is one durable consumer folding the stream into some buckets.
type Projection struct {
	// Name is the projection's name; its durable consumer is peon_<name>.
	Name string
	// Catalog projections write projects, threads and the selected thread;
	// transcript projections write messages.
	Catalog, Transcript bool
	// Partition of Partitions: when Partitions > 1 the projection folds
	// only the threads PartitionOf assigns to Partition (see Layout).
	Partition, Partitions int
}

// The projections Peon runs.
var (
	Catalog    = Projection{Name: "catalog", Catalog: true}
	Transcript = Projection{Name: "transcript", Transcript: true}
	// All lists them, with the transcript in one partition.
	All = []Projection{Catalog, Transcript}
)

// MaxTranscriptPartitions bounds how many ways the transcript is split.
const MaxTranscriptPartitions = 64

// Layout is the set of projections a deployment runs: the catalog, and the
// transcript split into n partitions by thread (n ≤ 1: one, named
// "transcript"; else "transcript_p0" ... "transcript_p<n-1>").
//
// Only the transcript is split: it carries the streaming load (a write per
// chunk burst), and each thread's messages depend on that thread alone. The
// catalog keeps cross-thread records (a project's thread list, the selected
// thread) whose folds need every earlier event, so it stays one consumer.
func Layout(n int) []Projection {
	if n <= 1 {
		return All
	}
	out := []Projection{Catalog}
	for i := range n {
		out = append(out, Projection{Name: partitionName(i), Transcript: true, Partition: i, Partitions: n})
	}
	return out
}

func partitionName(i int) string { return fmt.Sprintf("transcript_p%d", i) }

// FirstPartition names the first transcript partition of any split layout
// (its consumer and progress record tell how many partitions there are).
var FirstPartition = Projection{Name: partitionName(0), Transcript: true}

// PartitionOf is the partition of n a thread's transcript belongs to: FNV-1a
// of the thread id, modulo n. Part of the deployment's layout: changing it
// (or n) means a rebuild.
func PartitionOf(threadID string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(threadID))
	return int(h.Sum32() % uint32(n))
}

// Owns reports whether the projection folds the given thread.
func (p Projection) Owns(threadID string) bool {
	return p.Partitions <= 1 || PartitionOf(threadID, p.Partitions) == p.Partition
}

// Split reports whether the projection is one partition of a split
// transcript, which reads its share of SplitStream (see split.go).
func (p Projection) Split() bool { return p.Transcript && p.Partitions > 1 }

// Stream is the stream the projection's consumer reads at read model
// version v: the event stream, or for a split transcript the split stream.
func (p Projection) Stream(v int) string {
	if p.Split() {
		return SplitStream(v)
	}
	return contract.EventStream
}

// TranscriptOf returns the projection of layout that folds the thread's
// transcript.
func TranscriptOf(layout []Projection, threadID string) Projection {
	for _, p := range layout {
		if p.Transcript && p.Owns(threadID) {
			return p
		}
	}
	return Transcript
}

// Key names projection p at read model version v in the meta bucket
// (progress.<key>, parked.<key>.<seq>): <name>, or <name>_v<v> after 1.
func (p Projection) Key(v int) string {
	if v > 1 {
		return fmt.Sprintf("%s_v%d", p.Name, v)
	}
	return p.Name
}

// ConsumerName is the durable consumer of projection p writing read model
// version v: peon_<name> for version 1, peon_<name>_v<v> after.
func (p Projection) ConsumerName(v int) string {
	return "peon_" + p.Key(v)
}

// PriorityGroup is the pinned priority group the projection's instances pull in.
const PriorityGroup = "peon"
