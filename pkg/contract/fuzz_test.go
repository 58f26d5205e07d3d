package contract_test

import (
	"errors"
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// FuzzDecodeProviderMessage feeds arbitrary bytes to the decoder of what
// agents publish on peon.provider.<thread_id>, as provider-ingest decodes
// it. The property: never a panic or an unbounded allocation; every failure
// is a *DeciderError (ingest records it as a permanent rejection); whatever
// decodes carries a provider event and encodes back to the same message.
func FuzzDecodeProviderMessage(f *testing.F) {
	seeds := []domain.ProviderEvent{
		domain.TextDelta{MessageID: "m1", Delta: "hello"},
		domain.ThinkingDelta{MessageID: "r1", Delta: "hmm"},
		domain.ToolCall{ToolCallID: "c1", Name: "bash", Input: map[string]any{"cmd": "ls"}},
		domain.ToolResult{ToolCallID: "c1", Output: "ok"},
		domain.AwaitingApproval{RequestID: "a1", Description: "rm -rf build"},
		domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 3}},
		domain.ProviderError{Message: "rate limited", Retryable: true},
		// Contract 1.1.
		domain.SessionStarted{SessionID: "0b6f1c9e-7d2a-4c1b-9e3f-5a6b7c8d9e0f", Model: "opus", Host: "local"},
		domain.SessionExited{ExitCode: -1, Error: "signal: killed"},
		domain.ToolCall{ToolCallID: "c2", Name: "Read", Kind: domain.ToolKindFileRead, Input: map[string]any{"path": "a.go"}},
		domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 3, OutputTokens: 4, CacheReadTokens: 5,
			CacheWriteTokens: 6, ReasoningTokens: 7, CostUSD: 0.0123}},
	}
	for _, pe := range seeds {
		m := contract.ProviderMessage{TurnID: "tu1", ProviderEventID: "p1", Event: domain.ProviderEventEnvelope{ProviderEvent: pe}}
		for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
			b, err := domain.Marshal(enc, m)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(uint8(enc), b)
		}
	}
	f.Add(uint8(domain.MessagePack), []byte{0xdd, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(domain.MessagePack), []byte{0x83, 0xa5, 0x65, 0x76, 0x65, 0x6e, 0x74, 0xdf, 0xff, 0xff, 0xff, 0xff})
	f.Add(uint8(domain.JSON), []byte(`{"turn_id":"t","provider_event_id":"p","event":{"type":"Nope"}}`))
	f.Fuzz(func(t *testing.T, e uint8, data []byte) {
		enc := domain.Encoding(e % 2)
		var m contract.ProviderMessage
		err := domain.DecodeRequest(enc, data, &m, 1<<20)
		if err != nil {
			var de *domain.DeciderError
			if !errors.As(err, &de) {
				t.Fatalf("error %v (%T) is not a DeciderError", err, err)
			}
			return
		}
		if m.Event.ProviderEvent == nil {
			t.Fatalf("decoded a message without a provider event: %+v", m)
		}
		b, err := domain.Marshal(enc, m)
		if err != nil {
			t.Fatalf("re-encode: %v", err)
		}
		var again contract.ProviderMessage
		if err := domain.DecodeRequest(enc, b, &again, 0); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
	})
}
