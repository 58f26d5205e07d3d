package projector

import (
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// messageRecord is the head record of a message: its first text segment
// and how many more there are.
func messageRecord(m *domain.Message) contract.MessageRecord {
	text := m.Text()
	segments := 0
	if len(text) > contract.SegmentBytes {
		segments = (len(text) - 1) / contract.SegmentBytes
		text = text[:contract.SegmentBytes]
	}
	return contract.MessageRecord{MessageID: m.ID, ThreadID: m.ThreadID, TurnID: m.TurnID, Role: m.Role,
		Text: text, Streaming: m.Streaming, CreatedSeq: m.CreatedSeq, Segments: segments, Seq: m.Seq}
}

// segment returns text segment n (1-based) of a message. A full segment
// never changes again, and is stamped with the message's created_seq; the
// last one, still growing, with the message's seq. So the stamp depends on
// the text alone, not on how the batches that wrote it fell, and a
// rebuild equals the live read model byte for byte.
func segment(m *domain.Message, n int) contract.MessageSegment {
	text := m.Text()
	from := min(n*contract.SegmentBytes, len(text))
	to := min(from+contract.SegmentBytes, len(text))
	seq := m.Seq
	if to-from == contract.SegmentBytes {
		seq = m.CreatedSeq
	}
	return contract.MessageSegment{MessageID: m.ID, Index: n, Text: text[from:to], Seq: seq}
}

// seqOnly decodes just the seq stamp every value carries.
type seqOnly struct {
	Seq uint64 `json:"seq"`
}
