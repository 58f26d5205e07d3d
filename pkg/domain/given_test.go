package domain_test

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// epoch is the StoredAt of the first event in tests; each next event is a
// second later.
var epoch = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

// fold builds a model from events, numbering them from sequence 1.
func fold(events ...domain.Event) *domain.Model {
	m := domain.NewModel()
	for i, e := range events {
		domain.Project(m, stored(uint64(i+1), e))
	}
	return m
}

func stored(seq uint64, e domain.Event) domain.StoredEvent {
	return domain.StoredEvent{Sequence: seq, Event: e, StoredAt: epoch.Add(time.Duration(seq) * time.Second)}
}

// spec is one given–when–then case: given a history, when a command is
// decided, then these events, or an error with this code.
type spec struct {
	name  string
	given []domain.Event
	when  domain.Command
	then  []domain.Event
	err   domain.Code
}

func (s spec) run(t *testing.T) {
	t.Helper()
	m := fold(s.given...)
	before := fold(s.given...)
	got, err := domain.Decide(s.when, m)
	if !reflect.DeepEqual(m, before) {
		t.Fatalf("Decide mutated the model")
	}
	if s.err != "" {
		var de *domain.DeciderError
		if !errors.As(err, &de) || de.Code != s.err {
			t.Fatalf("err = %v, want code %s", err, s.err)
		}
		if len(got) != 0 {
			t.Fatalf("rejected command returned events %v", got)
		}
		return
	}
	if err != nil {
		t.Fatalf("unexpected error: %v", err)
	}
	if len(got) == 0 && len(s.then) == 0 {
		return
	}
	if !reflect.DeepEqual(got, s.then) {
		t.Fatalf("events\n got: %#v\nwant: %#v", got, s.then)
	}
}

func runSpecs(t *testing.T, specs []spec) {
	t.Helper()
	for _, s := range specs {
		t.Run(s.name, s.run)
	}
}

// A small world used across the specs.
const (
	p1, p2         = "p1", "p2"
	t1, t2, t3     = "t1", "t2", "t3"
	u1, u2         = "u1", "u2"
	m1, m2, m3     = "m1", "m2", "m3"
	tc1, tc2       = "tc1", "tc2"
	r1, r2         = "r1", "r2"
	cp1, cp2       = "cp1", "cp2"
	op1, op2, op3  = "op1", "op2", "op3"
	pe1, pe2, pe3  = "pe1", "pe2", "pe3"
	pathPeon       = "/src/peon"
	pathOther      = "/src/other"
	running        = domain.StatusRunning
	idle           = domain.StatusIdle
	awaiting       = domain.StatusAwaitingApproval
	statusError    = domain.StatusError
	cancelledState = domain.ResolutionCancelled
)

func projectCreated(id, path string) domain.Event {
	return domain.ProjectCreated{ProjectID: id, Name: "Peon", Path: path}
}

func threadCreated(id, project string) domain.Event {
	return domain.ThreadCreated{ThreadID: id, ProjectID: project, Title: "Fix the bug", Model: "claude"}
}

func turnStarted(thread, turn, msg string) domain.Event {
	return domain.TurnStarted{ThreadID: thread, TurnID: turn, MessageID: msg, Text: "please fix it"}
}

func status(thread string, s domain.ThreadStatus) domain.Event {
	return domain.ThreadStatusChanged{ThreadID: thread, Status: s}
}

func ingest(turn, pid string, pe domain.ProviderEvent) domain.IngestProviderEvent {
	return domain.IngestProviderEvent{ThreadID: t1, TurnID: turn, ProviderEventID: pid,
		Event: &domain.ProviderEventEnvelope{ProviderEvent: pe}}
}

func ids(s ...string) []string { return s }

// histories
var (
	withProject = []domain.Event{projectCreated(p1, pathPeon)}
	withThread  = append(clone(withProject), threadCreated(t1, p1))
	withTurn    = append(clone(withThread), turnStarted(t1, u1, m1), status(t1, running))
	// withWork: a turn with a streaming message, an open tool call and a pending request.
	withWork = append(clone(withTurn),
		domain.MessageAppended{ThreadID: t1, TurnID: u1, MessageID: m2, Role: domain.RoleAssistant, Text: "on it", ProviderEventIDs: ids(pe1)},
		domain.ToolCallStarted{ThreadID: t1, TurnID: u1, ToolCallID: tc1, Name: "bash", ProviderEventIDs: ids(pe2)},
		domain.PendingActionRequested{ThreadID: t1, TurnID: u1, RequestID: r1, ToolCallID: tc1, Kind: "exec", ProviderEventIDs: ids(pe3)},
		status(t1, awaiting),
	)
	withDoneTurn = append(clone(withTurn),
		domain.TurnCompleted{ThreadID: t1, TurnID: u1, StopReason: "end_turn"},
		status(t1, idle),
	)
)

func clone(h []domain.Event) []domain.Event { return append([]domain.Event(nil), h...) }

func cat(hs ...[]domain.Event) []domain.Event {
	var out []domain.Event
	for _, h := range hs {
		out = append(out, h...)
	}
	return out
}
