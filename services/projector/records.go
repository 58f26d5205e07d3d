package projector

import (
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func messageRecord(m *domain.Message) contract.MessageRecord {
	return contract.MessageRecord{MessageID: m.ID, ThreadID: m.ThreadID, TurnID: m.TurnID, Role: m.Role,
		Text: m.Text(), Streaming: m.Streaming, CreatedSeq: m.CreatedSeq, Seq: m.Seq}
}

// seqOnly decodes just the seq stamp every value carries.
type seqOnly struct {
	Seq uint64 `json:"seq"`
}
