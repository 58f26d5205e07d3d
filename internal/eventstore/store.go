package eventstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sort"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/synadia-io/orbit.go/jetstreamext"
)

// Store appends to and reads from the event stream.
type Store struct {
	js jetstream.JetStream
	// pageSize is how many messages one batch get asks for.
	pageSize int

	mu     sync.Mutex
	handle jetstream.Stream // looked up once: every lookup is a round trip

	// requests counts the requests made to JetStream, each a round trip
	// (an atomic batch, sent whole and acknowledged once, is one).
	requests atomic.Int64
}

// Requests is how many requests this store has made to JetStream so far,
// each a round trip to the server: publishes, batch publishes, batch gets
// (one per page), last-message and stream lookups.
func (s *Store) Requests() int64 { return s.requests.Load() }

// New returns a store over js. The stream must exist (EnsureStream or CheckStream).
func New(js jetstream.JetStream) *Store { return &Store{js: js, pageSize: 1000} }

// Batch is the events of one command, to be appended atomically.
type Batch struct {
	CommandID   string
	CommandHash string
	Events      []domain.Event
	// Subjects holds the subject of each event.
	Subjects []string
	// ExpectFilter and ExpectLastSeq state the optimistic-concurrency
	// expectation: the last message matching ExpectFilter (a subject that may
	// hold wildcards) has sequence ExpectLastSeq (0: no message matches).
	ExpectFilter  string
	ExpectLastSeq uint64
}

// Appended says where a batch was stored: its events have the consecutive
// sequences First..Last.
type Appended struct {
	First, Last uint64
	// Sizes holds each event's encoded size in bytes.
	Sizes []int
}

// Append stores the batch atomically (all events or none). It returns
// ErrConflict when the expectation failed and ErrDuplicate when the stream
// has already stored this command's events.
func (s *Store) Append(ctx context.Context, b Batch) (Appended, error) {
	if len(b.Events) == 0 || len(b.Events) != len(b.Subjects) {
		return Appended{}, fmt.Errorf("append: %d events for %d subjects", len(b.Events), len(b.Subjects))
	}
	msgs, sizes, err := b.messages()
	if err != nil {
		return Appended{}, err
	}
	return s.publishBatch(ctx, b, msgs, sizes)
}

// publishBatch stores the messages of b (b.messages()) atomically.
func (s *Store) publishBatch(ctx context.Context, b Batch, msgs []*nats.Msg, sizes []int) (Appended, error) {
	if len(msgs) == 1 {
		// One message is atomic by itself, and a plain publish carries the
		// same expectation and Nats-Msg-Id. It avoids the atomic-batch
		// staging, which on a single-replica file-storage stream is a
		// small file store created per batch (milliseconds, not micro-).
		s.requests.Add(1)
		ack, err := s.js.PublishMsg(ctx, msgs[0])
		if err != nil {
			return Appended{}, fmt.Errorf("append %s (1 event): %w", b.CommandID, classify(err))
		}
		if ack.Duplicate {
			return Appended{}, fmt.Errorf("append %s: %w", b.CommandID, ErrDuplicate)
		}
		return Appended{First: ack.Sequence, Last: ack.Sequence, Sizes: sizes}, nil
	}
	// No ack for the first message: the commit's ack reports any error, and
	// waiting for two round trips would halve the throughput of multi-event
	// commands.
	s.requests.Add(1)
	ack, err := jetstreamext.PublishMsgBatch(ctx, s.js, msgs, jetstreamext.BatchFlowControl{AckFirst: false})
	if err != nil {
		return Appended{}, fmt.Errorf("append %s (%d events): %w", b.CommandID, len(msgs), classify(err))
	}
	return Appended{First: ack.Sequence - uint64(len(msgs)) + 1, Last: ack.Sequence, Sizes: sizes}, nil
}

// messages encodes the batch as the messages of its events. Only the first
// carries the expectation: it guards the whole command.
func (b Batch) messages() ([]*nats.Msg, []int, error) {
	msgs := make([]*nats.Msg, len(b.Events))
	sizes := make([]int, len(b.Events))
	for i, e := range b.Events {
		data, err := domain.EncodeEvent(e, domain.MessagePack)
		if err != nil {
			return nil, nil, fmt.Errorf("append: encode %s: %w", e.EventType(), err)
		}
		h := nats.Header{}
		h.Set(contract.HeaderEventType, e.EventType())
		h.Set(contract.HeaderCommandID, b.CommandID)
		h.Set(contract.HeaderMsgID, b.CommandID+":"+strconv.Itoa(i))
		h.Set(contract.HeaderContentType, domain.ContentTypeMessagePack)
		if b.CommandHash != "" {
			h.Set(contract.HeaderCommandHash, b.CommandHash)
		}
		if i == 0 && b.ExpectFilter != "" {
			h.Set(jetstream.ExpectedLastSubjSeqHeader, strconv.FormatUint(b.ExpectLastSeq, 10))
			h.Set(jetstream.ExpectedLastSubjSeqSubjHeader, b.ExpectFilter)
		}
		msgs[i] = &nats.Msg{Subject: b.Subjects[i], Header: h, Data: data}
		sizes[i] = len(data)
	}
	return msgs, sizes, nil
}

// Record is one stored event read back with the facts of its message.
type Record struct {
	domain.StoredEvent
	Subject     string
	CommandID   string
	CommandHash string
	// Size is the message's payload size, a measure of the memory its fold takes.
	Size int
	// Err is set, and Event nil, when the message holds no event this build
	// can decode (a poison message). Readers skip it and say so.
	Err error
}

// Load calls fn, in stream order, for every event after sequence after whose
// subject matches filter (wildcards allowed). It returns the sequence of the
// last event it read (after, when none).
func (s *Store) Load(ctx context.Context, filter string, after uint64, fn func(Record) error) (uint64, error) {
	return s.load(ctx, filter, after, 0, s.pageSize, fn)
}

// load is Load asking for a first page of first messages, then for pages
// growing fourfold up to the store's page size. With before > 0 it asks for
// no page once the sequence before it has been read.
func (s *Store) load(ctx context.Context, filter string, after, before uint64, first int, fn func(Record) error) (uint64, error) {
	last := after
	page := min(first, s.pageSize)
	for ; ; page = min(4*page, s.pageSize) {
		s.requests.Add(1)
		msgs, err := jetstreamext.GetBatch(ctx, s.js, contract.EventStream, page,
			jetstreamext.GetBatchSeq(last+1), jetstreamext.GetBatchSubject(filter))
		if err != nil {
			return last, fmt.Errorf("load %s after %d: %w", filter, last, err)
		}
		n, pending := 0, uint64(0)
		for msg, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				return last, nil
			}
			if err != nil {
				return last, fmt.Errorf("load %s after %d: %w", filter, last, err)
			}
			rec, err := decodeRecord(msg)
			if err != nil {
				rec = Record{StoredEvent: domain.StoredEvent{Sequence: msg.Sequence, StoredAt: msg.Time},
					Subject: msg.Subject, Size: len(msg.Data), Err: err}
			}
			if err := fn(rec); err != nil {
				return last, err
			}
			last, n = msg.Sequence, n+1
			pending, _ = strconv.ParseUint(msg.Header.Get("Nats-Num-Pending"), 10, 64)
		}
		if n == 0 || pending == 0 || (before > 0 && last+1 >= before) {
			return last, nil
		}
	}
}

// errStop ends a Load early.
var errStop = errors.New("stop")

// LoadBefore is Load limited to events with a sequence below before.
func (s *Store) LoadBefore(ctx context.Context, filter string, after, before uint64, fn func(Record) error) (uint64, error) {
	return s.loadBefore(ctx, filter, after, before, s.pageSize, fn)
}

// LoadBeforeFew is LoadBefore for a reader that expects few events before
// before (a thread met at its ThreadCreated has none): it asks for one
// message first, then for pages growing fourfold. A batch get has no upper
// bound on sequences, so LoadBefore would be sent a page of the subject's
// later events only to drop them — and on a long stream the server spends
// more finding them than the reader does folding.
func (s *Store) LoadBeforeFew(ctx context.Context, filter string, after, before uint64, fn func(Record) error) (uint64, error) {
	return s.loadBefore(ctx, filter, after, before, 1, fn)
}

func (s *Store) loadBefore(ctx context.Context, filter string, after, before uint64, firstPage int, fn func(Record) error) (uint64, error) {
	last, err := s.load(ctx, filter, after, before, firstPage, func(r Record) error {
		if r.Sequence >= before {
			return errStop
		}
		return fn(r)
	})
	if errors.Is(err, errStop) {
		err = nil
	}
	return last, err
}

// stream returns the event stream's handle, looking it up the first time.
func (s *Store) stream(ctx context.Context) (jetstream.Stream, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.handle == nil {
		s.requests.Add(1)
		h, err := s.js.Stream(ctx, contract.EventStream)
		if err != nil {
			return nil, err
		}
		s.handle = h
	}
	return s.handle, nil
}

// FirstEvents returns, in stream order, the first event of every subject
// matching filter whose first event comes before sequence before. On a
// thread subject the first event is its ThreadCreated, so this finds the
// threads of a project without reading their transcripts.
//
// The subjects come from the stream's leader; their first events from any
// replica. A replica that has no message on a subject the leader listed is
// behind: that is ErrReplicaBehind, never a subject quietly left out.
func (s *Store) FirstEvents(ctx context.Context, filter string, before uint64) ([]Record, error) {
	stream, err := s.stream(ctx)
	if err != nil {
		return nil, err
	}
	s.requests.Add(1)
	info, err := stream.Info(ctx, jetstream.WithSubjectFilter(filter))
	if err != nil {
		return nil, fmt.Errorf("subjects of %s: %w", filter, err)
	}
	var out []Record
	for subject := range info.State.Subjects {
		s.requests.Add(1)
		msgs, err := jetstreamext.GetBatch(ctx, s.js, contract.EventStream, 1, jetstreamext.GetBatchSubject(subject))
		if err != nil {
			return nil, fmt.Errorf("first event of %s: %w", subject, err)
		}
		for msg, err := range msgs {
			if errors.Is(err, jetstreamext.ErrNoMessages) {
				return nil, fmt.Errorf("first event of %s: %w", subject, ErrReplicaBehind)
			}
			if err != nil {
				return nil, fmt.Errorf("first event of %s: %w", subject, err)
			}
			if msg.Sequence >= before {
				break
			}
			rec, err := decodeRecord(msg)
			if err != nil {
				rec = Record{StoredEvent: domain.StoredEvent{Sequence: msg.Sequence, StoredAt: msg.Time}, Subject: msg.Subject, Err: err}
			}
			out = append(out, rec)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Sequence < out[j].Sequence })
	return out, nil
}

// LastSequence returns the sequence of the last event whose subject matches
// filter (wildcards allowed), or 0 when none does.
func (s *Store) LastSequence(ctx context.Context, filter string) (uint64, error) {
	stream, err := s.stream(ctx)
	if err != nil {
		return 0, fmt.Errorf("last sequence of %s: %w", filter, err)
	}
	s.requests.Add(1)
	msg, err := stream.GetLastMsgForSubject(ctx, filter)
	if errors.Is(err, jetstream.ErrMsgNotFound) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("last sequence of %s: %w", filter, err)
	}
	return msg.Sequence, nil
}

// LeaderRequestTimeout bounds a request to a stream's leader through the
// JetStream API: while a stream elects a leader such a request can go
// unanswered, and a caller without a deadline of its own would wait forever.
const LeaderRequestTimeout = 5 * time.Second

// LeaderLastSequence is LastSequence as the stream's leader answers it.
// Reads (direct gets) may be served by a replica that has not applied the
// latest appends yet; this one goes through the JetStream API to the leader,
// so a state read from a replica can be checked against it. (The client's
// GetLastMsgForSubject cannot be used: on a stream that allows direct gets
// it asks any replica.)
func (s *Store) LeaderLastSequence(ctx context.Context, filter string) (uint64, error) {
	s.requests.Add(1)
	msg, err := LeaderGet(ctx, s.js.Conn(), contract.EventStream, map[string]any{"last_by_subj": filter})
	if err != nil || msg == nil {
		return 0, err
	}
	return msg.Sequence, nil
}

// LeaderMsg is a stream's message as its leader holds it: the sequence,
// and the headers as stored (nats.DecodeHeadersMsg reads them).
type LeaderMsg struct {
	Sequence uint64
	Headers  []byte
}

// LeaderGet asks stream's leader, through the JetStream API, for one
// message; req is a message-get request (by "seq", "next_by_subj" from
// "seq", or "last_by_subj"). It returns nil when there is none. The API
// goes to the leader whatever the stream allows, where a direct get may
// be answered by a replica still catching up.
func LeaderGet(ctx context.Context, nc *nats.Conn, stream string, req map[string]any) (*LeaderMsg, error) {
	body, err := json.Marshal(req)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(ctx, LeaderRequestTimeout)
	defer cancel()
	reply, err := nc.RequestWithContext(ctx, "$JS.API.STREAM.MSG.GET."+stream, body)
	if err != nil {
		return nil, fmt.Errorf("%s leader %v: %w", stream, req, err)
	}
	var resp struct {
		Message *struct {
			Seq     uint64 `json:"seq"`
			Headers []byte `json:"hdrs"`
		} `json:"message"`
		Error *jetstream.APIError `json:"error"`
	}
	if err := json.Unmarshal(reply.Data, &resp); err != nil {
		return nil, fmt.Errorf("%s leader %v: %w", stream, req, err)
	}
	switch {
	case resp.Error != nil && resp.Error.ErrorCode == jetstream.JSErrCodeMessageNotFound:
		return nil, nil
	case resp.Error != nil:
		return nil, fmt.Errorf("%s leader %v: %w", stream, req, resp.Error)
	case resp.Message == nil:
		return nil, fmt.Errorf("%s leader %v: empty answer", stream, req)
	}
	return &LeaderMsg{Sequence: resp.Message.Seq, Headers: resp.Message.Headers}, nil
}

// DecodeRecord turns a stored message into a Record. An undecodable event
// is a *domain.DeciderError with code bad_request.
func DecodeRecord(subject string, seq uint64, stored time.Time, h nats.Header, data []byte) (Record, error) {
	e, err := domain.DecodeEvent(data, domain.EncodingOf(h.Get(contract.HeaderContentType)))
	if err != nil {
		return Record{}, fmt.Errorf("event %d on %s: %w", seq, subject, err)
	}
	return Record{
		StoredEvent: domain.StoredEvent{Sequence: seq, Event: e, StoredAt: stored},
		Subject:     subject,
		CommandID:   h.Get(contract.HeaderCommandID),
		CommandHash: h.Get(contract.HeaderCommandHash),
		Size:        len(data),
	}, nil
}

func decodeRecord(msg *jetstream.RawStreamMsg) (Record, error) {
	return DecodeRecord(msg.Subject, msg.Sequence, msg.Time, msg.Header, msg.Data)
}
