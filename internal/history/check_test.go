package history

import (
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/contract"
)

// a small valid history: process 0 on thread t0 sends two commands, the
// second with two events; one refused command; one unknown that landed.
func valid() ([]Op, []Record) {
	ops := []Op{
		{Process: 0, Aggregate: "t0", CommandID: "c1", Type: "StartTurn", Outcome: OK,
			Events: []contract.EventRef{{Sequence: 1, Type: "TurnStarted"}}},
		{Process: 0, Aggregate: "t0", CommandID: "c2", Type: "IngestProviderEvent", Outcome: OK,
			Events: []contract.EventRef{{Sequence: 3, Type: "MessageChunkReceived"}, {Sequence: 4, Type: "TurnCompleted"}}},
		{Process: 0, Aggregate: "t0", CommandID: "c3", Type: "StartTurn", Outcome: Fail, Err: "conflict"},
		{Process: 1, Aggregate: "t1", CommandID: "c4", Type: "StartTurn", Outcome: Unknown},
	}
	records := []Record{
		{Sequence: 1, Thread: "t0", CommandID: "c1", Type: "TurnStarted"},
		{Sequence: 2, Thread: "t1", CommandID: "c4", Type: "TurnStarted"},
		{Sequence: 3, Thread: "t0", CommandID: "c2", Type: "MessageChunkReceived"},
		{Sequence: 4, Thread: "t0", CommandID: "c2", Type: "TurnCompleted"},
	}
	return ops, records
}

func TestValidHistoryPasses(t *testing.T) {
	ops, recs := valid()
	rep := Check(ops, nil, recs)
	if !rep.Valid() || rep.OK != 2 || rep.Fail != 1 || rep.Unknown != 1 || rep.UnknownLanded != 1 {
		t.Fatalf("report: %s", rep)
	}
}

// Each anomaly is seen, and named in the right category.
func TestAnomaliesAreCaught(t *testing.T) {
	for _, tc := range []struct {
		name   string
		mutate func([]Op, []Record) ([]Op, []Record)
		want   func(Report) []string
	}{
		{"an acknowledged event is missing", func(o []Op, r []Record) ([]Op, []Record) {
			return o, append(r[:2:2], r[3])
		}, func(r Report) []string { return r.Lost }},
		{"a command is appended twice", func(o []Op, r []Record) ([]Op, []Record) {
			return o, append(r, Record{Sequence: 5, Thread: "t0", CommandID: "c1", Type: "TurnStarted"})
		}, func(r Report) []string { return r.Duplicated }},
		{"a refused command is stored", func(o []Op, r []Record) ([]Op, []Record) {
			return o, append(r, Record{Sequence: 5, Thread: "t0", CommandID: "c3", Type: "TurnStarted"})
		}, func(r Report) []string { return r.Unexpected }},
		{"an event from nowhere on a workload thread", func(o []Op, r []Record) ([]Op, []Record) {
			return o, append(r, Record{Sequence: 5, Thread: "t1", CommandID: "zz", Type: "TurnStarted"})
		}, func(r Report) []string { return r.Unexpected }},
		{"a process's commands stored out of order", func(o []Op, r []Record) ([]Op, []Record) {
			o[0].Events[0].Sequence, o[1].Events[0].Sequence, o[1].Events[1].Sequence = 4, 1, 2
			return o, []Record{
				{Sequence: 1, Thread: "t0", CommandID: "c2", Type: "MessageChunkReceived"},
				{Sequence: 2, Thread: "t0", CommandID: "c2", Type: "TurnCompleted"},
				{Sequence: 3, Thread: "t1", CommandID: "c4", Type: "TurnStarted"},
				{Sequence: 4, Thread: "t0", CommandID: "c1", Type: "TurnStarted"},
			}
		}, func(r Report) []string { return r.Reordered }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ops, recs := tc.mutate(valid())
			rep := Check(ops, nil, recs)
			if rep.Valid() || len(tc.want(rep)) == 0 {
				t.Fatalf("not caught in its category: %s", rep)
			}
		})
	}
}

func TestProviderDeliveries(t *testing.T) {
	deliveries := []Delivery{{"t9", "p1", true}, {"t9", "p2", true}, {"t9", "p3", true}, {"t9", "p4", false}}
	ok := []Record{
		{Sequence: 1, Thread: "t9", CommandID: "i1", Type: "MessageChunkReceived", ProviderEventIDs: []string{"p1", "p2"}},
		{Sequence: 2, Thread: "t9", CommandID: "i2", Type: "TurnCompleted", ProviderEventIDs: []string{"p3"}},
	}
	if rep := Check(nil, deliveries, ok); !rep.Valid() || rep.ProviderAcked != 3 {
		t.Fatalf("valid deliveries flagged: %s", rep)
	}
	for name, recs := range map[string][]Record{
		"lost":       {ok[0]},
		"duplicated": {ok[0], ok[1], {Sequence: 3, Thread: "t9", CommandID: "i3", ProviderEventIDs: []string{"p2"}}},
		"reordered":  {{Sequence: 1, Thread: "t9", ProviderEventIDs: []string{"p2", "p1"}}, ok[1]},
		"unexpected": {ok[0], ok[1], {Sequence: 3, Thread: "t9", ProviderEventIDs: []string{"p7"}}},
	} {
		rep := Check(nil, deliveries, recs)
		if rep.Valid() || !strings.Contains(strings.ToLower(rep.String()), name+" 1") {
			t.Errorf("%s not caught: %s", name, rep)
		}
	}
}

func TestMaxUnavailability(t *testing.T) {
	t0 := time.Unix(1000, 0)
	at := func(s float64) time.Time { return t0.Add(time.Duration(s * float64(time.Second))) }
	ops := []Op{
		{Outcome: OK, Completed: at(1)}, {Outcome: OK, Completed: at(2)},
		{Outcome: Unknown, Completed: at(4)}, // not an acknowledgement
		{Outcome: OK, Completed: at(6.5)}, {Outcome: OK, Completed: at(7)},
	}
	if got := MaxUnavailability(ops, at(0), at(8)); got != 4500*time.Millisecond {
		t.Fatalf("max unavailability %v, want 4.5s", got)
	}
}
