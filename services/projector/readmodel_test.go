package projector_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// TestReadModelFollowsTheDomain drives commands and reads the result back
// through the query service, with read-your-writes (min_sequence).
func TestReadModelFollowsTheDomain(t *testing.T) {
	s := startStack(t)
	p := s.Send(t, domain.CreateProject{Name: "Peon", Path: "/src/peon"}).ProjectID
	th := s.Send(t, domain.CreateThread{ProjectID: p, Title: "bug", Model: "claude"}).ThreadID
	s.Send(t, domain.SelectThread{ThreadID: th})
	turn := s.Send(t, domain.StartTurn{ThreadID: th, Text: "fix it"})
	u := turn.TurnID
	s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, Events: []domain.ProviderEventBatchItem{
		{ProviderEventID: "1", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ThinkingDelta{MessageID: "a", Delta: "let me see"}}},
		{ProviderEventID: "2", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "a", Delta: "Hel"}}},
		{ProviderEventID: "3", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "a", Delta: "lo"}}},
		{ProviderEventID: "4", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ToolCall{ToolCallID: "tc", Name: "bash"}}},
		{ProviderEventID: "5", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.AwaitingApproval{RequestID: "r", ToolCallID: "tc", Kind: "exec"}}},
	}})

	var tr contract.ThreadReply
	last := s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "6", Event: pe(domain.TextDelta{MessageID: "a", Delta: ", world"})}).LastSequence
	s.Query(t, contract.ThreadGet{ThreadID: th, MinSequence: last}, &tr)
	got := tr.Thread
	if got.Status != domain.StatusAwaitingApproval || got.ActiveTurnID != u || got.Title != "bug" || got.Model != "claude" ||
		len(got.PendingActions) != 1 || got.PendingActions[0].Resolution != domain.ResolutionPending || len(got.ToolCalls) != 1 {
		t.Fatalf("thread while awaiting approval: %+v", got)
	}
	var msgs contract.MessagesReply
	s.Query(t, contract.ThreadMessages{ThreadID: th, MinSequence: last}, &msgs)
	want := []struct {
		id, text  string
		role      domain.Role
		streaming bool
	}{{turn.MessageID, "fix it", domain.RoleUser, false}, {domain.ThinkingMessageID("a"), "let me see", domain.RoleThinking, true},
		{"a", "Hello, world", domain.RoleAssistant, true}}
	if len(msgs.Messages) != len(want) {
		t.Fatalf("messages: %+v", msgs.Messages)
	}
	for i, w := range want {
		m := msgs.Messages[i]
		if m.MessageID != w.id || m.Text != w.text || m.Role != w.role || m.Streaming != w.streaming || m.ThreadID != th || m.TurnID != u {
			t.Fatalf("message %d = %+v, want %+v", i, m, w)
		}
	}

	s.Send(t, domain.ApprovePendingAction{ThreadID: th, RequestID: "r"})
	last = s.Send(t, domain.IngestProviderEvent{ThreadID: th, TurnID: u, ProviderEventID: "7", Event: pe(domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 1, OutputTokens: 2}})}).LastSequence
	s.Query(t, contract.ThreadGet{ThreadID: th, MinSequence: last}, &tr)
	if tr.Thread.Status != domain.StatusIdle || tr.Thread.Turns[0].Status != domain.TurnStatusCompleted || tr.Thread.Turns[0].Usage.OutputTokens != 2 ||
		tr.Thread.ToolCalls[0].Status != domain.ToolCallCancelled || tr.Thread.PendingActions[0].Resolution != domain.ResolutionApproved {
		t.Fatalf("thread after completion: %+v", tr.Thread)
	}
	s.Query(t, contract.ThreadMessages{ThreadID: th, MinSequence: last, Limit: 2}, &msgs)
	if len(msgs.Messages) != 2 || msgs.Next == 0 || msgs.Messages[1].Streaming {
		t.Fatalf("first page: %+v", msgs)
	}
	s.Query(t, contract.ThreadMessages{ThreadID: th, After: msgs.Next}, &msgs)
	if len(msgs.Messages) != 1 || msgs.Messages[0].Text != "Hello, world" || msgs.Messages[0].Streaming || msgs.Next != 0 {
		t.Fatalf("second page: %+v", msgs)
	}

	last = s.Send(t, domain.RenameProject{ProjectID: p, Name: "Grunt"}).LastSequence
	var pr contract.ProjectReply
	s.Query(t, contract.ProjectGet{ProjectID: p, MinSequence: last}, &pr)
	if pr.Project.Name != "Grunt" || pr.Project.Path != "/src/peon" || len(pr.Project.ThreadIDs) != 1 || pr.Project.Seq != last {
		t.Fatalf("project: %+v", pr.Project)
	}
	var list contract.ThreadsReply
	s.Query(t, contract.ThreadList{ProjectID: p}, &list)
	if len(list.Threads) != 1 || list.Threads[0].ID != th {
		t.Fatalf("thread.list: %+v", list)
	}
	var selected contract.SelectedRecord
	e, err := mustKV(t, s, contract.BucketMeta).Get(t.Context(), contract.MetaSelectedThread)
	if err != nil || domain.Unmarshal(domain.MessagePack, e.Value(), &selected) != nil || selected.ThreadID != th {
		t.Fatalf("selected thread: %+v %v", selected, err)
	}

	// Deleting the project (force) flags both, and clears the selection.
	last = s.Send(t, domain.DeleteProject{ProjectID: p, Force: true}).LastSequence
	s.Query(t, contract.ThreadGet{ThreadID: th, MinSequence: last}, &tr)
	s.Query(t, contract.ProjectGet{ProjectID: p}, &pr)
	if !tr.Thread.Deleted || !pr.Project.Deleted {
		t.Fatalf("after delete: thread deleted %v, project deleted %v", tr.Thread.Deleted, pr.Project.Deleted)
	}
	e, _ = mustKV(t, s, contract.BucketMeta).Get(t.Context(), contract.MetaSelectedThread)
	if domain.Unmarshal(domain.MessagePack, e.Value(), &selected) != nil || selected.ThreadID != "" {
		t.Fatalf("selection after delete: %+v", selected)
	}
	var status contract.StatusReply
	s.Query(t, contract.StatusQuery{MinSequence: last}, &status)
	if st := status.Projections["catalog"]; st.LastFolded < last || st.StreamLast < last {
		t.Fatalf("status: %+v", status)
	}
}

// TestQueryErrors: unknown ids are 404 with the contract's codes, ids
// that are not valid ids are invalid_command (as in thread.messages), and
// unknown fields are bad_request.
func TestQueryErrors(t *testing.T) {
	s := startStack(t)
	var tr contract.ThreadReply
	err := s.Client.Query(t.Context(), contract.ThreadGet{ThreadID: "nope"}, &tr)
	wantCode(t, err, domain.CodeThreadNotFound)
	err = s.Client.Query(t.Context(), contract.ProjectGet{ProjectID: "nope"}, &contract.ProjectReply{})
	wantCode(t, err, domain.CodeProjectNotFound)
	err = s.Client.Query(t.Context(), contract.ProjectGet{ProjectID: "no.pe"}, &contract.ProjectReply{})
	wantCode(t, err, domain.CodeInvalidCommand)
	err = s.Client.QueryRaw(t.Context(), "thread.get", map[string]any{"thread_id": "x", "bogus": 1}, &tr)
	wantCode(t, err, domain.CodeBadRequest)
}
