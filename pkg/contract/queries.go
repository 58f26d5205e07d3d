package contract

import (
	"encoding/json"
	"time"

	"github.com/peonhq/peon/pkg/domain"
	"github.com/vmihailenco/msgpack/v5"
)

// The query requests and replies (contract v1): request peon.query.<name>
// with the request, get the reply. QueryEndpoints lists the names.

// Query names (peon.query.<name>).
const (
	QueryProjectGet     = "project.get"
	QueryProjectList    = "project.list"
	QueryThreadGet      = "thread.get"
	QueryThreadList     = "thread.list"
	QueryThreadMessages = "thread.messages"
	QueryThreadToolCall = "thread.tool_call"
	QueryEventsSince    = "events.since"
	QueryStatus         = "status"
	// Contract 1.1.
	QueryTurnDiff = "turn.diff"
)

// QuerySubject is the subject a query is sent on.
func QuerySubject(name string) string { return QueryPrefix + "." + name }

// Query is implemented by every query request.
type Query interface {
	// QueryName is the request's name (peon.query.<name>).
	QueryName() string
	// AtLeast is the request's min_sequence: the reply reflects every event
	// up to it that affects the requested data.
	AtLeast() uint64
}

// ThreadScoped is implemented by requests about one thread's transcript.
type ThreadScoped interface{ ScopeThread() string }

// ProjectGet asks for one project.
type ProjectGet struct {
	ProjectID   string `json:"project_id" required:"true"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ProjectList asks for a page of the projects, by creation, after the
// cursor After (the Next of the previous page; empty from the start).
type ProjectList struct {
	After       string `json:"after,omitempty"`
	Limit       int    `json:"limit,omitempty"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadGet asks for one thread.
type ThreadGet struct {
	ThreadID    string `json:"thread_id" required:"true"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadList asks for a page of the threads, of one project or all, by
// creation, after the cursor After (the Next of the previous page).
type ThreadList struct {
	ProjectID   string `json:"project_id,omitempty"`
	After       string `json:"after,omitempty"`
	Limit       int    `json:"limit,omitempty"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadMessages asks for a page of a thread's transcript, in order, after
// the cursor After (a created_seq; 0 from the start). TextOffset continues
// a message too long for one reply: the page's first message starts at
// that byte of its text (the NextTextOffset of the previous page).
type ThreadMessages struct {
	ThreadID    string `json:"thread_id" required:"true"`
	After       uint64 `json:"after,omitempty"`
	TextOffset  int    `json:"text_offset,omitempty"`
	Limit       int    `json:"limit,omitempty"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadToolCall asks for one tool call of a thread whole: the thread
// record holds a tool call's input and output only as previews, and only
// for its most recent tool calls.
type ThreadToolCall struct {
	ThreadID    string `json:"thread_id" required:"true"`
	ToolCallID  string `json:"tool_call_id" required:"true"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// EventsSince asks for the stored events after a sequence.
type EventsSince struct {
	AfterSequence uint64 `json:"after_sequence"`
	Limit         int    `json:"limit,omitempty"`
	MinSequence   uint64 `json:"min_sequence,omitempty"`
}

// StatusQuery asks how far each projection has folded.
type StatusQuery struct {
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// TurnDiff asks for what one turn changed: its files and unified diff,
// as the host stored them when the turn ended.
type TurnDiff struct {
	ThreadID string `json:"thread_id" required:"true"`
	TurnID   string `json:"turn_id" required:"true"`
}

// TurnDiffReply answers turn.diff: the files the turn changed against the
// previous checkpoint and their unified diff. The diff is cut at the
// host's limit (512 KiB by default) with Truncated set when it was; the
// file list holds at most 2000 files, FilesTotal says how many changed.
type TurnDiffReply struct {
	TurnID     string              `json:"turn_id"`
	Files      []domain.FileChange `json:"files"`
	FilesTotal int                 `json:"files_total"`
	Diff       string              `json:"diff"`
	Truncated  bool                `json:"truncated"`
}

// ProjectReply answers project.get.
type ProjectReply struct {
	Project *domain.ProjectState `json:"project"`
}

// ProjectsReply answers project.list; Next is the After of the next page,
// empty on the last.
type ProjectsReply struct {
	Projects []*domain.ProjectState `json:"projects"`
	Next     string                 `json:"next,omitempty"`
}

// ThreadReply answers thread.get.
type ThreadReply struct {
	Thread *domain.ThreadState `json:"thread"`
}

// ThreadsReply answers thread.list; Next is the After of the next page,
// empty on the last.
type ThreadsReply struct {
	Threads []*domain.ThreadState `json:"threads"`
	Next    string                `json:"next,omitempty"`
}

// ToolCallReply answers thread.tool_call.
type ToolCallReply struct {
	ToolCall *domain.ToolCallState `json:"tool_call"`
}

// MessagesReply answers thread.messages; Next is the cursor of the next
// page. A page ends when it has Limit messages or when the next would not
// fit in one reply. When the last message of a page is only a part of its
// text (see MessageRecord.TextLength), NextTextOffset is where the rest
// starts: ask again with After = Next and TextOffset = NextTextOffset.
// The transcript is complete when Next and NextTextOffset are both 0.
type MessagesReply struct {
	Messages       []MessageRecord `json:"messages"`
	Next           uint64          `json:"next"`
	NextTextOffset int             `json:"next_text_offset,omitempty"`
}

// StoredEventJSON is one stored event as events.since returns it. A stream
// message that holds no event this build can decode, or an event too large
// to be carried in a reply, is returned in its place with Type
// EventUndecodable or EventTooLarge, no Event, and Error saying why: the
// sequence still moves past it.
type StoredEventJSON struct {
	Sequence uint64       `json:"sequence"`
	StoredAt time.Time    `json:"stored_at"`
	Subject  string       `json:"subject"`
	Type     string       `json:"type"`
	Event    domain.Event `json:"event,omitempty"`
	Error    string       `json:"error,omitempty"`
}

// The Type of an events.since entry that carries no event.
const (
	EventUndecodable = "undecodable"
	EventTooLarge    = "too_large"
)

// EventsReply answers events.since; Next is the after_sequence of the next
// page, 0 when there is no more. A page ends when it has Limit events or
// when the next would not fit in one reply.
type EventsReply struct {
	Events []StoredEventJSON `json:"events"`
	Next   uint64            `json:"next"`
}

// ProjectionStatus is one projection's progress. Degraded says it needs
// an operator: it parked events, cannot write, or has recorded progress
// past the stream's end; Reason says which.
type ProjectionStatus struct {
	LastFolded uint64 `json:"last_folded"`
	StreamLast uint64 `json:"stream_last"`
	Lag        uint64 `json:"lag"`
	Parked     int64  `json:"parked"`
	Degraded   bool   `json:"degraded"`
	Reason     string `json:"reason,omitempty"`
}

// StatusReply answers status.
type StatusReply struct {
	Projections map[string]ProjectionStatus `json:"projections"`
}

func (ProjectGet) QueryName() string     { return QueryProjectGet }
func (ProjectList) QueryName() string    { return QueryProjectList }
func (ThreadGet) QueryName() string      { return QueryThreadGet }
func (ThreadList) QueryName() string     { return QueryThreadList }
func (ThreadMessages) QueryName() string { return QueryThreadMessages }
func (ThreadToolCall) QueryName() string { return QueryThreadToolCall }
func (EventsSince) QueryName() string    { return QueryEventsSince }
func (StatusQuery) QueryName() string    { return QueryStatus }
func (TurnDiff) QueryName() string       { return QueryTurnDiff }

func (r ProjectGet) AtLeast() uint64     { return r.MinSequence }
func (r ProjectList) AtLeast() uint64    { return r.MinSequence }
func (r ThreadGet) AtLeast() uint64      { return r.MinSequence }
func (r ThreadList) AtLeast() uint64     { return r.MinSequence }
func (r ThreadMessages) AtLeast() uint64 { return r.MinSequence }
func (r ThreadToolCall) AtLeast() uint64 { return r.MinSequence }
func (r EventsSince) AtLeast() uint64    { return r.MinSequence }
func (r StatusQuery) AtLeast() uint64    { return r.MinSequence }

// AtLeast is 0: a turn's diff is written by its host, not folded from the
// stream, so there is no sequence to wait for.
func (TurnDiff) AtLeast() uint64 { return 0 }

// ScopeThread is the thread whose transcript the request reads.
func (r ThreadMessages) ScopeThread() string { return r.ThreadID }

// storedEventWire is StoredEventJSON with the event still encoded.
type storedEventWire[Raw any] struct {
	Sequence uint64    `json:"sequence"`
	StoredAt time.Time `json:"stored_at"`
	Subject  string    `json:"subject"`
	Type     string    `json:"type"`
	Event    Raw       `json:"event"`
	Error    string    `json:"error,omitempty"`
}

// UnmarshalJSON decodes the event by its type tag.
func (e *StoredEventJSON) UnmarshalJSON(data []byte) error {
	var w storedEventWire[json.RawMessage]
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return e.set(w.Sequence, w.StoredAt, w.Subject, w.Type, w.Error, w.Event, domain.JSON)
}

// DecodeMsgpack decodes the event by its type tag.
func (e *StoredEventJSON) DecodeMsgpack(dec *msgpack.Decoder) error {
	var w storedEventWire[msgpack.RawMessage]
	if err := dec.Decode(&w); err != nil {
		return err
	}
	return e.set(w.Sequence, w.StoredAt, w.Subject, w.Type, w.Error, w.Event, domain.MessagePack)
}

func (e *StoredEventJSON) set(seq uint64, at time.Time, subject, typ, reason string, raw []byte, enc domain.Encoding) error {
	if reason != "" && (typ == EventUndecodable || typ == EventTooLarge) {
		*e = StoredEventJSON{Sequence: seq, StoredAt: at, Subject: subject, Type: typ, Error: reason}
		return nil
	}
	ev, err := domain.DecodeEventData(typ, raw, enc)
	if err != nil {
		return err
	}
	*e = StoredEventJSON{Sequence: seq, StoredAt: at, Subject: subject, Type: typ, Event: ev}
	return nil
}
