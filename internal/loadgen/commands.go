package loadgen

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/domain"
)

// Commands runs StartTurn / TurnComplete cycles: each client owns threads
// and alternates starting a turn and completing it (an IngestProviderEvent
// carrying TurnComplete), one command in flight per client, for d. Each
// command appends two events. name labels the figures.
func Commands(ctx context.Context, nc *nats.Conn, name string, clients int, d time.Duration, r *Report) error {
	return commandLoad(ctx, nc, name, clients, d, false, r)
}

// Deltas is the streaming mix straight at the decider: each client streams
// IngestProviderEvent commands of one TextDelta into a turn on its own
// thread (one event each), one command in flight per client, for d.
func Deltas(ctx context.Context, nc *nats.Conn, name string, clients int, d time.Duration, r *Report) error {
	return commandLoad(ctx, nc, name, clients, d, true, r)
}

func commandLoad(ctx context.Context, nc *nats.Conn, name string, clients int, d time.Duration, deltas bool, r *Report) error {
	c := client.New(nc, domain.MessagePack)
	p, err := c.Send(ctx, domain.CreateProject{Name: "bench", Path: fmt.Sprintf("/bench/%s/%d", name, time.Now().UnixNano())})
	if err != nil {
		return fmt.Errorf("create project: %w", err)
	}
	threads := make([]string, clients)
	turns := make([]string, clients)
	refusals := 0
	for i := range threads {
		th, refused, err := createThread(ctx, c, p.ProjectID)
		refusals += refused
		if err != nil {
			return err
		}
		threads[i] = th.ThreadID
		if deltas {
			tu, err := c.Send(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "stream"})
			if err != nil {
				return err
			}
			turns[i] = tu.TurnID
		}
	}
	var (
		mu       sync.Mutex
		all      latencies
		commands atomic.Int64
		failed   atomic.Int64
		wg       sync.WaitGroup
	)
	stop := time.Now().Add(d)
	start := time.Now()
	for i := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var mine latencies
			for n := 0; time.Now().Before(stop) && ctx.Err() == nil; n++ {
				if deltas {
					t := time.Now()
					_, err := c.Send(ctx, domain.IngestProviderEvent{ThreadID: threads[i], TurnID: turns[i], ProviderEventID: fmt.Sprint("d", n),
						Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m", Delta: "token "}}})
					mine = append(mine, time.Since(t))
					if err != nil {
						failed.Add(1)
					}
					commands.Add(1)
					continue
				}
				t := time.Now()
				r, err := c.Send(ctx, domain.StartTurn{ThreadID: threads[i], Text: "bench"})
				mine = append(mine, time.Since(t))
				if err != nil {
					failed.Add(1)
					continue
				}
				t = time.Now()
				_, err = c.Send(ctx, domain.IngestProviderEvent{ThreadID: threads[i], TurnID: r.TurnID,
					ProviderEventID: fmt.Sprint("done-", n), Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{StopReason: "end_turn"}}})
				mine = append(mine, time.Since(t))
				if err != nil {
					failed.Add(1)
				}
				commands.Add(2)
			}
			mu.Lock()
			all = append(all, mine...)
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	if f := failed.Load(); f > 0 {
		return fmt.Errorf("%s: %d commands failed", name, f)
	}
	rate := float64(commands.Load()) / elapsed
	perCommand := 2.0
	if deltas {
		perCommand = 1
	}
	r.Add(Figure{Name: name + ".commands", Value: rate, Unit: "commands/s"})
	r.Add(Figure{Name: name + ".sent", Value: float64(commands.Load()), Unit: "commands"})
	addRefusals(r, name, refusals)
	r.Add(Figure{Name: name + ".events", Value: perCommand * rate, Unit: "events/s"})
	r.Add(Figure{Name: name + ".p50", Value: ms(all.percentile(0.50)), Unit: "ms"})
	r.Add(Figure{Name: name + ".p90", Value: ms(all.percentile(0.90)), Unit: "ms"})
	r.Add(Figure{Name: name + ".p99", Value: ms(all.percentile(0.99)), Unit: "ms"})
	r.Add(Figure{Name: name + ".max", Value: ms(all.percentile(1)), Unit: "ms"})
	return nil
}
