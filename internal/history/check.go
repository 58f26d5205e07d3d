package history

import (
	"fmt"
	"slices"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Record is what the checker needs of one stored event.
type Record struct {
	Sequence         uint64
	Thread           string
	CommandID        string
	Type             string
	ProviderEventIDs []string
}

// FromStore converts a stored event.
func FromStore(r eventstore.Record) Record {
	_, thread, _ := contract.ParseEventSubject(r.Subject)
	rec := Record{Sequence: r.Sequence, Thread: thread, CommandID: r.CommandID}
	if r.Event != nil {
		rec.Type = r.Event.EventType()
		rec.ProviderEventIDs = providerEventIDs(r.Event)
	}
	return rec
}

// providerEventIDs returns the provider events an event was made from.
func providerEventIDs(e domain.Event) []string {
	switch e := e.(type) {
	case domain.TurnCompleted:
		return e.ProviderEventIDs
	case domain.TurnFailed:
		return e.ProviderEventIDs
	case domain.MessageAppended:
		return e.ProviderEventIDs
	case domain.MessageChunkReceived:
		return e.ProviderEventIDs
	case domain.ThinkingChunkReceived:
		return e.ProviderEventIDs
	case domain.ToolCallStarted:
		return e.ProviderEventIDs
	case domain.ToolCallCompleted:
		return e.ProviderEventIDs
	case domain.PendingActionRequested:
		return e.ProviderEventIDs
	}
	return nil
}

// Report is the verdict. The slices hold one line per anomaly.
type Report struct {
	Ops, OK, Fail, Unknown int
	// UnknownLanded counts unknown operations whose events are in the stream.
	UnknownLanded int
	// ProviderAcked counts provider events the provider stream acknowledged.
	ProviderAcked int

	Lost       []string // acknowledged, not in the stream
	Duplicated []string // in the stream more than once
	Unexpected []string // in the stream though refused or never sent
	Reordered  []string // in the stream out of the order they were acknowledged in
}

// Valid reports whether the history has no anomaly.
func (r Report) Valid() bool {
	return len(r.Lost)+len(r.Duplicated)+len(r.Unexpected)+len(r.Reordered) == 0
}

func (r Report) String() string {
	s := fmt.Sprintf("%d ops: %d ok, %d fail, %d unknown (%d landed); %d provider events acked; lost %d, duplicated %d, unexpected %d, reordered %d",
		r.Ops, r.OK, r.Fail, r.Unknown, r.UnknownLanded, r.ProviderAcked, len(r.Lost), len(r.Duplicated), len(r.Unexpected), len(r.Reordered))
	for _, group := range [][]string{r.Lost, r.Duplicated, r.Unexpected, r.Reordered} {
		for i, line := range group {
			if i == 5 {
				s += fmt.Sprintf("\n  ... and %d more", len(group)-5)
				break
			}
			s += "\n  " + line
		}
	}
	return s
}

// Check compares a history with the whole event stream (records in stream
// order). Commands are appended atomically, so one command's events form
// one contiguous run of sequences; a second run is a duplicate. Threads fed
// by provider events also hold events of provider-ingest's own commands;
// those are checked through the provider event ids they carry.
func Check(ops []Op, deliveries []Delivery, records []Record) Report {
	var rep Report
	byCommand := map[string][]Record{}
	for _, r := range records {
		byCommand[r.CommandID] = append(byCommand[r.CommandID], r)
	}
	sent := map[string]bool{}
	workload := map[string]bool{}
	for _, op := range ops {
		sent[op.CommandID] = true
		workload[op.Aggregate] = true
	}
	providerFed := map[string]bool{}
	for _, d := range deliveries {
		providerFed[d.Thread] = true
	}

	// Every event on a workload thread comes from a command sent to it.
	for _, r := range records {
		if workload[r.Thread] && !sent[r.CommandID] && !providerFed[r.Thread] {
			rep.Unexpected = append(rep.Unexpected, fmt.Sprintf("seq %d (%s on %s): command %q was never sent", r.Sequence, r.Type, r.Thread, r.CommandID))
		}
	}

	landedFirst := map[string]uint64{} // command id -> first sequence
	for _, op := range ops {
		rep.Ops++
		recs := byCommand[op.CommandID]
		for i := 1; i < len(recs); i++ {
			if recs[i].Sequence != recs[i-1].Sequence+1 {
				rep.Duplicated = append(rep.Duplicated, fmt.Sprintf("%s %s: appended in more than one run (seqs %v)", op.Type, op.CommandID, seqs(recs)))
				break
			}
		}
		if len(recs) > 0 {
			landedFirst[op.CommandID] = recs[0].Sequence
		}
		switch op.Outcome {
		case OK:
			rep.OK++
			if len(op.Events) == 0 {
				rep.Lost = append(rep.Lost, fmt.Sprintf("%s %s: acknowledged with no events", op.Type, op.CommandID))
			}
			for _, ref := range op.Events {
				if !slices.ContainsFunc(recs, func(r Record) bool { return r.Sequence == ref.Sequence && r.Type == ref.Type }) {
					rep.Lost = append(rep.Lost, fmt.Sprintf("%s %s: acknowledged %s at seq %d, not in the stream", op.Type, op.CommandID, ref.Type, ref.Sequence))
				}
			}
			if len(recs) > len(op.Events) && len(op.Events) > 0 {
				rep.Duplicated = append(rep.Duplicated, fmt.Sprintf("%s %s: %d events acknowledged, %d stored", op.Type, op.CommandID, len(op.Events), len(recs)))
			}
		case Fail:
			rep.Fail++
			if len(recs) > 0 {
				rep.Unexpected = append(rep.Unexpected, fmt.Sprintf("%s %s: refused (%s) yet stored at seqs %v", op.Type, op.CommandID, op.Err, seqs(recs)))
			}
		case Unknown, Pending:
			rep.Unknown++
			if len(recs) > 0 {
				rep.UnknownLanded++
			}
		}
	}

	// A process is sequential: what it got applied is in the stream in the
	// order it sent it.
	last := map[int]uint64{}
	for _, op := range ops {
		first, landed := landedFirst[op.CommandID]
		if !landed {
			continue
		}
		if first <= last[op.Process] {
			rep.Reordered = append(rep.Reordered, fmt.Sprintf("%s %s of process %d stored at seq %d, before the previous command's %d",
				op.Type, op.CommandID, op.Process, first, last[op.Process]))
		}
		last[op.Process] = first
	}

	checkProvider(&rep, deliveries, records)
	return rep
}

// checkProvider: every provider event the stream acknowledged appears in
// exactly one event of its thread, in the order it was published.
func checkProvider(rep *Report, deliveries []Delivery, records []Record) {
	published := map[string]map[string]bool{}
	acked := map[string][]string{}
	for _, d := range deliveries {
		if published[d.Thread] == nil {
			published[d.Thread] = map[string]bool{}
		}
		published[d.Thread][d.ProviderEventID] = true
		if d.Acked {
			rep.ProviderAcked++
			acked[d.Thread] = append(acked[d.Thread], d.ProviderEventID)
		}
	}
	stored := map[string][]string{}
	for _, r := range records {
		if published[r.Thread] == nil {
			continue
		}
		for _, id := range r.ProviderEventIDs {
			if !published[r.Thread][id] {
				rep.Unexpected = append(rep.Unexpected, fmt.Sprintf("seq %d: provider event %s/%s was never published", r.Sequence, r.Thread, id))
			}
			stored[r.Thread] = append(stored[r.Thread], id)
		}
	}
	for thread, want := range acked {
		count := map[string]int{}
		for _, id := range stored[thread] {
			count[id]++
		}
		ackedSet := map[string]bool{}
		for _, id := range want {
			ackedSet[id] = true
			switch n := count[id]; {
			case n == 0:
				rep.Lost = append(rep.Lost, fmt.Sprintf("provider event %s/%s: acknowledged, in no event", thread, id))
			case n > 1:
				rep.Duplicated = append(rep.Duplicated, fmt.Sprintf("provider event %s/%s: in %d events", thread, id, n))
			}
		}
		// The acknowledged ids, as stored, must keep their publish order.
		i := 0
		for _, id := range stored[thread] {
			if !ackedSet[id] {
				continue
			}
			for i < len(want) && want[i] != id {
				i++
			}
			if i == len(want) {
				rep.Reordered = append(rep.Reordered, fmt.Sprintf("provider event %s/%s stored out of publish order", thread, id))
				break
			}
		}
	}
}

func seqs(recs []Record) []uint64 {
	out := make([]uint64, len(recs))
	for i, r := range recs {
		out[i] = r.Sequence
	}
	return out
}

// MaxUnavailability is the longest stretch within [from, to] in which no
// operation was acknowledged.
func MaxUnavailability(ops []Op, from, to time.Time) time.Duration {
	var acks []time.Time
	for _, op := range ops {
		if op.Outcome == OK && !op.Completed.Before(from) && !op.Completed.After(to) {
			acks = append(acks, op.Completed)
		}
	}
	slices.SortFunc(acks, func(a, b time.Time) int { return a.Compare(b) })
	prev, worst := from, time.Duration(0)
	for _, t := range append(acks, to) {
		worst = max(worst, t.Sub(prev))
		prev = t
	}
	return worst
}
