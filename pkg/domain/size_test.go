package domain_test

import (
	"fmt"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// ProjectMeasured's answer is what the decider's and the projector's caches
// charge per folded event. Folding a few kinds of traffic into models, the charge must
// cover the heap they really take and not exceed it more than fourfold.
func TestFoldedSizeTracksTheHeap(t *testing.T) {
	const threads = 100
	turn := func(th string, n int, ingest bool) []domain.Event {
		tu, msg := fmt.Sprint("u", n), fmt.Sprint("m", n)
		ids := func(k int) []string {
			if !ingest {
				return nil
			}
			var out []string
			for i := range k {
				out = append(out, fmt.Sprintf("pe-%d-%d", n, 100*len(out)+i))
			}
			return out
		}
		events := []domain.Event{
			domain.TurnStarted{ThreadID: th, TurnID: tu, MessageID: msg + "p", Text: "go"},
			domain.ThreadStatusChanged{ThreadID: th, Status: domain.StatusRunning},
			domain.MessageAppended{ThreadID: th, TurnID: tu, MessageID: msg, Role: domain.RoleAssistant, Text: "Sure"},
		}
		for range 20 {
			events = append(events, domain.MessageChunkReceived{ThreadID: th, TurnID: tu, MessageID: msg, Delta: " more tokens", ProviderEventIDs: ids(3)})
		}
		return append(events, domain.MessageCompleted{ThreadID: th, MessageID: msg},
			domain.TurnCompleted{ThreadID: th, TurnID: tu, StopReason: "end_turn"},
			domain.ThreadStatusChanged{ThreadID: th, Status: domain.StatusIdle})
	}
	toolCalls := func(th string, n int) []domain.Event {
		tu := fmt.Sprint("u", n)
		events := []domain.Event{domain.TurnStarted{ThreadID: th, TurnID: tu, MessageID: "m" + tu, Text: "go"}}
		for i := range 50 {
			events = append(events, domain.ToolCallStarted{ThreadID: th, TurnID: tu, ToolCallID: fmt.Sprint("tc", n, "-", i),
				Name: "read_file", Input: map[string]any{"path": "src/handler.go"}, ProviderEventIDs: []string{fmt.Sprint("e", n, "-", i)}})
		}
		return events
	}
	hostWork := func(th string, n int) []domain.Event {
		tu, op := fmt.Sprint("u", n), fmt.Sprint("op", n)
		files := make([]domain.FileChange, 10)
		for i := range files {
			files[i] = domain.FileChange{Path: fmt.Sprintf("src/pkg%d/file%d.go", n, i), Kind: domain.FileModified, Additions: 3}
		}
		return []domain.Event{
			domain.TurnStarted{ThreadID: th, TurnID: tu, MessageID: "m" + tu, Text: "go"},
			domain.AgentSessionStarted{ThreadID: th, TurnID: tu, SessionID: fmt.Sprint("session-", n), Model: "opus", Host: "local",
				ProviderEventIDs: []string{fmt.Sprint("s", n)}},
			domain.TurnCompleted{ThreadID: th, TurnID: tu, Usage: domain.Usage{InputTokens: 10, CostUSD: 0.01}},
			domain.CheckpointCreated{ThreadID: th, CheckpointID: "cp" + tu, TurnID: tu, Ref: "refs/peon/checkpoints/" + th + "/" + tu,
				Commit: strings.Repeat("a", 40), Files: files},
			domain.CommitRequested{ThreadID: th, OperationID: op, Message: "fix"},
			domain.GitOperationCompleted{ThreadID: th, OperationID: op, SHA: strings.Repeat("b", 40), Output: strings.Repeat("o", 2048)},
			domain.ThreadConfigured{ThreadID: th, Model: str(fmt.Sprint("model-", n))},
		}
	}
	for _, tc := range []struct {
		name  string
		turns func(th string, n int) []domain.Event
		count int
	}{
		{"streamed text", func(th string, n int) []domain.Event { return turn(th, n, false) }, 40},
		{"ingested text with provider event ids", func(th string, n int) []domain.Event { return turn(th, n, true) }, 40},
		{"tool calls", toolCalls, 20},
		{"sessions, checkpoints and git outcomes", hostWork, 20},
		{"one long active turn of ingested text", func(th string, n int) []domain.Event {
			events := turn(th, 0, true)
			if n > 0 {
				events = events[3:23] // more chunks, same turn; the turn never ends
				for i := range events {
					c := events[i].(domain.MessageChunkReceived)
					for k := range c.ProviderEventIDs {
						c.ProviderEventIDs[k] = fmt.Sprint("pe-", n, "-", i, "-", k)
					}
					events[i] = c
				}
				return events
			}
			return events[:23]
		}, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			models := make([]*domain.Model, threads)
			charged := 0
			before := heapInUse()
			for i := range threads {
				m := domain.NewModel()
				th := fmt.Sprint("t", i)
				seq := uint64(0)
				fold := func(e domain.Event) {
					data, err := domain.EncodeEvent(e, domain.MessagePack)
					if err != nil {
						t.Fatal(err)
					}
					seq++
					charged += domain.ProjectMeasured(m, domain.StoredEvent{Sequence: seq, Event: e, StoredAt: time.Unix(0, 0)}, len(data))
				}
				fold(domain.ThreadCreated{ThreadID: th, ProjectID: "p"})
				for n := range tc.count {
					for _, e := range tc.turns(th, n) {
						fold(e)
					}
				}
				models[i] = m
			}
			used := heapInUse() - before
			runtime.KeepAlive(models)
			ratio := float64(charged) / float64(used)
			t.Logf("charged %d B for %d B of heap: %.2f×", charged, used, ratio)
			if ratio < 1 || ratio > 4 {
				t.Errorf("charged %.2f× the heap the models take, want 1–4×", ratio)
			}
		})
	}
}

func heapInUse() int {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int(m.HeapAlloc)
}
