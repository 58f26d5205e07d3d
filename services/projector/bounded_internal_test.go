package projector

import (
	"strconv"
	"strings"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// TestRecordsAreBoundedByConstruction builds the largest thread and
// project the commands allow (every text at the command size, thousands
// of entries in every list) and checks their records stay within the
// promised bound, itself within the server's default max payload.
func TestRecordsAreBoundedByConstruction(t *testing.T) {
	if recordBound > 1<<20-64<<10 {
		t.Fatalf("the promised bound %d leaves no room under 1 MiB", recordBound)
	}
	huge := strings.Repeat("é", domain.DefaultMaxCommandBytes/2) // a command's worth, in 2-byte characters
	th := &domain.ThreadState{ID: "t", ProjectID: "p", Title: huge[:titleBytes-2], Model: huge, Provider: huge, LastError: huge,
		LastBranch: huge, ActiveTurnID: huge, Status: domain.ThreadStatus(huge),
		Session: &domain.Session{SessionID: huge, Host: huge, Model: huge, LastError: huge}}
	for range 2000 {
		th.Turns = append(th.Turns, &domain.Turn{ID: huge, UserMessageID: huge, StopReason: huge, Error: huge})
		th.ToolCalls = append(th.ToolCalls, &domain.ToolCallState{ID: huge, Name: huge, Kind: huge, Output: huge,
			Input: map[string]any{"a": huge, "b": []any{huge, huge}}})
		th.PendingActions = append(th.PendingActions, &domain.PendingAction{RequestID: huge, Description: huge, Reason: huge})
		th.Checkpoints = append(th.Checkpoints, &domain.Checkpoint{ID: huge, Ref: huge,
			Files: []domain.FileChange{{Path: huge, OldPath: huge}, {Path: "a"}}})
		th.GitOperations = append(th.GitOperations, &domain.GitOperation{ID: huge, Message: huge, Output: huge, Error: huge, SHA: huge})
	}
	value, err := domain.Marshal(domain.MessagePack, threadRecord(th))
	if err != nil {
		t.Fatal(err)
	}
	if len(value) > recordBound {
		t.Fatalf("thread record of %d bytes, bound %d", len(value), recordBound)
	}
	if len(th.ToolCalls) != 2000 || len(th.ToolCalls[0].Output) != len(huge) {
		t.Fatal("the record changed the folded state")
	}
	rec := threadRecord(th)
	if n := len(rec.ToolCalls); n == 0 || rec.ToolCalls[n-1].Input["truncated"] != true || len(rec.Title) != len(th.Title) {
		t.Fatalf("record keeps %d tool calls, title %d bytes", n, len(rec.Title))
	}

	p := domain.ProjectState{ID: "p", Name: huge, Path: huge, Host: huge}
	for i := range 100_000 {
		p.ThreadIDs = append(p.ThreadIDs, strings.Repeat("x", 58)+strconv.Itoa(i))
	}
	value, err = domain.Marshal(domain.MessagePack, projectRecord(p))
	if err != nil {
		t.Fatal(err)
	}
	if len(value) > recordBound {
		t.Fatalf("project record of %d bytes", len(value))
	}
	if last := projectRecord(p).ThreadIDs; last[len(last)-1] != p.ThreadIDs[len(p.ThreadIDs)-1] {
		t.Fatal("the project record does not keep its most recent threads")
	}
}
