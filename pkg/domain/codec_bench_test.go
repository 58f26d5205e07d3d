package domain_test

import (
	"fmt"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// BenchmarkCodecIngestBatch measures encoding and decoding an
// IngestProviderEvent carrying 256 TextDeltas, the hot path of streaming.
func BenchmarkCodecIngestBatch(b *testing.B) {
	cmd := domain.IngestProviderEvent{CommandID: "c", ThreadID: "t", TurnID: "u"}
	for i := range domain.MaxIngestBatch {
		cmd.Events = append(cmd.Events, domain.ProviderEventBatchItem{ProviderEventID: fmt.Sprint("e", i),
			Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m", Delta: "token "}}})
	}
	data, err := domain.EncodeCommand(cmd, domain.MessagePack)
	if err != nil {
		b.Fatal(err)
	}
	b.Run("encode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			_, _ = domain.EncodeCommand(cmd, domain.MessagePack)
		}
	})
	b.Run("decode", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := domain.DecodeCommand(domain.TypeIngestProviderEvent, data, domain.MessagePack, 0); err != nil {
				b.Fatal(err)
			}
		}
	})
}
