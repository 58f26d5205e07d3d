package query

import (
	"time"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// The query requests and replies (contract v1).

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

// Status asks how far each projection has folded.
type Status struct {
	MinSequence uint64 `json:"min_sequence,omitempty"`
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
	Messages []contract.MessageRecord `json:"messages"`
	Next     uint64                   `json:"next"`
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
