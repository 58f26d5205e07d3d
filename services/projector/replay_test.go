package projector_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/projector"
)

// TestRebuildEqualsLive: after a workload, folding the stream from sequence
// 1 into fresh buckets gives the live buckets byte for byte.
func TestRebuildEqualsLive(t *testing.T) {
	s := startStack(t)
	last := workload(t, s, 1, 6)
	waitFolded(t, s.JS, 1, last)
	replay(t, s, 2, last)
	sameBuckets(t, s.JS, readmodel.BucketsV(1), readmodel.BucketsV(2))
}

// TestRestartMidStreamAppliesEachEventOnce stops the projector again and
// again while the workload runs (batches in flight are never acked), then
// compares with a replay: nothing applied twice, nothing missed.
func TestRestartMidStreamAppliesEachEventOnce(t *testing.T) {
	s := startBare(t)
	stop := s.StartProjector(t, "p-0", projector.Config{BatchSize: 7})
	done := make(chan uint64, 1)
	go func() {
		defer close(done) // also when the workload fails the test (and exits)
		done <- workload(t, s, 2, 5)
	}()
	var last uint64
	restarts := 0
	for i := 1; last == 0; i++ {
		select {
		case v, ok := <-done:
			if !ok {
				return // the workload failed the test
			}
			last = v
		case <-time.After(150 * time.Millisecond):
			if restarts == 12 {
				continue // enough: let the workload finish
			}
			restarts++
			stop()
			stop = s.StartProjector(t, fmt.Sprint("p-", i), projector.Config{BatchSize: 7})
		}
	}
	t.Logf("%d restarts", restarts)
	waitFolded(t, s.JS, 1, last)
	replay(t, s, 2, last)
	sameBuckets(t, s.JS, readmodel.BucketsV(1), readmodel.BucketsV(2))
}

// TestSecondInstanceTakesOver: two projector instances; the pinned one is
// stopped mid-workload and the other carries on; the result equals a replay.
func TestSecondInstanceTakesOver(t *testing.T) {
	s := startBare(t)
	stopA := s.StartProjector(t, "a", projector.Config{BatchSize: 10})
	s.StartProjector(t, "b", projector.Config{BatchSize: 10})
	s.WaitServing(t)
	half := workload(t, s, 3, 3)
	waitFolded(t, s.JS, 1, half)
	stopA() // whichever was pinned, one is left
	last := workload(t, s, 4, 3)
	waitFolded(t, s.JS, 1, last)
	replay(t, s, 2, last)
	sameBuckets(t, s.JS, readmodel.BucketsV(1), readmodel.BucketsV(2))
}

// TestPoisonEventIsParkedOnce publishes an undecodable event straight into
// the stream: it is parked with a record, not redelivered, and the
// projection goes on folding what comes after it.
func TestPoisonEventIsParkedOnce(t *testing.T) {
	s := startStack(t)
	p := s.Send(t, domain.CreateProject{Name: "a", Path: "/a"}).ProjectID
	msg := &nats.Msg{Subject: contract.ProjectSubject(p), Data: []byte(`{"type":"Nope","v":1,"data":{}}`), Header: nats.Header{}}
	msg.Header.Set(contract.HeaderContentType, domain.ContentTypeJSON)
	ack, err := s.JS.PublishMsg(context.Background(), msg)
	if err != nil {
		t.Fatal(err)
	}
	last := s.Send(t, domain.RenameProject{ProjectID: p, Name: "after"}).LastSequence
	waitFolded(t, s.JS, 1, last)
	meta := mustKV(t, s, contract.BucketMeta)
	for _, proj := range readmodel.All {
		e, err := meta.Get(context.Background(), contract.MetaParkedPrefix+proj.Key(1)+"."+itoa(ack.Sequence))
		if err != nil {
			t.Fatalf("%s: no parked record: %v", proj.Name, err)
		}
		var rec contract.ParkedRecord
		if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil || rec.Sequence != ack.Sequence || rec.Reason == "" {
			t.Fatalf("parked record %+v %v", rec, err)
		}
		cons, _ := s.JS.Consumer(context.Background(), contract.EventStream, proj.ConsumerName(1))
		info, _ := cons.Info(context.Background())
		if info.NumAckPending != 0 || info.NumRedelivered != 0 {
			t.Fatalf("%s: poison still pending (%d) or redelivered (%d)", proj.Name, info.NumAckPending, info.NumRedelivered)
		}
	}
	var pr struct {
		Project domain.ProjectState `json:"project"`
	}
	s.QueryRaw(t, "project.get", map[string]any{"project_id": p}, &pr)
	if pr.Project.Name != "after" {
		t.Fatalf("projection stalled at the poison event: %+v", pr.Project)
	}
}

// TestRebuildSwitchesReaders: a rebuild while the live projection runs
// makes the new version live; the running projector and query service
// follow it, and new writes show up through queries.
func TestRebuildSwitchesReaders(t *testing.T) {
	s := startStack(t)
	last := workload(t, s, 5, 2)
	waitFolded(t, s.JS, 1, last)
	err := projector.Rebuild(context.Background(), s.JS, s.Log, 2, last, 0, func(uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := readmodel.CurrentVersion(context.Background(), s.JS); v != 2 {
		t.Fatalf("current version %d", v)
	}
	p := s.Send(t, domain.CreateProject{Name: "after the switch", Path: "/after"})
	var pr struct {
		Project domain.ProjectState `json:"project"`
	}
	for range 100 { // the query service switches asynchronously
		if err := s.Client.QueryRaw(context.Background(), "project.get", map[string]any{"project_id": p.ProjectID, "min_sequence": p.LastSequence}, &pr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if pr.Project.Name != "after the switch" {
		t.Fatalf("project after switch: %+v", pr.Project)
	}
	if _, err := mustKV(t, s, readmodel.BucketsV(2).Projects).Get(context.Background(), p.ProjectID); err != nil {
		t.Fatalf("the live projector did not move to v2: %v", err)
	}
}
