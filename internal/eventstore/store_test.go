package eventstore_test

import (
	"context"
	"errors"
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func newStore(t *testing.T) (*eventstore.Store, jetstream.JetStream) {
	t.Helper()
	_, js := natstest.Connect(t, natstest.Server(t))
	if _, err := eventstore.EnsureStream(context.Background(), js, eventstore.DefaultStreamConfig()); err != nil {
		t.Fatal(err)
	}
	return eventstore.New(js), js
}

func TestEnsureStreamIsIdempotentAndChecked(t *testing.T) {
	ctx := context.Background()
	_, js := newStore(t)
	if _, err := eventstore.EnsureStream(ctx, js, eventstore.DefaultStreamConfig()); err != nil {
		t.Fatalf("second ensure: %v", err)
	}
	if _, err := eventstore.CheckStream(ctx, js); err != nil {
		t.Fatalf("check: %v", err)
	}
	// A stream someone changed so that it would lose events is refused.
	s, _ := js.Stream(ctx, contract.EventStream)
	cfg := s.CachedInfo().Config
	cfg.MaxAge = 3600e9
	cfg.AllowAtomicPublish = false
	if _, err := js.UpdateStream(ctx, cfg); err != nil {
		t.Fatal(err)
	}
	_, err := eventstore.CheckStream(ctx, js)
	if !errors.Is(err, eventstore.ErrStreamSettings) {
		t.Fatalf("check of a bad stream: %v", err)
	}
	t.Log(err)
}

func TestCheckStreamWithoutStream(t *testing.T) {
	_, js := natstest.Connect(t, natstest.Server(t))
	if _, err := eventstore.CheckStream(context.Background(), js); !errors.Is(err, jetstream.ErrStreamNotFound) {
		t.Fatalf("err = %v", err)
	}
}

func projectBatch(cmd, project string, expect uint64) eventstore.Batch {
	return eventstore.Batch{
		CommandID: cmd, CommandHash: "h-" + cmd,
		Events:       []domain.Event{domain.ProjectCreated{ProjectID: project, Name: "n", Path: "/" + project}},
		Subjects:     []string{contract.ProjectSubject(project)},
		ExpectFilter: contract.AllProjectsFilter, ExpectLastSeq: expect,
	}
}

func TestAppendAndLoad(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t)
	a, err := store.Append(ctx, projectBatch("c1", "p1", 0))
	if err != nil || a.First != 1 || a.Last != 1 {
		t.Fatalf("append = %+v, %v", a, err)
	}
	multi := eventstore.Batch{
		CommandID: "c2",
		Events: []domain.Event{
			domain.ThreadCreated{ThreadID: "t1", ProjectID: "p1"},
			domain.ThreadSelected{ThreadID: "t1"},
			domain.ThreadDeleted{ThreadID: "t1"},
		},
		Subjects:     []string{contract.ThreadSubject("p1", "t1"), contract.ThreadSubject("p1", "t1"), contract.ThreadSubject("p1", "t1")},
		ExpectFilter: contract.ProjectTreeFilter("p1"), ExpectLastSeq: 1,
	}
	if a, err = store.Append(ctx, multi); err != nil || a.First != 2 || a.Last != 4 {
		t.Fatalf("append = %+v, %v", a, err)
	}
	var got []eventstore.Record
	last, err := store.Load(ctx, contract.ThreadFilter("t1"), 0, func(r eventstore.Record) error {
		got = append(got, r)
		return nil
	})
	if err != nil || last != 4 || len(got) != 3 {
		t.Fatalf("load = %d records, last %d, %v", len(got), last, err)
	}
	if got[0].CommandID != "c2" || got[0].Sequence != 2 || got[0].Event != (domain.ThreadCreated{ThreadID: "t1", ProjectID: "p1"}) ||
		got[0].Subject != "peon.evt.p1.t1" || got[0].StoredAt.IsZero() {
		t.Fatalf("record = %+v", got[0])
	}
	for _, f := range []struct {
		filter string
		want   uint64
	}{{contract.AllProjectsFilter, 1}, {contract.ProjectTreeFilter("p1"), 4}, {contract.ThreadFilter("t1"), 4}, {contract.ThreadFilter("nope"), 0}} {
		if seq, err := store.LastSequence(ctx, f.filter); err != nil || seq != f.want {
			t.Errorf("LastSequence(%s) = %d, %v; want %d", f.filter, seq, err, f.want)
		}
		if seq, err := store.LeaderLastSequence(ctx, f.filter); err != nil || seq != f.want {
			t.Errorf("LeaderLastSequence(%s) = %d, %v; want %d", f.filter, seq, err, f.want)
		}
	}
	n := 0
	if last, err := store.Load(ctx, contract.ThreadFilter("t1"), 3, func(eventstore.Record) error { n++; return nil }); err != nil || n != 1 || last != 4 {
		t.Fatalf("load after 3: %d events, last %d, %v", n, last, err)
	}
	if last, err := store.Load(ctx, contract.ThreadFilter("nope"), 0, func(eventstore.Record) error { n++; return nil }); err != nil || last != 0 {
		t.Fatalf("load of nothing: last %d, %v", last, err)
	}
}

func TestAppendConflict(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t)
	if _, err := store.Append(ctx, projectBatch("c1", "p1", 0)); err != nil {
		t.Fatal(err)
	}
	// Another writer decided on the state before c1: its expectation fails.
	_, err := store.Append(ctx, projectBatch("c2", "p2", 0))
	if !errors.Is(err, eventstore.ErrConflict) {
		t.Fatalf("err = %v, want ErrConflict", err)
	}
	if seq, _ := store.LastSequence(ctx, contract.EventSubjects); seq != 1 {
		t.Fatalf("conflicting append stored something: last seq %d", seq)
	}
}

func TestAppendDuplicate(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t)
	if _, err := store.Append(ctx, projectBatch("c1", "p1", 0)); err != nil {
		t.Fatal(err)
	}
	b := projectBatch("c1", "p1", 1)
	_, err := store.Append(ctx, b)
	if !errors.Is(err, eventstore.ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
}

func TestAppendIsAtomic(t *testing.T) {
	ctx := context.Background()
	store, _ := newStore(t)
	// The second message's subject is outside the stream: the batch must fail whole.
	b := eventstore.Batch{CommandID: "c1",
		Events:   []domain.Event{domain.ProjectCreated{ProjectID: "p1", Name: "n", Path: "/p"}, domain.ProjectRenamed{ProjectID: "p1", Name: "m"}},
		Subjects: []string{contract.ProjectSubject("p1"), "elsewhere.p1"},
	}
	ctx2, cancel := context.WithTimeout(ctx, 2e9)
	defer cancel()
	if _, err := store.Append(ctx2, b); err == nil {
		t.Fatal("append with a message outside the stream succeeded")
	}
	if seq, _ := store.LastSequence(ctx, contract.EventSubjects); seq != 0 {
		t.Fatalf("half a batch was stored: last seq %d", seq)
	}
}
