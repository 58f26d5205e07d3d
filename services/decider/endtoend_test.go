package decider_test

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

func pe(p domain.ProviderEvent) *domain.ProviderEventEnvelope {
	return &domain.ProviderEventEnvelope{ProviderEvent: p}
}

func item(id string, p domain.ProviderEvent) domain.ProviderEventBatchItem {
	return domain.ProviderEventBatchItem{ProviderEventID: id, Event: domain.ProviderEventEnvelope{ProviderEvent: p}}
}

// TestEveryCommandEndToEnd drives all 16 commands over NATS, in both
// encodings, and checks replies, the stream's messages and their headers.
func TestEveryCommandEndToEnd(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		t.Run(enc.ContentType(), func(t *testing.T) {
			c := h.client(enc)
			sent := map[string]bool{}
			send := func(cmd domain.Command, wantTypes ...string) contract.CommandReply {
				t.Helper()
				sent[cmd.CommandType()] = true
				r := must(t)(c.Send(ctx, cmd))
				var got []string
				for _, e := range r.Events {
					got = append(got, e.Type)
				}
				if !reflect.DeepEqual(got, wantTypes) {
					t.Fatalf("%s: events %v, want %v", cmd.CommandType(), got, wantTypes)
				}
				if r.Duplicate || r.CommandID == "" || (len(r.Events) > 0 && r.LastSequence != r.Events[len(r.Events)-1].Sequence) {
					t.Fatalf("%s: reply %+v", cmd.CommandType(), r)
				}
				return r
			}
			path := "/work/" + enc.ContentType()
			created := send(domain.CreateProject{Name: "Peon", Path: path + "/"}, "ProjectCreated")
			project := created.ProjectID
			if !domain.ValidID(project) {
				t.Fatalf("derived project id %q", project)
			}
			send(domain.RenameProject{ProjectID: project, Name: "Grunt"}, "ProjectRenamed")
			send(domain.RenameProject{ProjectID: project, Name: "Grunt"}) // unchanged: no events
			thread := send(domain.CreateThread{ProjectID: project, Title: "bug"}, "ThreadCreated").ThreadID
			send(domain.SelectThread{ThreadID: thread}, "ThreadSelected")
			turn := send(domain.StartTurn{ThreadID: thread, Text: "fix it"}, "TurnStarted", "ThreadStatusChanged")
			if turn.TurnID == "" || turn.MessageID == "" {
				t.Fatalf("StartTurn reply lacks derived ids: %+v", turn)
			}
			u := turn.TurnID
			send(domain.IngestProviderEvent{ThreadID: thread, TurnID: u, ProviderEventID: "p1", Event: pe(domain.TextDelta{MessageID: "a1", Delta: "Hel"})}, "MessageAppended")
			send(domain.IngestProviderEvent{ThreadID: thread, TurnID: u, Events: []domain.ProviderEventBatchItem{
				item("p2", domain.TextDelta{MessageID: "a1", Delta: "lo"}),
				item("p3", domain.ToolCall{ToolCallID: "tc1", Name: "bash", Input: map[string]any{"cmd": "make"}}),
				item("p4", domain.AwaitingApproval{RequestID: "r1", ToolCallID: "tc1", Kind: "exec"}),
			}}, "MessageChunkReceived", "ToolCallStarted", "PendingActionRequested", "ThreadStatusChanged")
			send(domain.ApprovePendingAction{ThreadID: thread, RequestID: "r1"}, "PendingActionResolved", "ThreadStatusChanged")
			send(domain.IngestProviderEvent{ThreadID: thread, TurnID: u, ProviderEventID: "p5", Event: pe(domain.AwaitingApproval{RequestID: "r2"})},
				"PendingActionRequested", "ThreadStatusChanged")
			send(domain.RejectPendingAction{ThreadID: thread, RequestID: "r2", Reason: "no"}, "PendingActionResolved", "ThreadStatusChanged")
			send(domain.IngestProviderEvent{ThreadID: thread, TurnID: u, Events: []domain.ProviderEventBatchItem{
				item("p6", domain.ToolResult{ToolCallID: "tc1", Output: "ok"}),
				item("p7", domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 5, OutputTokens: 7}}),
			}}, "ToolCallCompleted", "MessageCompleted", "TurnCompleted", "ThreadStatusChanged")
			send(domain.CreateCheckpoint{ThreadID: thread, TurnID: u, Ref: "refs/peon/1"}, "CheckpointCreated")
			u2 := send(domain.StartTurn{ThreadID: thread, Text: "more"}, "TurnStarted", "ThreadStatusChanged").TurnID
			send(domain.InterruptTurn{ThreadID: thread, TurnID: u2}, "TurnInterrupted", "ThreadStatusChanged")
			send(domain.RestoreCheckpoint{ThreadID: thread, CheckpointID: cpID(t, h, thread)}, "CheckpointRestored")
			send(domain.CommitChanges{ThreadID: thread, Message: "fix"}, "CommitRequested")
			send(domain.CreateBranch{ThreadID: thread, Name: "peon/fix"}, "BranchCreateRequested")
			send(domain.PushBranch{ThreadID: thread}, "PushRequested")
			other := send(domain.CreateThread{ProjectID: project}, "ThreadCreated").ThreadID
			send(domain.DeleteThread{ThreadID: other}, "ThreadDeleted")
			send(domain.DeleteProject{ProjectID: project, Force: true}, "ThreadDeleted", "ProjectDeleted")
			if len(sent) != 16 {
				t.Fatalf("sent %d command types", len(sent))
			}

			m := h.model(t)
			th := m.Threads[thread]
			if !m.Projects[project].Deleted || m.Projects[project].Name != "Grunt" || !th.Deleted || th.LastBranch != "peon/fix" {
				t.Fatalf("final model: project %+v thread %+v", m.Projects[project], th)
			}
			if msg, _ := th.Message("a1"); msg.Text() != "Hello" {
				t.Fatalf("transcript %q", msg.Text())
			}
		})
	}
	// Every message carries the contract's headers.
	for _, r := range h.history(t) {
		msg, err := h.js.Stream(ctx, contract.EventStream)
		if err != nil {
			t.Fatal(err)
		}
		raw, err := msg.GetMsg(ctx, r.Sequence)
		if err != nil {
			t.Fatal(err)
		}
		hd := raw.Header
		if hd.Get(contract.HeaderEventType) != r.Event.EventType() || hd.Get(contract.HeaderCommandID) == "" ||
			hd.Get(contract.HeaderContentType) != domain.ContentTypeMessagePack ||
			!strings.HasPrefix(hd.Get(contract.HeaderMsgID), hd.Get(contract.HeaderCommandID)+":") {
			t.Fatalf("seq %d headers %v", r.Sequence, hd)
		}
		if _, thread, ok := contract.ParseEventSubject(raw.Subject); !ok || (thread == "") != isProjectEvent(r.Event) {
			t.Fatalf("seq %d %s on subject %s", r.Sequence, r.Event.EventType(), raw.Subject)
		}
	}
}

func isProjectEvent(e domain.Event) bool { _, ok := e.(domain.ProjectEvent); return ok }

// cpID finds the thread's checkpoint id in the stream.
func cpID(t *testing.T, h *harness, thread string) string {
	t.Helper()
	for _, cp := range h.model(t).Threads[thread].Checkpoints {
		return cp.ID
	}
	t.Fatal("no checkpoint")
	return ""
}
