package ingest_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
)

func stack(t *testing.T) *peontest.Stack {
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.WaitServing(t)
	return s
}

// turn creates a project, a thread and starts a turn.
func turn(t *testing.T, s *peontest.Stack) (thread, turnID string) {
	p := s.Send(t, domain.CreateProject{Name: "p", Path: fmt.Sprintf("/p/%d", time.Now().UnixNano())}).ProjectID
	thread = s.Send(t, domain.CreateThread{ProjectID: p}).ThreadID
	return thread, s.Send(t, domain.StartTurn{ThreadID: thread, Text: "go"}).TurnID
}

// waitTurnEnd waits until the read model shows the thread idle again.
func waitTurnEnd(t *testing.T, s *peontest.Stack, thread string) *domain.ThreadState {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for time.Now().Before(deadline) {
		var r contract.ThreadReply
		if err := s.Client.Query(context.Background(), contract.ThreadGet{ThreadID: thread}, &r); err == nil &&
			r.Thread.ActiveTurnID == "" && len(r.Thread.Turns) > 0 {
			return r.Thread
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("turn never ended")
	return nil
}

func transcript(t *testing.T, s *peontest.Stack, thread, message string) string {
	t.Helper()
	var r contract.MessagesReply
	s.Query(t, contract.ThreadMessages{ThreadID: thread, Limit: 1000}, &r)
	for _, m := range r.Messages {
		if m.MessageID == message {
			return m.Text
		}
	}
	t.Fatalf("no message %s", message)
	return ""
}

// TestLongTurnKeepsExactText streams 10 000 deltas (about 280 KB, so the
// message is stored in several segments); the transcript is the exact
// concatenation, in order.
func TestLongTurnKeepsExactText(t *testing.T) {
	s := stack(t)
	s.StartIngest(t, "i0", ingest.Config{})
	thread, u := turn(t, s)
	var want strings.Builder
	for i := range 10_000 {
		d := fmt.Sprintf("%d: some streamed words ", i)
		want.WriteString(d)
		s.Publish(t, thread, u, fmt.Sprint("e", i), domain.TextDelta{MessageID: "a", Delta: d})
	}
	s.Publish(t, thread, u, "end", domain.TurnComplete{StopReason: "end_turn"})
	th := waitTurnEnd(t, s, thread)
	if th.Turns[0].Status != domain.TurnStatusCompleted {
		t.Fatalf("turn %+v", th.Turns[0])
	}
	if got := transcript(t, s, thread, "a"); got != want.String() {
		t.Fatalf("transcript differs: %d bytes, want %d", len(got), want.Len())
	}
}

// TestRedeliveryNeverDuplicates stops and restarts ingest while a turn
// streams, and publishes some events twice: the text is exact.
func TestRedeliveryNeverDuplicates(t *testing.T) {
	s := stack(t)
	stop := s.StartIngest(t, "i0", ingest.Config{MaxBatch: 16})
	thread, u := turn(t, s)
	var want strings.Builder
	for i := range 3000 {
		d := fmt.Sprintf("<%d>", i)
		want.WriteString(d)
		s.Publish(t, thread, u, fmt.Sprint("e", i), domain.TextDelta{MessageID: "a", Delta: d})
		if i%1000 == 250 {
			stop() // in-flight batches are given back unacked
			stop = s.StartIngest(t, fmt.Sprint("i", i), ingest.Config{MaxBatch: 16})
		}
		if i%700 == 0 { // the same provider event again, past the stream's dedup (new Msg-Id)
			s.PublishAs(t, fmt.Sprint("again-", i), thread, u, fmt.Sprint("e", i), domain.TextDelta{MessageID: "a", Delta: d})
		}
	}
	s.Publish(t, thread, u, "end", domain.TurnComplete{})
	waitTurnEnd(t, s, thread)
	if got := transcript(t, s, thread, "a"); got != want.String() {
		i := 0
		for i < len(got) && i < want.Len() && got[i] == want.String()[i] {
			i++
		}
		from := max(i-60, 0)
		t.Fatalf("transcript differs at byte %d:\n got …%.160s\nwant …%.160s", i, got[from:], want.String()[from:])
	}
}

// TestStaleEventsAreRecordedNotApplied: events for a finished turn are
// acked and recorded in the rejections bucket.
func TestStaleEventsAreRecordedNotApplied(t *testing.T) {
	s := stack(t)
	s.StartIngest(t, "i0", ingest.Config{})
	thread, u := turn(t, s)
	s.Publish(t, thread, u, "1", domain.TextDelta{MessageID: "a", Delta: "done"})
	s.Publish(t, thread, u, "2", domain.TurnComplete{})
	waitTurnEnd(t, s, thread)
	s.Publish(t, thread, u, "3", domain.TextDelta{MessageID: "a", Delta: " late"})
	kv, err := s.JS.KeyValue(context.Background(), contract.BucketIngestRejections)
	if err != nil {
		t.Fatal(err)
	}
	var rec contract.RejectionRecord
	for range 500 {
		if e, err := kv.Get(context.Background(), thread+".3"); err == nil {
			if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
				t.Fatal(err)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rec.Code != string(domain.CodeStaleProviderEvent) || rec.ThreadID != thread {
		t.Fatalf("rejection record %+v", rec)
	}
	cons, _ := s.JS.Consumer(context.Background(), contract.ProviderStream, provision.IngestConsumer)
	info, _ := cons.Info(context.Background())
	if info.NumAckPending != 0 || info.NumPending != 0 {
		t.Fatalf("stale event still pending: %+v", info)
	}
	if got := transcript(t, s, thread, "a"); got != "done" {
		t.Fatalf("transcript %q", got)
	}
}

// TestTwoInstancesKeepPerThreadOrder: two ingest instances, many threads
// streaming at once: every transcript is exact.
func TestTwoInstancesKeepPerThreadOrder(t *testing.T) {
	s := stack(t)
	s.StartIngest(t, "i0", ingest.Config{Workers: 4, MaxBatch: 8})
	s.StartIngest(t, "i1", ingest.Config{Workers: 4, MaxBatch: 8})
	type th struct{ id, turn string }
	var threads []th
	for range 8 {
		id, u := turn(t, s)
		threads = append(threads, th{id, u})
	}
	want := map[string]*strings.Builder{}
	for i := range 400 {
		for _, x := range threads {
			if want[x.id] == nil {
				want[x.id] = &strings.Builder{}
			}
			d := fmt.Sprintf("%d,", i)
			want[x.id].WriteString(d)
			s.Publish(t, x.id, x.turn, fmt.Sprint(i), domain.TextDelta{MessageID: "a", Delta: d})
		}
	}
	for _, x := range threads {
		s.Publish(t, x.id, x.turn, "end", domain.TurnComplete{})
	}
	for _, x := range threads {
		waitTurnEnd(t, s, x.id)
		if got := transcript(t, s, x.id, "a"); got != want[x.id].String() {
			t.Fatalf("thread %s: transcript out of order", x.id)
		}
	}
}
