package query

import (
	"errors"
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// FuzzDecodeQuery feeds arbitrary bytes to the decoder of every query
// request, as the service decodes them. The property: never a panic or an
// unbounded allocation, and every failure is a *DeciderError, which the
// service answers as 400/413 with its code.
func FuzzDecodeQuery(f *testing.F) {
	decoders := []func(domain.Encoding, []byte) error{
		decodeInto[contract.ProjectGet], decodeInto[contract.ProjectList], decodeInto[contract.ThreadGet], decodeInto[contract.ThreadList],
		decodeInto[contract.ThreadMessages], decodeInto[contract.EventsSince], decodeInto[contract.StatusQuery],
		decodeInto[contract.ThreadToolCall],
	}
	seeds := []any{
		contract.ProjectGet{ProjectID: "pr1", MinSequence: 7}, contract.ProjectList{MinSequence: 1},
		contract.ThreadGet{ThreadID: "th1"}, contract.ThreadList{ProjectID: "pr1"},
		contract.ThreadMessages{ThreadID: "th1", After: 3, Limit: 50}, contract.EventsSince{AfterSequence: 9, Limit: 10}, contract.StatusQuery{},
		contract.ThreadToolCall{ThreadID: "th1", ToolCallID: "tc1"},
	}
	for i, v := range seeds {
		for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
			b, err := domain.Marshal(enc, v)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(i), uint8(enc), b)
		}
	}
	f.Add(uint8(0), uint8(domain.MessagePack), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(4), uint8(domain.JSON), []byte(`{"thread_id":"t","limit":-1,"extra":true}`))
	f.Fuzz(func(t *testing.T, which, e uint8, data []byte) {
		err := decoders[int(which)%len(decoders)](domain.Encoding(e%2), data)
		var de *domain.DeciderError
		if err != nil && !errors.As(err, &de) {
			t.Fatalf("error %v (%T) is not a DeciderError", err, err)
		}
	})
}

func decodeInto[Req any](enc domain.Encoding, data []byte) error {
	var r Req
	return domain.DecodeRequest(enc, data, &r, 1<<20)
}
