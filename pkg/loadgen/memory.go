package loadgen

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/domain"
	"golang.org/x/sync/errgroup"
)

// Memory drives `events` events through the decider over `threads` threads
// (StartTurn / TurnComplete cycles: 4 events each) and reports the Go heap
// in use and the decider's cache accounting before and after, beside the
// cache limit. Run in the process that hosts the decider.
func Memory(ctx context.Context, nc *nats.Conn, events, threads int, cacheLimit int64, cached func() int64, r *Report) error {
	c := client.New(nc, domain.MessagePack)
	p, err := c.Send(ctx, domain.CreateProject{Name: "bench", Path: fmt.Sprintf("/bench/memory/%d", time.Now().UnixNano())})
	if err != nil {
		return err
	}
	ids := make([]string, threads)
	for i := range ids {
		th, err := c.Send(ctx, domain.CreateThread{ProjectID: p.ProjectID})
		if err != nil {
			return err
		}
		ids[i] = th.ThreadID
	}
	heapBefore := heapInUse()
	cycles := events / 4
	// Rounds: every thread plays one cycle per round, 64 at a time, so a
	// thread never has two turns in flight.
	for done := 0; done < cycles; {
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(64)
		for i := 0; i < threads && done < cycles; i, done = i+1, done+1 {
			th := ids[i]
			g.Go(func() error {
				tu, err := c.Send(gctx, domain.StartTurn{ThreadID: th, Text: "memory"})
				if err != nil {
					return err
				}
				_, err = c.Send(gctx, domain.IngestProviderEvent{ThreadID: th, TurnID: tu.TurnID, ProviderEventID: "end",
					Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{}}})
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return fmt.Errorf("memory scenario: %w", err)
		}
	}
	heapAfter := heapInUse()
	r.Add(Figure{Name: "memory.events", Value: float64(cycles * 4), Unit: "events"})
	r.Add(Figure{Name: "memory.threads", Value: float64(threads), Unit: "threads"})
	r.Add(Figure{Name: "memory.decider_cache", Value: float64(cached()) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.decider_cache_limit", Value: float64(cacheLimit) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.heap_before", Value: float64(heapBefore) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.heap_after", Value: float64(heapAfter) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.process_rss", Value: float64(rss()) / (1 << 20), Unit: "MiB"})
	return nil
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// rss reads the process's resident set size from /proc (0 elsewhere).
func rss() uint64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseUint(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb << 10
		}
	}
	return 0
}
