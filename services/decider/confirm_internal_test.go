package decider

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// TestRejectionIsConfirmedOnEveryRead: a state composed of several reads
// stands only when the leader has nothing newer under any of them. A
// CreateThread decided on a project read that lacked the project's
// creation (a replica behind) is read again, though the project tree's
// expectation looks current.
func TestRejectionIsConfirmedOnEveryRead(t *testing.T) {
	srv := natstest.Server(t)
	nc, js := natstest.Connect(t, srv)
	ctx := context.Background()
	if err := provision.Run(ctx, js, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	s, err := New(nc, Config{Instance: "d"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	created := domain.ProjectCreated{ProjectID: "p1", Name: "p", Path: "/p"}
	appended, err := s.store.Append(ctx, eventstore.Batch{CommandID: "c1", Events: []domain.Event{created},
		Subjects: []string{contract.ProjectSubject("p1")}, ExpectFilter: contract.ProjectTreeFilter("p1")})
	if err != nil {
		t.Fatal(err)
	}
	seq := appended.First
	tree := contract.ProjectTreeFilter("p1")
	for _, c := range []struct {
		name  string
		st    state
		valid bool
	}{
		{"the expectation alone, current", state{expectFilter: tree, expectSeq: seq}, true},
		{"the expectation alone, behind", state{expectFilter: tree, expectSeq: 0}, false},
		{"every read current", state{expectFilter: tree, expectSeq: seq,
			reads: []readMark{{contract.ProjectSubject("p1"), seq}, {contract.ThreadFilter("t1"), 0}}}, true},
		{"the project read behind, the expectation current", state{expectFilter: tree, expectSeq: seq,
			reads: []readMark{{contract.ProjectSubject("p1"), 0}, {contract.ThreadFilter("t1"), 0}}}, false},
	} {
		got, err := s.readWasCurrent(ctx, c.st)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.valid {
			t.Errorf("%s: current = %v, want %v", c.name, got, c.valid)
		}
	}
	// prepareNewThread records both reads.
	st, err := s.prepareNewThread(ctx, addressed{project: "p1", thread: "t1"}, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(st.reads) != 2 || st.reads[0].filter != contract.ProjectSubject("p1") || st.reads[0].seq != seq {
		t.Fatalf("reads = %+v", st.reads)
	}
}

// TestReadyOnceServing: Ready closes once Run serves, and a command sent
// then is answered.
func TestReadyOnceServing(t *testing.T) {
	srv := natstest.Server(t)
	nc, js := natstest.Connect(t, srv)
	if err := provision.Run(context.Background(), js, provision.Options{}); err != nil {
		t.Fatal(err)
	}
	s, err := New(nc, Config{Instance: "d"}, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	select {
	case <-s.Ready():
	case err := <-done:
		t.Fatalf("Run ended before it was ready: %v", err)
	}
	body := []byte(`{"name":"p","path":"/p"}`)
	msg, err := nc.Request(contract.CommandSubject(domain.TypeCreateProject), body, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(msg.Data), "project_id") {
		t.Errorf("reply %s", msg.Data)
	}
	stop()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}
