package projector

import (
	"encoding/json"
	"unicode/utf8"

	"github.com/peonhq/peon/pkg/domain"
)

// The records the projector writes are bounded by construction, so no
// sequence of valid commands can make a value pass the server's max
// payload (1 MiB by default) and stop the projection: a thread's record
// does not grow with every turn and tool call, and no field carries a
// body of unbounded or command-sized length.
//
// A thread record is the thread's state with, in each list (turns, tool
// calls, pending actions, checkpoints, git operations), the most recent
// entries that fit in listBudget, each entry's long texts cut to a
// preview of previewBytes (a tool call's input too long for its preview
// becomes {"truncated": true, "preview": "<the start of its JSON>"}), and
// its scalars cut to scalarBytes. Only the title keeps its full length
// (a command bounds it). The transcript's text is not in the record: it
// lives in peon_messages, split into segments. A project record keeps the
// ids of its most recent threads that fit in listBudget; thread.list
// with project_id lists them all.
//
// The bounds below are what the projector promises; recordBound checks
// the sum stays within the server's default max payload.
const (
	previewBytes = 1 << 10
	scalarBytes  = 16 << 10
	listBudget   = 64 << 10
	// entryOverhead is what an entry costs in MessagePack beyond its
	// strings' bytes: field names, numbers, times (an over-estimate).
	entryOverhead = 512
	// titleBytes is the most a title can be: it comes whole in a
	// command, whose body is at most DefaultMaxCommandBytes.
	titleBytes = domain.DefaultMaxCommandBytes
)

// recordBound is the most a thread record can take: the title, the other
// scalars (id, project, model, provider, status, active turn, last error,
// last branch, and the session's five strings) and five lists.
const recordBound = titleBytes + 13*scalarBytes + 5*listBudget + 64<<10

// cut returns s cut to at most n bytes on a character boundary.
func cut(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n]
}

// threadRecord is the bounded record of t (t itself is not changed: the
// fold owns it).
func threadRecord(t *domain.ThreadState) *domain.ThreadState {
	r := *t
	for _, s := range []*string{&r.ID, &r.ProjectID, &r.Model, &r.Provider, &r.ActiveTurnID, &r.LastError, &r.LastBranch} {
		*s = cut(*s, scalarBytes)
	}
	r.Status = domain.ThreadStatus(cut(string(r.Status), scalarBytes))
	if t.Session != nil {
		s := *t.Session
		for _, f := range []*string{&s.SessionID, &s.Host, &s.Model, &s.LastError} {
			*f = cut(*f, scalarBytes)
		}
		s.Status = domain.SessionStatus(cut(string(s.Status), scalarBytes))
		r.Session = &s
	}
	r.Turns = newest(t.Turns, func(e domain.Turn) (domain.Turn, int) {
		return e, previews(&e.ID, &e.UserMessageID, &e.StopReason, &e.Error)
	})
	r.ToolCalls = newest(t.ToolCalls, func(e domain.ToolCallState) (domain.ToolCallState, int) {
		n := previews(&e.ID, &e.TurnID, &e.Name, &e.Kind, &e.Output)
		var in int
		e.Input, in = inputPreview(e.Input)
		return e, n + in
	})
	r.PendingActions = newest(t.PendingActions, func(e domain.PendingAction) (domain.PendingAction, int) {
		return e, previews(&e.RequestID, &e.TurnID, &e.ToolCallID, &e.Kind, &e.Description, &e.Reason)
	})
	r.Checkpoints = newest(t.Checkpoints, func(e domain.Checkpoint) (domain.Checkpoint, int) {
		n := previews(&e.ID, &e.TurnID, &e.Ref, &e.Commit)
		e.Files, n = filesPreview(e.Files, n)
		return e, n
	})
	r.GitOperations = newest(t.GitOperations, func(e domain.GitOperation) (domain.GitOperation, int) {
		return e, previews(&e.ID, &e.Message, &e.Branch, &e.Base, &e.Remote, &e.CheckpointID, &e.SHA, &e.Output, &e.Error)
	})
	return &r
}

// previews cuts each text to previewBytes and returns their total length.
func previews(texts ...*string) int {
	n := 0
	for _, s := range texts {
		*s = cut(*s, previewBytes)
		n += len(*s)
	}
	return n
}

// newest keeps the most recent entries of list whose bounded forms fit in
// listBudget, in their order.
func newest[T any](list []*T, bound func(T) (T, int)) []*T {
	if list == nil {
		return nil
	}
	var kept []*T
	used := 0
	for i := len(list) - 1; i >= 0; i-- {
		e, n := bound(*list[i])
		if used+n+entryOverhead > listBudget {
			break
		}
		used += n + entryOverhead
		kept = append(kept, &e)
	}
	out := make([]*T, len(kept))
	for i, e := range kept {
		out[len(kept)-1-i] = e
	}
	return out
}

// inputPreview is a tool call's input, or a preview of it when its JSON is
// longer than previewBytes, with its length in the record.
func inputPreview(in map[string]any) (map[string]any, int) {
	if in == nil {
		return nil, 0
	}
	b, err := json.Marshal(in)
	if err == nil && len(b) <= previewBytes {
		return in, len(b)
	}
	preview := cut(string(b), previewBytes)
	return map[string]any{"truncated": true, "preview": preview}, len(preview) + 32
}

// filesPreview keeps the first files of a checkpoint whose paths fit in
// previewBytes besides n; every file costs its overhead too.
func filesPreview(files []domain.FileChange, n int) ([]domain.FileChange, int) {
	for i, f := range files {
		cost := len(f.Path) + len(f.OldPath) + len(f.Kind) + 64
		if n+cost > previewBytes*4 {
			return files[:i:i], n
		}
		n += cost
	}
	return files, n
}

// projectRecord is the bounded record of a project: its most recent
// thread ids that fit in listBudget, its path and host cut to scalarBytes
// (its name comes whole in a command, as a title does).
func projectRecord(p domain.ProjectState) domain.ProjectState {
	p.Path, p.Host = cut(p.Path, scalarBytes), cut(p.Host, scalarBytes)
	used, from := 0, len(p.ThreadIDs)
	for from > 0 && used+len(p.ThreadIDs[from-1])+8 <= listBudget {
		from--
		used += len(p.ThreadIDs[from]) + 8
	}
	if from > 0 {
		p.ThreadIDs = p.ThreadIDs[from:]
	}
	return p
}
