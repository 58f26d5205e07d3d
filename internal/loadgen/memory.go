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

// Memory drives about `events` events through the decider over `threads`
// threads — per thread a StartTurn, then IngestProviderEvent batches of
// ToolCall events (one event each, not coalesced) — and reports the Go heap
// in use and the decider's cache accounting, beside the cache limit. Run it
// in the process that hosts the decider.
func Memory(ctx context.Context, nc *nats.Conn, events, threads int, cacheLimit int64, cached func() int64, r *Report) error {
	c := client.New(nc, domain.MessagePack)
	p, err := c.Send(ctx, domain.CreateProject{Name: "bench", Path: fmt.Sprintf("/bench/memory/%d", time.Now().UnixNano())})
	if err != nil {
		return err
	}
	heapBefore := heapInUse()
	perThread := max(events/threads-2, 1)
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(32)
	for range threads {
		g.Go(func() error {
			th, _, err := createThread(gctx, c, p.ProjectID)
			if err != nil {
				return err
			}
			tu, err := c.Send(gctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "memory"})
			if err != nil {
				return err
			}
			for done := 0; done < perThread; {
				cmd := domain.IngestProviderEvent{ThreadID: th.ThreadID, TurnID: tu.TurnID}
				for ; len(cmd.Events) < domain.MaxIngestBatch && done < perThread; done++ {
					cmd.Events = append(cmd.Events, domain.ProviderEventBatchItem{ProviderEventID: fmt.Sprint("e", done),
						Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ToolCall{ToolCallID: fmt.Sprint("tc", done), Name: "read_file",
							Input: map[string]any{"path": "src/handler.go"}}}})
				}
				if _, err := c.Send(gctx, cmd); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return fmt.Errorf("memory scenario: %w", err)
	}
	appended := threads * (perThread + 3) // ThreadCreated, TurnStarted, ThreadStatusChanged, the tool calls
	if r == nil {
		return nil // the caller reports the memory of other processes
	}
	heapAfter := heapInUse()
	r.Add(Figure{Name: "memory.events", Value: float64(appended), Unit: "events"})
	r.Add(Figure{Name: "memory.threads", Value: float64(threads), Unit: "threads"})
	r.Add(Figure{Name: "memory.decider_cache", Value: float64(cached()) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.decider_cache_limit", Value: float64(cacheLimit) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.heap_before", Value: float64(heapBefore) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.heap_after", Value: float64(heapAfter) / (1 << 20), Unit: "MiB"})
	r.Add(Figure{Name: "memory.process_rss", Value: float64(RSS(0)) / (1 << 20), Unit: "MiB"})
	return nil
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapInuse
}

// RSS reads a process's resident set size from /proc (pid 0: this
// process; 0 where /proc is not there).
func RSS(pid int) uint64 {
	path := "/proc/self/status"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/status"
	}
	b, err := os.ReadFile(path)
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
