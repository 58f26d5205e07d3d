package projector

import (
	"context"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// dirty collects what a batch changed, so each key is written once per
// batch however many events touched it (a burst of chunks is one write).
//
// One batch can meet a thread (or project) in two states: its newest,
// cached, and an older one loaded to fold a late redelivery alone (see
// fold). A key is written from the newest state the batch marked it with:
// were the older one to take its place, the write guard would skip it as
// older than the stored value and the newest events would never be
// written (the fault suite found thread records a turn short after leader
// kills this way). The mark* methods keep that rule.
type dirty struct {
	projects map[string]*projectEntry
	threads  map[string]*threadAgg
	messages map[string]*threadAgg // message key -> its thread
	deleted  map[string]deletion   // message keys to delete
	// toolCalls and deletedTools are tool call keys (contract.ToolCallKey)
	// to write, and to delete (dropped by a restore), with their thread.
	toolCalls, deletedTools map[string]toolRef
	selected                *contract.SelectedRecord
}

// older reports whether a is an older state of the thread than cur (nil:
// no state), whose marks give way to cur's.
func older(a, cur *threadAgg) bool { return cur != nil && a.lastSeq < cur.lastSeq }

// markThread marks a thread's record for writing.
func (d *dirty) markThread(a *threadAgg) {
	if !older(a, d.threads[a.id]) {
		d.threads[a.id] = a
	}
}

// markProject marks a project's record for writing.
func (d *dirty) markProject(id string, p *projectEntry) {
	if cur, ok := d.projects[id]; !ok || p.state.Seq >= cur.state.Seq {
		d.projects[id] = p
	}
}

// markMessage, markDeleted, toolCall and markToolDeleted mark a message's
// or a tool call's key for writing or deleting (see markWrite, markDelete).
func (d *dirty) markMessage(key string, a *threadAgg) { markWrite(d.messages, d.deleted, key, a) }

func (d *dirty) markDeleted(key string, del deletion) { markDelete(d.messages, d.deleted, key, del) }

func (d *dirty) toolCall(a *threadAgg, id string) {
	markWrite(d.toolCalls, d.deletedTools, contract.ToolCallKey(a.id, id), toolRef{a, id})
}

func (d *dirty) markToolDeleted(key string, ref toolRef) {
	markDelete(d.toolCalls, d.deletedTools, key, ref)
}

// mark is what a batch marks a key with: the state of a thread it comes
// from, and what the flush needs to write or delete it.
type mark interface{ state() *threadAgg }

func (a *threadAgg) state() *threadAgg { return a }
func (r toolRef) state() *threadAgg    { return r.a }
func (d deletion) state() *threadAgg   { return d.a }

// markWrite marks key for writing from w's state, unless a newer state of
// the thread deleted it, or a newer one writes it. A deletion by the same
// or an older state stays: the flush deletes before it writes, so what a
// restore dropped and was made again under the same id (the decider checks
// ids against the current state only) is written whole over nothing, its
// old segments gone; and a write of what is gone from its state is skipped.
func markWrite[W, D mark](writes map[string]W, deletes map[string]D, key string, w W) {
	if del, ok := deletes[key]; ok && older(w.state(), del.state()) {
		return
	}
	if cur, ok := writes[key]; !ok || !older(w.state(), cur.state()) {
		writes[key] = w
	}
}

// markDelete marks key for deleting (dropped by a restore), unless a
// newer state writes it; it takes the place of an older state's write.
func markDelete[W, D mark](writes map[string]W, deletes map[string]D, key string, del D) {
	if cur, ok := writes[key]; ok {
		if older(del.state(), cur.state()) {
			return
		}
		if cur.state() != del.state() {
			delete(writes, key)
		}
	}
	if cur, ok := deletes[key]; !ok || !older(del.state(), cur.state()) {
		deletes[key] = del
	}
}

// toolRef names one tool call of a thread's aggregate.
type toolRef struct {
	a  *threadAgg
	id string
}

func newDirty() *dirty {
	return &dirty{projects: map[string]*projectEntry{}, threads: map[string]*threadAgg{},
		messages: map[string]*threadAgg{}, deleted: map[string]deletion{},
		toolCalls: map[string]toolRef{}, deletedTools: map[string]toolRef{}}
}

// merge adds what other marked (a thread load that turned out complete).
func (d *dirty) merge(other *dirty) {
	for k, v := range other.projects {
		d.markProject(k, v)
	}
	for _, v := range other.threads {
		d.markThread(v)
	}
	for k, v := range other.messages {
		d.markMessage(k, v)
	}
	for k, v := range other.deleted {
		d.markDeleted(k, v)
	}
	for k, v := range other.toolCalls {
		markWrite(d.toolCalls, d.deletedTools, k, v)
	}
	for k, v := range other.deletedTools {
		d.markToolDeleted(k, v)
	}
	if other.selected != nil && (d.selected == nil || other.selected.Seq > d.selected.Seq) {
		d.selected = other.selected
	}
}

// deletion is a message dropped by a restore: its key and text segments.
type deletion struct {
	a        *threadAgg
	segments int
}

// fold applies one stored event to the state the projection keeps and
// marks what it changed. Events already folded (a redelivery at or below
// the floor) are skipped.
//
// The cache holds, for every aggregate in it, every event up to delivered:
// deliveries are contiguous, or a gap drops the cache. A late event (below
// delivered, see ledger) is the exception: other instances may have folded
// the aggregate's later events, which will not come here again, so state
// loaded to fold it is used for it alone and not cached (keep is false all
// the way down); later events load it afresh, up to themselves.
func (r *runner) fold(ctx context.Context, rec eventstore.Record, d *dirty, dl delivery) error {
	if dl.folded {
		return nil
	}
	keep := !dl.late
	switch e := rec.Event.(type) {
	case domain.ProjectEvent:
		if r.p.Catalog {
			return r.foldProject(ctx, e.EventProjectID(), rec, d, rec.Sequence, keep)
		}
	case domain.ThreadEvent:
		if !r.p.Owns(e.EventThreadID()) {
			return nil // another partition's thread
		}
		return r.foldThread(ctx, e, rec, d, keep)
	}
	return nil
}

// foldProject folds an event into a project's record as the projection
// stands at sequence at (rec's own sequence, or a later one when rec is
// applied while a thread is loaded: see threadAt). A record already stamped
// with rec's sequence or a later one has it; in the second case it is
// marked for writing all the same, as rec may never have been written.
func (r *runner) foldProject(ctx context.Context, id string, rec eventstore.Record, d *dirty, at uint64, keep bool) error {
	p, err := r.projectAt(ctx, id, at, keep)
	if err != nil {
		return err
	}
	if p != nil && p.state.Seq >= rec.Sequence {
		if at > rec.Sequence {
			d.markProject(id, p)
		}
		return nil
	}
	// A model around this one record: Project updates the record in place.
	view := domain.NewModel()
	if p != nil {
		view.Projects[id] = p.state
	}
	domain.Project(view, rec.StoredEvent)
	state, ok := view.Projects[id]
	if !ok {
		return nil // an event about a project that never was created
	}
	if p == nil {
		p = &projectEntry{state: state}
	}
	if keep {
		r.projects.Put(id, p)
	}
	d.markProject(id, p)
	return nil
}

func (r *runner) foldThread(ctx context.Context, e domain.ThreadEvent, rec eventstore.Record, d *dirty, keep bool) error {
	_, created := e.(domain.ThreadCreated)
	a, err := r.threadAt(ctx, e.EventThreadID(), rec.Sequence, created, d, keep)
	if err != nil {
		return err
	}
	if rec.Sequence <= a.lastSeq {
		return nil // folded already, and marked if it might be unwritten (see threadAt)
	}
	return r.apply(ctx, a, e, rec, d, rec.Sequence, keep)
}

// apply folds one event into a thread's aggregate and marks the keys it
// changes for writing; at is the sequence the projection stands at, keep
// whether the aggregate may be cached (see fold).
func (r *runner) apply(ctx context.Context, a *threadAgg, e domain.ThreadEvent, rec eventstore.Record, d *dirty, at uint64, keep bool) error {
	var before map[string]int
	var toolsBefore []string
	if _, restore := e.(domain.CheckpointRestored); restore {
		if r.p.Transcript {
			before = messageLengths(a)
		}
		if r.p.Catalog {
			toolsBefore = toolCallIDs(a)
		}
	}
	a.bytes += int64(domain.ProjectMeasured(a.model, rec.StoredEvent, rec.Size))
	a.lastSeq = rec.Sequence
	if keep {
		r.threads.Put(a.id, a)
	}

	if r.p.Catalog {
		if created, ok := e.(domain.ThreadCreated); ok {
			if err := r.foldProject(ctx, created.ProjectID, rec, d, at, keep); err != nil {
				return err
			}
		}
		if !domain.IsTranscriptEvent(e) {
			d.markThread(a)
		}
		switch ev := e.(type) {
		case domain.ToolCallStarted:
			d.toolCall(a, ev.ToolCallID)
		case domain.ToolCallCompleted:
			d.toolCall(a, ev.ToolCallID)
		}
		for _, id := range toolsBefore {
			if t, ok := a.thread(); ok {
				if _, still := t.ToolCall(id); !still {
					d.markToolDeleted(contract.ToolCallKey(a.id, id), toolRef{a, id})
				}
			}
		}
		switch e.(type) {
		case domain.ThreadSelected:
			r.setSelection(d, contract.SelectedRecord{ThreadID: a.id, Seq: rec.Sequence})
		case domain.ThreadDeleted:
			// Deleting the selected thread clears the selection (the domain's rule).
			current, err := r.selection(ctx)
			if err != nil {
				return err
			}
			if current.ThreadID == a.id {
				r.setSelection(d, contract.SelectedRecord{Seq: rec.Sequence})
			}
		}
	}
	if r.p.Transcript {
		for _, id := range transcriptKeys(e) {
			d.markMessage(contract.MessageKey(a.id, id), a)
		}
		for id, length := range before {
			if _, still := a.model.Threads[a.id].Message(id); !still {
				d.markDeleted(contract.MessageKey(a.id, id), deletion{a: a, segments: max(length-1, 0) / contract.SegmentBytes})
			}
		}
	}
	return nil
}

// transcriptKeys names the messages an event changes.
func transcriptKeys(e domain.Event) []string {
	switch ev := e.(type) {
	case domain.TurnStarted:
		return []string{ev.MessageID}
	case domain.MessageAppended:
		return []string{ev.MessageID}
	case domain.MessageChunkReceived:
		return []string{ev.MessageID}
	case domain.MessageCompleted:
		return []string{ev.MessageID}
	case domain.ThinkingChunkReceived:
		return []string{domain.ThinkingMessageID(ev.MessageID)}
	}
	return nil
}

// toolCallIDs lists the thread's tool calls.
func toolCallIDs(a *threadAgg) []string {
	t, ok := a.thread()
	if !ok {
		return nil
	}
	out := make([]string, 0, len(t.ToolCalls))
	for _, c := range t.ToolCalls {
		out = append(out, c.ID)
	}
	return out
}

// messageLengths maps each message of the thread to its text length.
func messageLengths(a *threadAgg) map[string]int {
	out := map[string]int{}
	if t, ok := a.thread(); ok {
		for _, m := range t.Messages {
			out[m.ID] = m.TextLen()
		}
	}
	return out
}

// setSelection records a change of the selected thread, unless the projection
// already knows a later one (events can be applied out of order while a
// thread is loaded).
func (r *runner) setSelection(d *dirty, rec contract.SelectedRecord) {
	if r.selectedKnown && rec.Seq <= r.selected.Seq {
		return
	}
	r.selected, r.selectedKnown = rec, true
	if d.selected == nil || rec.Seq > d.selected.Seq {
		d.selected = &rec
	}
}

// selection is the selected thread as the projection stands. A runner
// that has just started (or dropped its state) reads it from the bucket,
// which holds every selection up to the ack floor.
func (r *runner) selection(ctx context.Context) (contract.SelectedRecord, error) {
	if r.selectedKnown {
		return r.selected, nil
	}
	var rec contract.SelectedRecord
	e, err := r.kvGet(ctx, contract.BucketMeta, contract.MetaSelectedThread)
	if err != nil {
		return rec, err
	}
	if e != nil {
		if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
			return rec, err
		}
	}
	r.selected, r.selectedKnown = rec, true
	return rec, nil
}
