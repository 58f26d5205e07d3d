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

// ProjectList asks for every project.
type ProjectList struct {
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadGet asks for one thread.
type ThreadGet struct {
	ThreadID    string `json:"thread_id" required:"true"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadList asks for the threads, of one project or all.
type ThreadList struct {
	ProjectID   string `json:"project_id,omitempty"`
	MinSequence uint64 `json:"min_sequence,omitempty"`
}

// ThreadMessages asks for a page of a thread's transcript, in order, after
// the cursor After (a created_seq; 0 from the start).
type ThreadMessages struct {
	ThreadID    string `json:"thread_id" required:"true"`
	After       uint64 `json:"after,omitempty"`
	Limit       int    `json:"limit,omitempty"`
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

// ProjectsReply answers project.list.
type ProjectsReply struct {
	Projects []*domain.ProjectState `json:"projects"`
}

// ThreadReply answers thread.get.
type ThreadReply struct {
	Thread *domain.ThreadState `json:"thread"`
}

// ThreadsReply answers thread.list.
type ThreadsReply struct {
	Threads []*domain.ThreadState `json:"threads"`
}

// MessagesReply answers thread.messages; Next is the cursor of the next
// page, 0 when this is the last.
type MessagesReply struct {
	Messages []MessageRecord `json:"messages"`
	Next     uint64          `json:"next"`
}

// StoredEventJSON is one stored event as events.since returns it.
type StoredEventJSON struct {
	Sequence uint64       `json:"sequence"`
	StoredAt time.Time    `json:"stored_at"`
	Subject  string       `json:"subject"`
	Type     string       `json:"type"`
	Event    domain.Event `json:"event"`
}

// EventsReply answers events.since; Next is the after_sequence of the next
// page, 0 when there is no more.
type EventsReply struct {
	Events []StoredEventJSON `json:"events"`
	Next   uint64            `json:"next"`
}

// ProjectionStatus is one projection's progress.
type ProjectionStatus struct {
	LastFolded uint64 `json:"last_folded"`
	StreamLast uint64 `json:"stream_last"`
	Lag        uint64 `json:"lag"`
	Parked     int64  `json:"parked"`
	Degraded   bool   `json:"degraded"`
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
func (EventsSince) QueryName() string    { return QueryEventsSince }
func (StatusQuery) QueryName() string    { return QueryStatus }
func (TurnDiff) QueryName() string       { return QueryTurnDiff }

func (r ProjectGet) AtLeast() uint64     { return r.MinSequence }
func (r ProjectList) AtLeast() uint64    { return r.MinSequence }
func (r ThreadGet) AtLeast() uint64      { return r.MinSequence }
func (r ThreadList) AtLeast() uint64     { return r.MinSequence }
func (r ThreadMessages) AtLeast() uint64 { return r.MinSequence }
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
}

// UnmarshalJSON decodes the event by its type tag.
func (e *StoredEventJSON) UnmarshalJSON(data []byte) error {
	var w storedEventWire[json.RawMessage]
	if err := json.Unmarshal(data, &w); err != nil {
		return err
	}
	return e.set(w.Sequence, w.StoredAt, w.Subject, w.Type, w.Event, domain.JSON)
}

// DecodeMsgpack decodes the event by its type tag.
func (e *StoredEventJSON) DecodeMsgpack(dec *msgpack.Decoder) error {
	var w storedEventWire[msgpack.RawMessage]
	if err := dec.Decode(&w); err != nil {
		return err
	}
	return e.set(w.Sequence, w.StoredAt, w.Subject, w.Type, w.Event, domain.MessagePack)
}

func (e *StoredEventJSON) set(seq uint64, at time.Time, subject, typ string, raw []byte, enc domain.Encoding) error {
	ev, err := domain.DecodeEventData(typ, raw, enc)
	if err != nil {
		return err
	}
	*e = StoredEventJSON{Sequence: seq, StoredAt: at, Subject: subject, Type: typ, Event: ev}
	return nil
}
