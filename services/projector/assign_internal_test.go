package projector

import (
	"fmt"
	"testing"

	"github.com/peonhq/peon/internal/readmodel"
)

// TestPartitionOfIsStableAndSpread: the partition of a thread never changes
// (it is part of the deployment's layout) and threads spread over all of
// them.
func TestPartitionOfIsStableAndSpread(t *testing.T) {
	if got := readmodel.PartitionOf("thread-42", 8); got != readmodel.PartitionOf("thread-42", 8) || got < 0 || got >= 8 {
		t.Fatalf("PartitionOf = %d", got)
	}
	// FNV-1a is fixed: pin one value so a change of function is noticed.
	if got := readmodel.PartitionOf("0b7f4a2e-5c1d-4e8f-9a3b-2c6d8e0f1a2b", 16); got != pinnedPartition {
		t.Errorf("PartitionOf changed: %d, was %d (a changed function needs a rebuild)", got, pinnedPartition)
	}
	counts := make([]int, 4)
	for i := range 4000 {
		counts[readmodel.PartitionOf(fmt.Sprint("t", i), 4)]++
	}
	for p, n := range counts {
		if n < 800 || n > 1200 {
			t.Errorf("partition %d got %d of 4000 threads", p, n)
		}
	}
	if readmodel.PartitionOf("x", 1) != 0 || readmodel.PartitionOf("x", 0) != 0 {
		t.Error("one partition must be partition 0")
	}
}

// pinnedPartition is FNV-1a (32 bit) of that id, mod 16, computed independently.
const pinnedPartition = 13

// TestLayoutNames: one partition keeps the plain names; n partitions are
// transcript_p0 ... transcript_p<n-1> after the catalog, each owning its threads.
func TestLayoutNames(t *testing.T) {
	if l := readmodel.Layout(1); len(l) != 2 || l[1].Name != "transcript" || l[1].ConsumerName(1) != "peon_transcript" {
		t.Fatalf("readmodel.Layout(1) = %+v", l)
	}
	l := readmodel.Layout(3)
	if len(l) != 4 || !l[0].Catalog || l[3].Name != "transcript_p2" || l[3].ConsumerName(2) != "peon_transcript_p2_v2" {
		t.Fatalf("readmodel.Layout(3) = %+v", l)
	}
	for _, id := range []string{"a", "b", "c", "d", "e"} {
		owners := 0
		for _, p := range l[1:] {
			if p.Owns(id) {
				owners++
			}
		}
		if owners != 1 || !l[0].Owns(id) || readmodel.TranscriptOf(l, id).Partition != readmodel.PartitionOf(id, 3) {
			t.Errorf("thread %s: %d owners", id, owners)
		}
	}
}
