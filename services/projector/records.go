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

// segment returns text segment n (1-based) of a message.
func segment(m *domain.Message, n int) contract.MessageSegment {
	text := m.Text()
	from := min(n*contract.SegmentBytes, len(text))
	to := min(from+contract.SegmentBytes, len(text))
	return contract.MessageSegment{MessageID: m.ID, Index: n, Text: text[from:to], Seq: m.Seq}
}

// seqOnly decodes just the seq stamp every value carries.
type seqOnly struct {
	Seq uint64 `json:"seq"`
}
