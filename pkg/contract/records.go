package contract

import (
	"strconv"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// The values of the read-model buckets that are not domain types themselves
// (peon_projects holds domain.ProjectState, peon_threads domain.ThreadState).

// MessageRecord is the value of a peon_messages key.
type MessageRecord struct {
	MessageID string      `json:"message_id"`
	ThreadID  string      `json:"thread_id"`
	TurnID    string      `json:"turn_id"`
	Role      domain.Role `json:"role"`
	Text      string      `json:"text"`
	Streaming bool        `json:"streaming"`
	// CreatedSeq orders the transcript: the sequence that started the message.
	CreatedSeq uint64 `json:"created_seq"`
	// Segments counts the further text segments of a long message, stored
	// under SegmentKey(thread, message, 1..Segments); Text holds the first.
	// The query service assembles them; its replies always carry the whole
	// text and Segments 0.
	Segments int `json:"segments,omitempty"`
	// TextOffset and TextLength are set in a thread.messages reply that
	// carries only a part of a message too long for one reply: Text is
	// the part starting at byte TextOffset of the whole text, which is
	// TextLength bytes long. Never set in the bucket.
	TextOffset int    `json:"text_offset,omitempty"`
	TextLength int    `json:"text_length,omitempty"`
	Seq        uint64 `json:"seq"`
}

// SegmentBytes is the size of a message text segment in peon_messages:
// values stay small however long a message streams, and a new chunk
// rewrites only the last segment.
const SegmentBytes = 64 << 10

// MessageSegment is the value of a segment key.
type MessageSegment struct {
	MessageID string `json:"message_id"`
	Index     int    `json:"index"`
	Text      string `json:"text"`
	Seq       uint64 `json:"seq"`
}

// SegmentKey is the peon_messages key of segment n (1-based) of a message's
// text. Ids cannot contain '/', so it never collides with a message key.
func SegmentKey(threadID, messageID string, n int) string {
	return MessageKey(threadID, messageID) + "/" + strconv.Itoa(n)
}

// ToolCallKey is the peon_threads key of one tool call of a thread, whole
// (a domain.ToolCallState): the thread's own record, at <thread_id>, holds
// only previews. The extra tokens keep it apart from thread keys.
func ToolCallKey(threadID, toolCallID string) string { return threadID + ".tool." + toolCallID }

// SelectedRecord is the value of peon_meta selected_thread.
type SelectedRecord struct {
	ThreadID string `json:"thread_id"`
	Seq      uint64 `json:"seq"`
}

// ProgressRecord is the value of peon_meta progress.<projection>: how far the
// projection has folded, written after every batch.
type ProgressRecord struct {
	Projection string `json:"projection"`
	LastFolded uint64 `json:"last_folded"`
	Parked     int64  `json:"parked"`
	// Degraded, when set, is why the projection cannot go on (a write the
	// server refuses, progress past the stream's end); cleared by the
	// next batch it writes.
	Degraded string `json:"degraded,omitempty"`
	// PastStreamEnd is set, for good, when the projection found its
	// progress past the stream's end: its read model was not folded from
	// this stream, and queries refuse min_sequence on it until a rebuild
	// (a new version, with its own progress records) replaces it.
	PastStreamEnd bool `json:"past_stream_end,omitempty"`
	// Partitions is how many ways the projection is split (absent: one),
	// so readers find the partition that folds a thread.
	Partitions int       `json:"partitions,omitempty"`
	At         time.Time `json:"at"`
	Seq        uint64    `json:"seq"`
}

// ParkedRecord is the value of peon_meta parked.<projection>.<seq>: an event
// the projection could not fold, kept for an operator and never redelivered.
type ParkedRecord struct {
	Projection string `json:"projection"`
	Sequence   uint64 `json:"sequence"`
	Subject    string `json:"subject"`
	Reason     string `json:"reason"`
	Seq        uint64 `json:"seq"`
}

// ProviderMessage is the body adapters publish on peon.provider.<thread_id>
// (MessagePack, or JSON with Content-Type: application/json), with header
// Nats-Msg-Id: <thread_id>:<provider_event_id>.
type ProviderMessage struct {
	TurnID          string                       `json:"turn_id" required:"true"`
	ProviderEventID string                       `json:"provider_event_id" required:"true"`
	Event           domain.ProviderEventEnvelope `json:"event" required:"true"`
}

// RejectionRecord is the value of a peon_ingest_rejections key.
type RejectionRecord struct {
	ThreadID        string    `json:"thread_id"`
	TurnID          string    `json:"turn_id"`
	ProviderEventID string    `json:"provider_event_id"`
	Sequence        uint64    `json:"sequence"`
	Code            string    `json:"code"`
	Message         string    `json:"message"`
	At              time.Time `json:"at"`
}
