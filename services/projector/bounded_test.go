package projector_test

import (
	"context"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

// TestMaximumSizeFieldsKeepEveryValueBounded drives accepted commands
// with maximum-size fields through the whole stack (projects with
// 250 KB names, six tool calls with 200 000-character inputs and outputs
// in one turn, a message streamed as six 200 KB deltas, many turns) and
// checks that every read-model value and every reply fits in the server's
// max payload, that no projection is degraded, and that a rebuild from
// the stream equals the live read model key by key.
func TestMaximumSizeFieldsKeepEveryValueBounded(t *testing.T) {
	s := startStack(t)
	maxPayload := int(s.NC.MaxPayload())
	var pid string
	for i := range 5 {
		pid = s.Send(t, domain.CreateProject{Name: strings.Repeat(string(rune('a'+i)), 250_000), Path: "/p" + itoa(uint64(i))}).ProjectID
	}
	th := s.Send(t, domain.CreateThread{ProjectID: pid, Title: strings.Repeat("t", 200_000), Model: strings.Repeat("m", 50_000)}).ThreadID
	big := strings.Repeat(`x"é`, 50_000) // 200 000 bytes, longer once escaped in JSON
	var last uint64
	for turn := range 3 {
		u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
		for i := range 6 {
			id := itoa(uint64(turn*100 + i))
			s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "c" + id,
				Event: pe(domain.ToolCall{ToolCallID: "tc" + id, Name: "bash", Input: map[string]any{"command": big}})})
			s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "r" + id,
				Event: pe(domain.ToolResult{ToolCallID: "tc" + id, Output: big})})
			s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "d" + id,
				Event: pe(domain.TextDelta{MessageID: "m" + itoa(uint64(turn)), Delta: big})})
		}
		last = s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "end" + itoa(uint64(turn)),
			Event: pe(domain.TurnComplete{StopReason: "end_turn"})}).LastSequence
	}
	waitFolded(t, s.JS, 1, last)

	// Every value of every read-model bucket fits.
	b := readmodel.BucketsV(1)
	for _, bucket := range append(b.All(), contract.BucketMeta) {
		kv := mustKV(t, s, bucket)
		w, err := kv.WatchAll(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		for e := range w.Updates() {
			if e == nil {
				break
			}
			if len(e.Value()) > maxPayload {
				t.Errorf("%s %s: %d bytes, more than the max payload %d", bucket, e.Key(), len(e.Value()), maxPayload)
			}
		}
		_ = w.Stop()
	}

	// The records answer, bounded, and the latest entries are there.
	got, err := s.Client.Thread(t.Context(), contract.ThreadGet{ThreadID: th, MinSequence: last})
	if err != nil {
		t.Fatalf("thread.get: %v", err)
	}
	if len(got.Title) != 200_000 || got.Status != domain.StatusIdle || len(got.ToolCalls) == 0 ||
		got.ToolCalls[len(got.ToolCalls)-1].ID != "tc205" || got.ToolCalls[len(got.ToolCalls)-1].Input["truncated"] != true {
		t.Fatalf("thread record: %d tool calls, title %d bytes, status %s", len(got.ToolCalls), len(got.Title), got.Status)
	}
	// The tool call whole, input and output, in both encodings.
	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		var tc contract.ToolCallReply
		if err := client.New(s.NC, enc).Query(t.Context(), contract.ThreadToolCall{ThreadID: th, ToolCallID: "tc3", MinSequence: last}, &tc); err != nil {
			t.Fatalf("%v: thread.tool_call: %v", enc, err)
		}
		if tc.ToolCall.Input["command"] != big || tc.ToolCall.Output != big || tc.ToolCall.Status != domain.ToolCallSucceeded {
			t.Fatalf("%v: tool call not whole: %d bytes of output, status %s", enc, len(tc.ToolCall.Output), tc.ToolCall.Status)
		}
	}
	if _, err := s.Client.Projects(t.Context(), contract.ProjectList{MinSequence: last}); err != nil {
		t.Fatalf("project.list: %v", err)
	}
	if _, err := s.Client.Threads(t.Context(), contract.ThreadList{ProjectID: pid, MinSequence: last}); err != nil {
		t.Fatalf("thread.list: %v", err)
	}
	st, err := s.Client.Status(t.Context(), contract.StatusQuery{MinSequence: last})
	if err != nil {
		t.Fatal(err)
	}
	for name, ps := range st.Projections {
		if ps.Degraded {
			t.Fatalf("%s degraded: %s", name, ps.Reason)
		}
	}

	// The live read model equals a replay of the stream.
	if err := projector.Rebuild(context.Background(), s.JS, s.Log, 2, last, 0, nil); err != nil {
		t.Fatal(err)
	}
	diffs, err := projector.Compare(context.Background(), s.JS, readmodel.BucketsV(1), readmodel.BucketsV(2))
	if err != nil {
		t.Fatal(err)
	}
	if len(diffs) > 0 {
		t.Fatalf("the rebuilt read model differs from the live one: %v", diffs)
	}
}

// TestToolCallsUnderTheirOwnKeys: every tool call is readable whole with
// thread.tool_call, and a restore that drops a turn drops its tool calls'
// keys too.
func TestToolCallsUnderTheirOwnKeys(t *testing.T) {
	s := startStack(t)
	p := s.Send(t, domain.CreateProject{Name: "a", Path: "/a"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p, Title: "t"}).ThreadID
	var checkpoint string
	for turn := range 2 {
		u := s.Send(t, domain.StartTurn{ThreadID: th, Text: "go"}).TurnID
		id := "tc" + itoa(uint64(turn))
		s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "c",
			Event: pe(domain.ToolCall{ToolCallID: id, Name: "bash", Input: map[string]any{"turn": int64(turn)}})})
		s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "r", Event: pe(domain.ToolResult{ToolCallID: id, Output: "out"})})
		s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "e", Event: pe(domain.TurnComplete{StopReason: "end_turn"})})
		cp := s.Send(t, domain.CreateCheckpoint{ThreadID: th, TurnID: u, Ref: "refs/peon/" + itoa(uint64(turn))}).CheckpointID
		if turn == 0 {
			checkpoint = cp
		}
	}
	last := s.Send(t, domain.RestoreCheckpoint{ThreadID: th, CheckpointID: checkpoint}).LastSequence
	var tc contract.ToolCallReply
	s.Query(t, contract.ThreadToolCall{ThreadID: th, ToolCallID: "tc0", MinSequence: last}, &tc)
	if tc.ToolCall.Output != "out" || tc.ToolCall.TurnID == "" || len(tc.ToolCall.Input) != 1 {
		t.Fatalf("tc0: %+v", tc.ToolCall)
	}
	err := s.Client.Query(t.Context(), contract.ThreadToolCall{ThreadID: th, ToolCallID: "tc1", MinSequence: last}, &tc)
	wantCode(t, err, domain.CodeToolCallNotFound)
	err = s.Client.Query(t.Context(), contract.ThreadToolCall{ThreadID: th, ToolCallID: "a.b"}, &tc)
	wantCode(t, err, domain.CodeInvalidCommand)
	// thread.list still lists threads only.
	var list contract.ThreadsReply
	s.Query(t, contract.ThreadList{ProjectID: p, MinSequence: last}, &list)
	if len(list.Threads) != 1 || list.Threads[0].ID != th {
		t.Fatalf("thread.list: %+v", list.Threads)
	}
}
