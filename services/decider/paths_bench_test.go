package decider_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/google/uuid"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// BenchmarkCommandPaths measures what each path of a command costs, in
// time and in JetStream round trips (trips/op, from the instances' stats),
// on an embedded server: the common path (a warm thread, no client command
// id) and each path that adds round trips to it. docs/architecture.md
// lists them with these figures.
//
//	go test ./services/decider -run '^$' -bench CommandPaths -benchtime 2000x
func BenchmarkCommandPaths(b *testing.B) {
	delta := func(thread, turn string, n int) domain.IngestProviderEvent {
		return domain.IngestProviderEvent{ThreadID: thread, TurnID: turn, ProviderEventID: fmt.Sprint("d", n),
			Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m", Delta: "x"}}}
	}
	paths := []struct {
		name string
		// instances and cache entries of the harness
		instances, cache int
		// threads is how many threads the commands go round
		threads int
		cmd     func(thread, turn string, n int) domain.Command
		// on picks the instance that decides command n
		on func(n int) int
	}{
		// The common path: the request, one append, the reply.
		{"warm", 1, 0, 1, func(th, tu string, n int) domain.Command { return delta(th, tu, n) }, first},
		// A client command id is claimed in peon_command_ids first.
		{"warm_client_command_id", 1, 0, 1, func(th, tu string, n int) domain.Command {
			d := delta(th, tu, n)
			d.CommandID = uuid.NewString()
			return d
		}, first},
		// Thread not in the cache: its events are read first.
		{"cold", 1, 1, 2, func(th, tu string, n int) domain.Command { return delta(th, tu, n) }, first},
		// A rejection on cached state is confirmed against the leader.
		{"rejected", 1, 0, 1, func(th, _ string, _ int) domain.Command {
			return domain.RejectPendingAction{ThreadID: th, RequestID: "none"}
		}, first},
		// Two instances alternate on one thread: each append is refused
		// (the other moved the thread on), caught up and made again. What
		// routing by aggregate avoids.
		{"conflict", 2, 0, 1, func(th, tu string, n int) domain.Command { return delta(th, tu, n) }, func(n int) int { return n % 2 }},
	}
	for _, p := range paths {
		b.Run(p.name, func(b *testing.B) {
			h := start(b, p.instances, decider.Config{CacheEntries: p.cache}, eventstore.DefaultStreamConfig())
			ctx := context.Background()
			d := h.instances[0]
			pr := must(b)(d.Execute(ctx, domain.CreateProject{Name: "p", Path: "/p"}))
			var threads [][2]string
			for range p.threads {
				th := must(b)(d.Execute(ctx, domain.CreateThread{ProjectID: pr.ProjectID}))
				tu := must(b)(d.Execute(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"}))
				threads = append(threads, [2]string{th.ThreadID, tu.TurnID})
			}
			before := h.sum()
			b.ResetTimer()
			for n := range b.N {
				t := threads[n%len(threads)]
				_, err := h.instances[p.on(n)].Execute(ctx, p.cmd(t[0], t[1], n))
				var de *domain.DeciderError
				switch {
				case p.name == "rejected" && (!errors.As(err, &de) || de.Code != domain.CodePendingActionNotFound):
					b.Fatalf("want pending_action_not_found, got %v", err)
				case p.name != "rejected" && err != nil:
					b.Fatal(err)
				}
			}
			b.StopTimer()
			after := h.sum()
			b.ReportMetric(float64(after.JetStreamRequests-before.JetStreamRequests)/float64(b.N), "trips/op")
		})
	}
}

func first(int) int { return 0 }
