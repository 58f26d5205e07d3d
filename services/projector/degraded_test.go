package projector_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

// statusUntil asks for status until ok says it is the one awaited.
func statusUntil(t *testing.T, s *peontest.Stack, what string, ok func(contract.StatusReply) bool) contract.StatusReply {
	t.Helper()
	var st contract.StatusReply
	for range 1500 {
		var err error
		if st, err = s.Client.Status(t.Context(), contract.StatusQuery{}); err == nil && ok(st) {
			return st
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("status never showed %s: %+v", what, st)
	return st
}

// TestParkedCountSurvivesRestartAndHandover: the parked count is taken
// from the parked records, so a restarted instance, and one taking over
// from another, still report the event parked before they started.
func TestParkedCountSurvivesRestartAndHandover(t *testing.T) {
	s := startBare(t)
	first := s.StartProjectorInstance(t, "p1", projector.Config{})
	p := s.Send(t, domain.CreateProject{Name: "a", Path: "/a"}).ProjectID
	if _, err := s.JS.Publish(t.Context(), contract.ProjectSubject(p), []byte("garbage")); err != nil {
		t.Fatal(err)
	}
	last := s.Send(t, domain.RenameProject{ProjectID: p, Name: "b"}).LastSequence
	parkedOnce := func(st contract.StatusReply) bool {
		for _, ps := range st.Projections {
			if ps.LastFolded < last || ps.Parked != 1 || !ps.Degraded {
				return false
			}
		}
		return len(st.Projections) == len(readmodel.All)
	}
	statusUntil(t, s, "the event parked", parkedOnce)
	first.Stop()

	// A restart: the first fold after it writes progress again.
	second := s.StartProjectorInstance(t, "p2", projector.Config{})
	last = s.Send(t, domain.RenameProject{ProjectID: p, Name: "c"}).LastSequence
	statusUntil(t, s, "the parked count after a restart", parkedOnce)

	// A handover: a third instance takes over from the second, killed.
	third := s.StartProjectorInstance(t, "p3", projector.Config{})
	second.Kill()
	last = s.Send(t, domain.RenameProject{ProjectID: p, Name: "d"}).LastSequence
	statusUntil(t, s, "the parked count after a handover", parkedOnce)
	third.Stop()
}

// TestProjectionThatCannotWriteIsDegraded: when the server refuses the
// projector's writes, status says degraded with the server's reason,
// min_sequence queries on it fail with the reason instead of a bare
// timeout, and once writes are accepted again it recovers by itself.
func TestProjectionThatCannotWriteIsDegraded(t *testing.T) {
	s := startStack(t)
	threads := readmodel.BucketsV(1).Threads
	limitValues := func(n int32) {
		t.Helper()
		kv := mustKV(t, s, threads)
		st, err := kv.Status(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		cfg := st.(*jetstream.KeyValueBucketStatus).StreamInfo().Config
		cfg.MaxMsgSize = n
		if _, err := s.JS.UpdateStream(t.Context(), cfg); err != nil {
			t.Fatal(err)
		}
	}
	p := s.Send(t, domain.CreateProject{Name: "a", Path: "/a"}).ProjectID
	limitValues(256)
	th := s.Send(t, domain.CreateThread{ProjectID: p, Title: strings.Repeat("t", 1000)})

	st := statusUntil(t, s, "the catalog degraded", func(st contract.StatusReply) bool { return st.Projections["catalog"].Degraded })
	if reason := st.Projections["catalog"].Reason; !strings.Contains(reason, "write batch") {
		t.Fatalf("degraded without the write's reason: %q", reason)
	}
	_, err := s.Client.Thread(t.Context(), contract.ThreadGet{ThreadID: th.ThreadID, MinSequence: th.LastSequence})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != contract.CodeUnavailable || !strings.Contains(ce.Message, "degraded") {
		t.Fatalf("min_sequence on a degraded projection: %v", err)
	}

	limitValues(-1)
	got, err := s.Client.Thread(t.Context(), contract.ThreadGet{ThreadID: th.ThreadID, MinSequence: th.LastSequence})
	for range 300 {
		if err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
		got, err = s.Client.Thread(t.Context(), contract.ThreadGet{ThreadID: th.ThreadID, MinSequence: th.LastSequence})
	}
	if err != nil || len(got.Title) != 1000 {
		t.Fatalf("after writes are accepted again: %v", err)
	}
	statusUntil(t, s, "the catalog healthy again", func(st contract.StatusReply) bool { return !st.Projections["catalog"].Degraded })
}

// TestProgressPastTheStreamEnd: a read model whose progress is past the
// stream's end was not folded from this stream (two servers on one data
// directory, a recreated stream). The projector marks it, status says so,
// and min_sequence queries are refused, even once the stream grows past
// the recorded progress.
func TestProgressPastTheStreamEnd(t *testing.T) {
	s := startBare(t)
	p := s.Send(t, domain.CreateProject{Name: "a", Path: "/a"})
	meta := mustKV(t, s, contract.BucketMeta)
	bogus := contract.ProgressRecord{Projection: "catalog", LastFolded: p.LastSequence + 3, Seq: p.LastSequence + 3}
	value, _ := domain.Marshal(domain.MessagePack, bogus)
	if _, err := meta.Put(t.Context(), contract.MetaProgressPrefix+"catalog", value); err != nil {
		t.Fatal(err)
	}
	s.StartProjector(t, "p0", projector.Config{})
	for i := 0; ; i++ { // the projector marks it when it starts
		e, err := meta.Get(t.Context(), contract.MetaProgressPrefix+"catalog")
		var rec contract.ProgressRecord
		if err == nil && domain.Unmarshal(domain.MessagePack, e.Value(), &rec) == nil && rec.PastStreamEnd {
			break
		}
		if i == 1500 {
			t.Fatalf("progress never marked past the stream's end: %+v", rec)
		}
		time.Sleep(20 * time.Millisecond)
	}
	st := statusUntil(t, s, "progress past the stream's end", func(st contract.StatusReply) bool {
		return strings.Contains(st.Projections["catalog"].Reason, "past the stream's end")
	})
	if !st.Projections["catalog"].Degraded {
		t.Fatalf("status: %+v", st.Projections["catalog"])
	}
	// The stream grows past the recorded progress: still refused.
	var last uint64
	for i := range 5 {
		last = s.Send(t, domain.RenameProject{ProjectID: p.ProjectID, Name: "n" + itoa(uint64(i))}).LastSequence
	}
	if last <= bogus.LastFolded {
		t.Fatalf("the stream did not pass the progress: %d", last)
	}
	_, err := s.Client.Project(context.Background(), contract.ProjectGet{ProjectID: p.ProjectID, MinSequence: last})
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != contract.CodeUnavailable || !strings.Contains(ce.Message, "past the stream's end") {
		t.Fatalf("min_sequence on a projection past the stream's end: %v", err)
	}
}

// TestLostConsumerStopsTheProjector: a projection whose durable consumer
// is deleted under it cannot go on; the projector returns the failure
// instead of waiting for events that will never come.
func TestLostConsumerStopsTheProjector(t *testing.T) {
	s := startBare(t)
	nc, err := nats.Connect(s.Srv.ClientURL())
	if err != nil {
		t.Fatal(err)
	}
	defer nc.Close()
	svc, err := projector.New(nc, projector.Config{Instance: "p0", Version: 1}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("Run returned before it was ready: %v", err)
	}
	last := s.Send(t, domain.CreateProject{Name: "a", Path: "/a"}).LastSequence
	waitFolded(t, s.JS, 1, last)
	if err := s.JS.DeleteConsumer(t.Context(), contract.EventStream, readmodel.Catalog.ConsumerName(1)); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "catalog") {
			t.Fatalf("projector stopped with %v", err)
		}
	case <-time.After(60 * time.Second):
		t.Fatal("the projector went on without its consumer")
	}
}

// TestDefaultConfigIsValid: every default is within Validate's bounds, and
// a bad configuration is reported whole.
func TestDefaultConfigIsValid(t *testing.T) {
	if err := projector.DefaultConfig().Validate(); err != nil {
		t.Fatal(err)
	}
	err := projector.Config{Version: -1, BatchSize: 20_000, RetryDelay: -time.Second}.Validate()
	for _, want := range []string{"version -1", "batch size 20000", "retry delay"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("Validate() = %v, want it to say %q", err, want)
		}
	}
}
