package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/peonhq/peon/internal/simulator"
)

// runSimulate plays fake agents and users against a running Peon.
func runSimulate(ctx context.Context, env *environment, args []string) error {
	fs := newFlags("simulate")
	c := env.addConnFlags(fs)
	threads := fs.Int("threads", 3, "threads to play")
	turns := fs.Int("turns", 0, "turns per thread (0: until interrupted)")
	deltas := fs.Int("deltas", 60, "text deltas per turn")
	rate := fs.Float64("rate", 20, "deltas per second per thread (0: as fast as possible)")
	approvalEvery := fs.Int("approval-every", 3, "every Nth turn asks for approval (0: never)")
	errorEvery := fs.Int("error-every", 0, "every Nth turn fails (0: never)")
	if err := parse(fs, args, env.stderr); err != nil {
		return err
	}
	if err := c.validate(); err != nil {
		return err
	}
	if *threads < 1 || *turns < 0 || *deltas < 1 || *rate < 0 || *approvalEvery < 0 || *errorEvery < 0 {
		return usagef("--threads and --deltas must be positive; --turns, --rate, --approval-every, --error-every not negative")
	}
	nc, err := c.connect("simulate")
	if err != nil {
		return err
	}
	defer drain(nc)
	var played atomic.Int64
	start := time.Now()
	total := *threads * *turns
	err = simulator.Run(ctx, nc, simulator.Config{Threads: *threads, Turns: *turns,
		Script:       simulator.Script{Deltas: *deltas, Rate: *rate, ApprovalEvery: *approvalEvery, ErrorEvery: *errorEvery},
		ApproveAfter: 500 * time.Millisecond,
		Progress: func(string, int) {
			n := played.Add(1)
			if total > 0 {
				fmt.Fprintf(env.stderr, "\r%s turns %d/%d", bar(float64(n)/float64(total)), n, total)
			} else {
				fmt.Fprintf(env.stderr, "\rturns played: %d", n)
			}
		}})
	fmt.Fprintf(env.stderr, "\n%d turns on %d threads in %s\n", played.Load(), *threads, time.Since(start).Round(time.Millisecond))
	if ctx.Err() != nil {
		return nil
	}
	return err
}

// bar draws a progress bar for a fraction in [0, 1].
func bar(f float64) string {
	const width = 30
	n := int(f * width)
	n = min(max(n, 0), width)
	b := make([]byte, width)
	for i := range b {
		b[i] = '.'
		if i < n {
			b[i] = '#'
		}
	}
	return "[" + string(b) + "]"
}
