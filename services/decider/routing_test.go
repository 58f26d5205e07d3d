package decider_test

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// waitShared waits until the instances serve disjoint shares covering
// every command partition.
func (h *harness) waitShared(t testing.TB) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		var sum, most int64
		for _, svc := range h.instances {
			n := svc.Stats().OwnedPartitions
			sum, most = sum+n, max(most, n)
		}
		if sum == contract.CommandPartitions && (len(h.instances) == 1 || most < contract.CommandPartitions) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("the instances never shared the partitions")
}

// TestRoutedCommandsStayOnTheWarmInstance: with three instances sharing
// the partitions, the consecutive commands of each thread reach one
// instance, so every thread is loaded once in all (not once per command
// that lands elsewhere), no append is refused for a stale cache, and every
// command came on a partition's subject.
func TestRoutedCommandsStayOnTheWarmInstance(t *testing.T) {
	h := start(t, 3, decider.Config{RebalanceEvery: 50 * time.Millisecond}, eventstore.DefaultStreamConfig())
	h.waitShared(t)
	ctx := context.Background()
	c := h.client(domain.MessagePack)
	const threads, deltas = 12, 20
	turns := startedTurns(t, c, threads)
	before := h.sum()
	parallel(threads, func(i int) {
		for d := range deltas {
			_, err := c.Send(ctx, domain.IngestProviderEvent{ThreadID: turns[i][0], TurnID: turns[i][1], ProviderEventID: fmt.Sprint("d", d),
				Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m", Delta: "x"}}})
			if err != nil {
				t.Error(err)
				return
			}
		}
	})
	after := h.sum()
	if n := after.Commands - before.Commands; n != threads*deltas {
		t.Fatalf("%d commands handled, want %d", n, threads*deltas)
	}
	if n := after.RoutedCommands - before.RoutedCommands; n != threads*deltas {
		t.Errorf("%d of %d commands came routed", n, threads*deltas)
	}
	if n := after.Loads - before.Loads; n != 0 {
		t.Errorf("%d aggregate loads for threads already warm, want 0", n)
	}
	if n := after.Conflicts - before.Conflicts; n != 0 {
		t.Errorf("%d conflicts, want 0", n)
	}
	// Each delta is one round trip: its append.
	if n := after.JetStreamRequests - before.JetStreamRequests; n != threads*deltas {
		t.Errorf("%d JetStream requests for %d commands, want one each", n, threads*deltas)
	}
	m := h.model(t)
	for _, tu := range turns {
		if got := len(m.Threads[tu[0]].Messages); got != 2 { // the prompt and the reply
			t.Errorf("thread %s has %d messages, want 2", tu[0], got)
		}
	}
}

// sum adds up the instances' stats.
func (h *harness) sum() decider.Stats {
	var s decider.Stats
	for _, svc := range h.instances {
		st := svc.Stats()
		s.Commands += st.Commands
		s.RoutedCommands += st.RoutedCommands
		s.Loads += st.Loads
		s.Conflicts += st.Conflicts
		s.JetStreamRequests += st.JetStreamRequests
	}
	return s
}

// TestUnservedPartitionFallsBackToThePlainSubject: a routed command
// whose partition nobody serves is sent again on the plain subject, once.
// The responder here serves only the plain subject of turn.start, as a
// decider instance does while its peers have not yet taken over a
// partition.
func TestUnservedPartitionFallsBackToThePlainSubject(t *testing.T) {
	h := start(t, 0, decider.Config{}, eventstore.DefaultStreamConfig())
	var got atomic.Int64
	answer(t, h.nc, contract.CommandPrefix+".turn.start", "tu1", func(string) { got.Add(1) })
	r, err := h.client(domain.JSON).Send(context.Background(), domain.StartTurn{ThreadID: "t1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if r.TurnID != "tu1" || got.Load() != 1 {
		t.Fatalf("reply %+v after %d requests, want tu1 after 1", r, got.Load())
	}
}

// TestClientSendsToThePartitionFirst: with a responder on the routed
// subjects only, a command is answered there: the client routes before it
// falls back.
func TestClientSendsToThePartitionFirst(t *testing.T) {
	h := start(t, 0, decider.Config{}, eventstore.DefaultStreamConfig())
	var subject atomic.Value
	answer(t, h.nc, contract.CommandPrefix+"."+contract.CommandPartitionToken+".*.turn.start", "tu2", func(s string) { subject.Store(s) })
	r, err := h.client(domain.JSON).Send(context.Background(), domain.StartTurn{ThreadID: "t1", Text: "hi"})
	if err != nil {
		t.Fatal(err)
	}
	if want := contract.RoutedCommandSubject("turn.start", "t1"); r.TurnID != "tu2" || subject.Load() != want {
		t.Fatalf("reply %+v on %v, want tu2 on %s", r, subject.Load(), want)
	}
}

// TestUnknownRoutedSubjectIsRefused: a request on a partition's subject
// that names no command gets bad_request, and changes nothing.
func TestUnknownRoutedSubjectIsRefused(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	before := len(h.history(t))
	_, err := h.client(domain.JSON).SendRaw(context.Background(), "peon.cmd.part.3.turn.explode", []byte(`{}`))
	wantCode(t, err, domain.CodeBadRequest, 400)
	if after := len(h.history(t)); after != before {
		t.Fatalf("the stream grew from %d to %d events", before, after)
	}
}

// TestCommandsSurviveInstancesComingAndGoing: while commands stream onto
// a few threads, instances start and stop (partitions move, are served
// twice or not at all for a moment); every command is answered, the
// instances that came and went decided some of them, and the stream holds
// each delta once (counted by its provider event id, which the fold alone
// would also deduplicate), in order.
func TestCommandsSurviveInstancesComingAndGoing(t *testing.T) {
	cfg := decider.Config{RebalanceEvery: 30 * time.Millisecond}
	h := start(t, 1, cfg, eventstore.DefaultStreamConfig())
	ctx := context.Background()
	c := h.client(domain.MessagePack)
	const threads = 6
	turns := startedTurns(t, c, threads)
	churn := make(chan struct{})
	var churned atomic.Int64
	go func() {
		defer close(churn)
		for i := 1; i <= 3; i++ {
			svc, stop := h.startStoppable(t, cfg, i)
			time.Sleep(400 * time.Millisecond) // past its first probe: it takes a share
			churned.Add(svc.Stats().Commands)
			stop()
		}
	}()
	sent := make([]int, threads)
	parallel(threads, func(i int) {
		for d := 0; ; d++ {
			select {
			case <-churn:
				sent[i] = d
				return
			default:
			}
			cmd := domain.IngestProviderEvent{ThreadID: turns[i][0], TurnID: turns[i][1], ProviderEventID: fmt.Sprint("d", d),
				Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m", Delta: fmt.Sprintf("%05d", d)}}}
			_, err := c.Send(ctx, cmd)
			// A command that reached an instance as it stopped is
			// refused as unavailable: sent again, as a client does (the
			// same provider event, so at most one is stored).
			for try := 0; err != nil && transient(err) && try < 10; try++ {
				_, err = c.Send(ctx, cmd)
			}
			if err != nil {
				t.Error(err)
				sent[i] = d
				return
			}
		}
	})
	if churned.Load() == 0 {
		t.Error("the instances that came and went decided no command")
	}
	ids := map[string]int{}
	for _, r := range h.history(t) {
		switch e := r.Event.(type) {
		case domain.MessageAppended:
			for _, id := range e.ProviderEventIDs {
				ids[e.ThreadID+"/"+id]++
			}
		case domain.MessageChunkReceived:
			for _, id := range e.ProviderEventIDs {
				ids[e.ThreadID+"/"+id]++
			}
		}
	}
	m := h.model(t)
	for i, tu := range turns {
		var want string
		for d := range sent[i] {
			want += fmt.Sprintf("%05d", d)
			if n := ids[tu[0]+"/"+fmt.Sprint("d", d)]; n != 1 {
				t.Errorf("thread %s: delta d%d stored %d times", tu[0], d, n)
			}
		}
		msgs := m.Threads[tu[0]].Messages
		if len(msgs) != 2 || msgs[1].Text() != want {
			t.Errorf("thread %s: the reply is not every delta once in order", tu[0])
		}
	}
}

// startStoppable starts one more instance, outside h.instances, and
// returns it and what stops it (and waits for it to have stopped).
func (h *harness) startStoppable(t testing.TB, cfg decider.Config, i int) (*decider.Service, func()) {
	t.Helper()
	svc, stop := h.runInstance(t, cfg, fmt.Sprintf("churn%d", i))
	<-svc.Ready()
	return svc, stop
}

// answer serves subject with a command reply carrying turnID, telling
// saw the subject of each request: a stand-in decider.
func answer(t testing.TB, nc *nats.Conn, subject, turnID string, saw func(subject string)) {
	t.Helper()
	sub, err := nc.Subscribe(subject, func(m *nats.Msg) {
		saw(m.Subject)
		body, _ := domain.Marshal(domain.JSON, contract.CommandReply{TurnID: turnID})
		_ = m.RespondMsg(&nats.Msg{Data: body, Header: nats.Header{contract.HeaderContentType: []string{domain.JSON.ContentType()}}})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sub.Unsubscribe() })
	if err := nc.Flush(); err != nil {
		t.Fatal(err)
	}
}

// startedTurns creates a project with n threads, each with a turn
// started, and returns their (thread, turn) ids.
func startedTurns(t testing.TB, c *client.Client, n int) [][2]string {
	t.Helper()
	ctx := context.Background()
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "p", Path: "/p"}))
	turns := make([][2]string, n)
	for i := range turns {
		th := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p.ProjectID}))
		tu := must(t)(c.Send(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"}))
		turns[i] = [2]string{th.ThreadID, tu.TurnID}
	}
	return turns
}

// transient reports whether a failed command may succeed when sent again.
func transient(err error) bool {
	var ce *client.Error
	return errors.As(err, &ce) && ce.Transient()
}
