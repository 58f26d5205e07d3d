package decider_test

import (
	"context"
	"reflect"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// TestHostCommandsEndToEnd drives the contract 1.1 commands over NATS, in
// both encodings: thread.configure, the session and usage provider events,
// structured checkpoints, restore as a git operation, and git.complete with
// its redelivery and conflict answers.
func TestHostCommandsEndToEnd(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	const sha = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"
	str := func(s string) *string { return &s }
	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		t.Run(enc.ContentType(), func(t *testing.T) {
			c := h.client(enc)
			send := func(cmd domain.Command, wantTypes ...string) contract.CommandReply {
				t.Helper()
				r := must(t)(c.Send(ctx, cmd))
				var got []string
				for _, e := range r.Events {
					got = append(got, e.Type)
				}
				if !reflect.DeepEqual(got, wantTypes) {
					t.Fatalf("%s: events %v, want %v", cmd.CommandType(), got, wantTypes)
				}
				return r
			}
			project := send(domain.CreateProject{Name: "Peon", Path: "/work/host/" + enc.ContentType(), Host: "studio"}, "ProjectCreated").ProjectID
			thread := send(domain.CreateThread{ProjectID: project, Provider: "codex"}, "ThreadCreated").ThreadID

			// thread.configure: only what changes is recorded; nothing changed, no events.
			r := send(domain.ConfigureThread{ThreadID: thread, Title: str("Ship it"), Provider: str("codex"), RuntimeMode: mode(domain.RuntimeFullAccess)},
				"ThreadConfigured")
			if r.ThreadID != thread {
				t.Fatalf("reply %+v", r)
			}
			send(domain.ConfigureThread{ThreadID: thread, Title: str("Ship it")})

			turn := send(domain.StartTurn{ThreadID: thread, Text: "go"}, "TurnStarted", "ThreadStatusChanged").TurnID
			_, err := c.Send(ctx, domain.ConfigureThread{ThreadID: thread, Model: str("opus")})
			wantCode(t, err, domain.CodeThreadBusy, 409)
			send(domain.IngestProviderEvent{ThreadID: thread, TurnID: turn, Events: []domain.ProviderEventBatchItem{
				item("s1", domain.SessionStarted{SessionID: "codex-thread-1", Model: "gpt-5-codex", Host: "studio"}),
				item("s2", domain.ToolCall{ToolCallID: "tc1", Name: "shell", Kind: domain.ToolKindCommand}),
				item("s3", domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 10, OutputTokens: 5,
					CacheReadTokens: 8, ReasoningTokens: 2, CostUSD: 0.25}}),
			}}, "AgentSessionStarted", "ToolCallStarted", "ToolCallCompleted", "TurnCompleted", "ThreadStatusChanged")

			cp := send(domain.CreateCheckpoint{ThreadID: thread, TurnID: turn, Ref: "refs/peon/checkpoints/" + thread + "/" + turn, Commit: sha,
				Files: []domain.FileChange{{Path: "main.go", Kind: domain.FileModified, Additions: 2, Deletions: 1}}}, "CheckpointCreated").CheckpointID

			// git.complete: success, redelivery (no events), another outcome (409), unknown operation (404).
			commit := send(domain.CommitChanges{ThreadID: thread, Message: "fix"}, "CommitRequested").OperationID
			done := domain.CompleteGitOperation{ThreadID: thread, OperationID: commit, Status: domain.GitStatusCompleted, SHA: sha, Output: "[main 0a1b2c3] fix"}
			if r := send(done, "GitOperationCompleted"); r.OperationID != commit {
				t.Fatalf("reply %+v", r)
			}
			send(done)
			_, err = c.Send(ctx, domain.CompleteGitOperation{ThreadID: thread, OperationID: commit, Status: domain.GitStatusFailed, Error: "boom"})
			wantCode(t, err, domain.CodeGitOperationFinished, 409)
			_, err = c.Send(ctx, domain.CompleteGitOperation{ThreadID: thread, OperationID: "nope", Status: domain.GitStatusCompleted})
			wantCode(t, err, domain.CodeGitOperationNotFound, 404)

			// Restore is a git operation: its id is derived when left out, and a host completes it.
			restore := send(domain.RestoreCheckpoint{ThreadID: thread, CheckpointID: cp}, "CheckpointRestored").OperationID
			if !domain.ValidID(restore) {
				t.Fatalf("restore operation id %q", restore)
			}
			send(domain.CompleteGitOperation{ThreadID: thread, OperationID: restore, Status: domain.GitStatusFailed,
				Error: "error: Your local changes would be overwritten"}, "GitOperationFailed")

			th := h.model(t).Threads[thread]
			if th.Title != "Ship it" || th.Provider != "codex" || th.RuntimeMode != domain.RuntimeFullAccess {
				t.Fatalf("settings: %q %q %q", th.Title, th.Provider, th.RuntimeMode)
			}
			if s := th.Session; s == nil || s.Status != domain.SessionStatusActive || s.SessionID != "codex-thread-1" || s.Host != "studio" {
				t.Fatalf("session %+v", th.Session)
			}
			if u := th.UsageTotal; u.InputTokens != 10 || u.CacheReadTokens != 8 || u.CostUSD != 0.25 {
				t.Fatalf("usage total %+v", u)
			}
			if tc, _ := th.ToolCall("tc1"); tc.Kind != domain.ToolKindCommand {
				t.Fatalf("tool call %+v", tc)
			}
			if cpState, _ := th.Checkpoint(cp); cpState.Commit != sha || len(cpState.Files) != 1 || cpState.Files[0].Additions != 2 {
				t.Fatalf("checkpoint %+v", cpState)
			}
			if op, _ := th.GitOperation(commit); op.Status != domain.GitStatusCompleted || op.SHA != sha {
				t.Fatalf("commit %+v", op)
			}
			if op, _ := th.GitOperation(restore); op.Kind != domain.GitRestore || op.Status != domain.GitStatusFailed || op.CheckpointID != cp {
				t.Fatalf("restore %+v", op)
			}
			if p := h.model(t).Projects[project]; p.Host != "studio" {
				t.Fatalf("project host %q", p.Host)
			}
		})
	}
}

// TestHostSubjects sends raw JSON to the contract 1.1 subjects, as a host
// written in any language would.
func TestHostSubjects(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.JSON)
	project := must(t)(c.Send(ctx, domain.CreateProject{Name: "p", Path: "/work/raw"})).ProjectID
	thread := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: project})).ThreadID
	op := must(t)(c.Send(ctx, domain.CreateBranch{ThreadID: thread, Name: "peon/x"})).OperationID
	for _, s := range []struct{ subject, command, body, event string }{
		{"peon.cmd.thread.configure", domain.TypeConfigureThread, `{"thread_id":"` + thread + `","model":"opus"}`, domain.TypeThreadConfigured},
		{"peon.cmd.git.complete", domain.TypeCompleteGitOperation,
			`{"thread_id":"` + thread + `","operation_id":"` + op + `","status":"failed","error":"fatal: a branch named 'peon/x' already exists"}`,
			domain.TypeGitOperationFailed},
	} {
		if got := contract.CommandSubject(s.command); got != s.subject {
			t.Fatalf("subject of %s = %q, want %s", s.command, got, s.subject)
		}
		r := must(t)(c.SendRaw(ctx, s.subject, []byte(s.body)))
		if len(r.Events) != 1 || r.Events[0].Type != s.event || r.ThreadID != thread {
			t.Fatalf("%s: reply %+v", s.subject, r)
		}
	}
}

func mode(m domain.RuntimeMode) *domain.RuntimeMode { return &m }
