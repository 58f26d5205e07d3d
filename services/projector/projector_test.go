package projector_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

func pe(p domain.ProviderEvent) *domain.ProviderEventEnvelope {
	return &domain.ProviderEventEnvelope{ProviderEvent: p}
}

// workload drives a realistic mix through the decider: projects, threads,
// streamed turns with thinking, tool calls, approvals, failures, a
// checkpoint restore, git requests, deletions. It returns the last sequence.
func workload(t *testing.T, s *peontest.Stack, seed uint64, threads int) uint64 {
	t.Helper()
	rng := rand.New(rand.NewPCG(seed, 1))
	var last uint64
	send := func(cmd domain.Command) contract.CommandReply {
		r := s.Send(t, cmd)
		last = max(last, r.LastSequence)
		return r
	}
	p := send(domain.CreateProject{Name: "w", Path: fmt.Sprintf("/w/%d", seed)}).ProjectID
	for i := range threads {
		th := send(domain.CreateThread{ProjectID: p, Title: fmt.Sprint("thread ", i)}).ThreadID
		send(domain.SelectThread{ThreadID: th})
		var firstCheckpoint string
		for turn := range 3 {
			u := send(domain.StartTurn{ThreadID: th, Text: fmt.Sprintf("prompt %d", turn)}).TurnID
			msg := fmt.Sprintf("m%d", turn)
			var items []domain.ProviderEventBatchItem
			for k := range 5 + rng.IntN(40) {
				var ev domain.ProviderEvent = domain.TextDelta{MessageID: msg, Delta: fmt.Sprintf("tok%d ", k)}
				if k%7 == 3 {
					ev = domain.ThinkingDelta{MessageID: msg, Delta: "hmm "}
				}
				items = append(items, domain.ProviderEventBatchItem{ProviderEventID: fmt.Sprintf("%s-%d", u, k), Event: domain.ProviderEventEnvelope{ProviderEvent: ev}})
				if len(items) == 1+rng.IntN(8) {
					send(domain.IngestProviderEvent{ThreadID: th, TurnID: u, Events: items})
					items = nil
				}
			}
			if len(items) > 0 {
				send(domain.IngestProviderEvent{ThreadID: th, TurnID: u, Events: items})
			}
			tool := fmt.Sprintf("tc%d", turn)
			send(domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: u + "-tool", Event: pe(domain.ToolCall{ToolCallID: tool, Name: "bash", Input: map[string]any{"n": int64(turn)}})})
			send(domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: u + "-ask", Event: pe(domain.AwaitingApproval{RequestID: "r" + tool, ToolCallID: tool})})
			if rng.IntN(2) == 0 {
				send(domain.ApprovePendingAction{ThreadID: th, RequestID: "r" + tool})
			} else {
				send(domain.RejectPendingAction{ThreadID: th, RequestID: "r" + tool, Reason: "no"})
			}
			switch rng.IntN(4) {
			case 0:
				send(domain.InterruptTurn{ThreadID: th})
			case 1:
				send(domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: u + "-err", Event: pe(domain.ProviderError{Message: "boom"})})
			default:
				send(domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: u + "-done", Event: pe(domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 3, OutputTokens: 9}})})
			}
			cp := send(domain.CreateCheckpoint{ThreadID: th, TurnID: u, Ref: fmt.Sprintf("refs/peon/%d", turn)}).CheckpointID
			if turn == 0 {
				firstCheckpoint = cp
			}
		}
		if i%2 == 0 {
			send(domain.RestoreCheckpoint{ThreadID: th, CheckpointID: firstCheckpoint})
		}
		send(domain.CommitChanges{ThreadID: th, Message: "wip"})
		send(domain.CreateBranch{ThreadID: th, Name: fmt.Sprintf("peon/%d", i)})
		send(domain.PushBranch{ThreadID: th})
		if i%3 == 2 {
			send(domain.DeleteThread{ThreadID: th})
		}
	}
	send(domain.RenameProject{ProjectID: p, Name: "renamed"})
	return last
}

// sameBuckets fails unless two read-model versions hold the same keys with
// byte-identical values.
func sameBuckets(t *testing.T, js jetstream.JetStream, a, b readmodel.Buckets) {
	t.Helper()
	diffs, err := projector.Compare(t.Context(), js, a, b)
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Fatalf("%d differences, first: %s", len(diffs), diffs[0])
	}
	if n := len(dumpKeys(t, js, a.Threads)); n == 0 {
		t.Fatalf("%s is empty", a.Threads)
	}
}

func dumpKeys(t *testing.T, js jetstream.JetStream, bucket string) []string {
	t.Helper()
	kv, err := js.KeyValue(t.Context(), bucket)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := kv.Keys(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	return keys
}

// waitFolded waits until the projections of version v have folded seq.
func waitFolded(t *testing.T, js jetstream.JetStream, v int, seq uint64) {
	t.Helper()
	ctx := context.Background()
	meta, err := js.KeyValue(ctx, contract.BucketMeta)
	if err != nil {
		t.Fatal(err)
	}
	layout, err := readmodel.DiscoverLayout(ctx, js, v)
	if err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for _, p := range layout {
		for {
			e, err := meta.Get(ctx, contract.MetaProgressPrefix+p.Key(v))
			if err == nil {
				var rec contract.ProgressRecord
				if domain.Unmarshal(domain.MessagePack, e.Value(), &rec) == nil && rec.LastFolded >= seq {
					break
				}
			}
			if time.Now().After(deadline) {
				t.Fatalf("projection %s did not fold %d", p.Key(v), seq)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}

// replay folds the whole stream from sequence 1 into read-model version v.
func replay(t *testing.T, s *peontest.Stack, v int, last uint64) {
	t.Helper()
	ctx := context.Background()
	if err := readmodel.EnsureBuckets(ctx, s.JS, readmodel.BucketsV(v), readmodel.BucketConfig{}); err != nil {
		t.Fatal(err)
	}
	if err := readmodel.EnsureConsumers(ctx, s.JS, v, readmodel.All...); err != nil {
		t.Fatal(err)
	}
	stop := s.StartProjector(t, fmt.Sprintf("replay-v%d", v), projector.Config{Version: v})
	waitFolded(t, s.JS, v, last)
	stop()
}

func startStack(t *testing.T) *peontest.Stack {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.WaitServing(t)
	return s
}
