package eventstore

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func newInternalStore(t *testing.T) *Store {
	t.Helper()
	_, js := natstest.Connect(t, natstest.Server(t))
	if _, err := EnsureStream(context.Background(), js, DefaultStreamConfig()); err != nil {
		t.Fatal(err)
	}
	return New(js)
}

// turnBatch is a two-event command on thread t expecting its last sequence.
func turnBatch(cmd, t string, expect uint64) Batch {
	subject := contract.ThreadSubject("p", t)
	return Batch{CommandID: cmd, CommandHash: "h-" + cmd,
		Events:       []domain.Event{domain.ThreadSelected{ThreadID: t}, domain.ThreadSelected{ThreadID: t}},
		Subjects:     []string{subject, subject},
		ExpectFilter: subject, ExpectLastSeq: expect,
	}
}

// enqueue puts b in c's queue as Append would, without storing anything.
func enqueue(t *testing.T, c *Committer, ctx context.Context, b Batch) *queued {
	t.Helper()
	if !b.groupable() {
		t.Fatalf("%s is not groupable", b.CommandID)
	}
	msgs, sizes, err := b.messages()
	if err != nil {
		t.Fatal(err)
	}
	q := &queued{ctx: ctx, b: b, msgs: msgs, sizes: sizes, done: make(chan appendResult, 1)}
	c.queue = append(c.queue, q)
	c.busy = true
	return q
}

func TestGroupStoresQueuedCommandsAsOneBatch(t *testing.T) {
	ctx := context.Background()
	store := newInternalStore(t)
	c := NewCommitter(store)
	var qs []*queued
	for i := range 5 {
		qs = append(qs, enqueue(t, c, ctx, turnBatch(fmt.Sprint("c", i), fmt.Sprint("t", i), 0)))
	}
	// A second command on t0 cannot share t0's group: its expectation would
	// be checked against the stream before the group.
	again := enqueue(t, c, ctx, turnBatch("c0b", "t0", 2))
	if more := c.commitNext(); !more {
		t.Fatal("the second command on t0 was not left queued")
	}
	for i, q := range qs {
		r := <-q.done
		if r.err != nil || r.a.First != uint64(2*i+1) || r.a.Last != uint64(2*i+2) || len(r.a.Sizes) != 2 {
			t.Fatalf("member %d: %+v, %v", i, r.a, r.err)
		}
	}
	if groups, batches := c.Stats(); groups != 1 || batches != 5 {
		t.Fatalf("stats = %d groups, %d batches; want 1, 5", groups, batches)
	}
	if more := c.commitNext(); more {
		t.Fatal("queue not empty after the second group")
	}
	if r := <-again.done; r.err != nil || r.a.First != 11 || r.a.Last != 12 {
		t.Fatalf("second command on t0: %+v, %v", r.a, r.err)
	}
	if c.busy {
		t.Fatal("committer still busy with an empty queue")
	}
	// Every event landed on its command's subject with its command's id.
	for i := range 5 {
		var ids []string
		if _, err := store.Load(ctx, contract.ThreadFilter(fmt.Sprint("t", i)), 0, func(r Record) error {
			ids = append(ids, r.CommandID)
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		want := []string{fmt.Sprint("c", i), fmt.Sprint("c", i)}
		if i == 0 {
			want = append(want, "c0b", "c0b")
		}
		if fmt.Sprint(ids) != fmt.Sprint(want) {
			t.Fatalf("t%d holds commands %v, want %v", i, ids, want)
		}
	}
}

func TestGroupWithOneStaleMemberStoresNothing(t *testing.T) {
	ctx := context.Background()
	store := newInternalStore(t)
	c := NewCommitter(store)
	if _, err := store.Append(ctx, turnBatch("old", "t1", 0)); err != nil {
		t.Fatal(err)
	}
	qs := []*queued{
		enqueue(t, c, ctx, turnBatch("a", "t0", 0)),
		enqueue(t, c, ctx, turnBatch("b", "t1", 0)), // stale: t1 is at 2
		enqueue(t, c, ctx, turnBatch("old", "t2", 0)),
	}
	c.commitNext()
	for i, q := range qs {
		if r := <-q.done; !errors.Is(r.err, errAlone) {
			t.Fatalf("member %d: %v, want errAlone", i, r.err)
		}
	}
	if seq, _ := store.LastSequence(ctx, contract.EventSubjects); seq != 2 {
		t.Fatalf("a refused group stored something: last seq %d", seq)
	}
}

func TestGroupSizeAdaptsToRefusals(t *testing.T) {
	ctx := context.Background()
	store := newInternalStore(t)
	c := NewCommitter(store)
	if _, err := store.Append(ctx, turnBatch("old", "stale", 0)); err != nil {
		t.Fatal(err)
	}
	// Refused groups halve the limit...
	for round, want := range []int{maxGroupBatches / 2, maxGroupBatches / 4} {
		enqueue(t, c, ctx, turnBatch(fmt.Sprint("s", round), "stale", 0))
		enqueue(t, c, ctx, turnBatch(fmt.Sprint("f", round), fmt.Sprint("fresh", round), 0))
		c.commitNext()
		if c.limit != want {
			t.Fatalf("after %d refused groups the limit is %d, want %d", round+1, c.limit, want)
		}
	}
	// ...and the next group holds no more than the limit.
	c.limit = 2
	for i := range 3 {
		enqueue(t, c, ctx, turnBatch(fmt.Sprint("n", i), fmt.Sprint("n", i), 0))
	}
	if more := c.commitNext(); !more {
		t.Fatal("a group of 2 took all 3 batches")
	}
	if c.limit != 4 {
		t.Fatalf("a stored group left the limit at %d, want 4", c.limit)
	}
	c.commitNext()
}

func TestGroupSkipsCallersThatGaveUp(t *testing.T) {
	store := newInternalStore(t)
	c := NewCommitter(store)
	gone, cancel := context.WithCancel(context.Background())
	cancel()
	q := enqueue(t, c, gone, turnBatch("a", "t0", 0))
	live := enqueue(t, c, context.Background(), turnBatch("b", "t1", 0))
	c.commitNext()
	if r := <-q.done; !errors.Is(r.err, context.Canceled) {
		t.Fatalf("cancelled member: %v", r.err)
	}
	if r := <-live.done; r.err != nil || r.a.First != 1 {
		t.Fatalf("live member: %+v, %v", r.a, r.err)
	}
}

func TestGroupable(t *testing.T) {
	subject := contract.ThreadSubject("p", "t")
	for _, tc := range []struct {
		name string
		b    Batch
		want bool
	}{
		{"two events on the expected subject", turnBatch("c", "t", 0), true},
		{"one event", Batch{Events: []domain.Event{domain.ThreadSelected{}}, Subjects: []string{subject}, ExpectFilter: subject}, false},
		{"wildcard expectation", Batch{Events: []domain.Event{domain.ThreadSelected{}, domain.ThreadSelected{}},
			Subjects: []string{subject, subject}, ExpectFilter: contract.ProjectTreeFilter("p")}, false},
		{"no expectation", Batch{Events: []domain.Event{domain.ThreadSelected{}, domain.ThreadSelected{}}, Subjects: []string{subject, subject}}, false},
		{"an event elsewhere", Batch{Events: []domain.Event{domain.ThreadSelected{}, domain.ThreadSelected{}},
			Subjects: []string{subject, contract.ProjectSubject("p")}, ExpectFilter: subject}, false},
	} {
		if got := tc.b.groupable(); got != tc.want {
			t.Errorf("%s: groupable = %v", tc.name, got)
		}
	}
}
