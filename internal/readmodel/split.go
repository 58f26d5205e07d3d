package readmodel

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
)

// A split transcript does not read the event stream itself: its
// partitions read a stream that sources every event under
// peon.split.<partition>.<project_id>.<thread_id>, the partition computed
// by the server (its partition() subject transform: FNV-1a of the thread
// id modulo the partition count, PartitionOf's function). Each
// partition's consumer then filters its share on the server and is
// delivered, and acks, nothing else. The client-facing subjects stay as
// contract 1.1 fixes them.
//
// Sourced, not mirrored: nats-server gives a mirror the event stream's
// direct gets (mirror_direct follows the origin's allow_direct), and a
// mirror whose subjects differ would answer Peon's reads of PEON_EVENTS
// wrongly. A sourced stream numbers and times its messages itself; each
// carries the event's own sequence in its Nats-Stream-Source header, and
// the projector folds and records progress in event-stream sequences
// (SourceSequence, EventSubject). The transcript's records hold no times,
// so the sourced stream's own stamps never reach the buckets.

// splitPrefix begins every subject of a split stream.
const splitPrefix = "peon.split."

// SplitStream is the stream the transcript partitions of read model
// version v read: PEON_EVENTS_SPLIT, PEON_EVENTS_SPLIT_V<v> after 1.
func SplitStream(v int) string {
	if v > 1 {
		return fmt.Sprintf("PEON_EVENTS_SPLIT_V%d", v)
	}
	return "PEON_EVENTS_SPLIT"
}

// SplitSubjects is the subject space of a split stream.
const SplitSubjects = splitPrefix + ">"

// SplitFilter is the share of partition k in a split stream.
func SplitFilter(k int) string { return splitPrefix + strconv.Itoa(k) + ".>" }

// SplitSubject is where a split stream in n partitions stores an event of
// the given project and thread (the thread is ProjectToken for a
// project's own events, which no transcript folds).
func SplitSubject(n int, projectID, threadID string) string {
	return splitPrefix + strconv.Itoa(PartitionOf(threadID, n)) + "." + projectID + "." + threadID
}

// EventSubject is the event-stream subject of an event stored under a
// split subject.
func EventSubject(splitSubject string) (string, bool) {
	rest, ok := strings.CutPrefix(splitSubject, splitPrefix)
	if !ok {
		return "", false
	}
	_, rest, ok = strings.Cut(rest, ".")
	if !ok {
		return "", false
	}
	return "peon.evt." + rest, true
}

// sourceHeader is the header the server puts on every sourced message:
// "<stream> <sequence> <filter> <transform>".
const sourceHeader = "Nats-Stream-Source"

// SourceSequence is the event-stream sequence of a message of a split
// stream.
func SourceSequence(h nats.Header) (uint64, bool) {
	fields := strings.Fields(h.Get(sourceHeader))
	if len(fields) < 2 || fields[0] != contract.EventStream {
		return 0, false
	}
	seq, err := strconv.ParseUint(fields[1], 10, 64)
	return seq, err == nil && seq > 0
}

// SplitStreamConfig is the stream sourcing the event stream for version
// v's transcript in n partitions, stored like the event stream (replicas,
// storage) and, like it, never losing a message.
func SplitStreamConfig(v, n, replicas int, storage jetstream.StorageType) jetstream.StreamConfig {
	return jetstream.StreamConfig{
		Name:        SplitStream(v),
		Description: fmt.Sprintf("Peon events by transcript partition (%d), read by read model version %d", n, v),
		Storage:     storage,
		Replicas:    max(replicas, 1),
		DenyDelete:  true,
		// No duplicate window (the server gives none to a sourced stream
		// that asks for none): every event is copied, also one whose
		// Nats-Msg-Id PEON_EVENTS saw long before (a command id reused
		// after its claim expired), however close together a catch-up
		// sources the two.
		Duplicates: 0,
		Sources: []*jetstream.StreamSource{{
			Name: contract.EventStream,
			SubjectTransforms: []jetstream.SubjectTransformConfig{{
				Source:      "peon.evt.*.*",
				Destination: fmt.Sprintf("%s{{partition(%d,2)}}.{{wildcard(1)}}.{{wildcard(2)}}", splitPrefix, n),
			}},
		}},
		Metadata: map[string]string{metaPartitions: strconv.Itoa(n)},
	}
}
