package main

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/peonhq/peon/internal/simulator"
)

// simulateCmd plays fake agents and users against a running Peon.
type simulateCmd struct {
	NATS          natsFlags `embed:""`
	Threads       int       `default:"${sim_threads}" help:"threads to play"`
	Turns         int       `default:"${sim_turns}" help:"turns per thread (0: until interrupted)"`
	Deltas        int       `default:"${sim_deltas}" help:"text deltas per turn"`
	Rate          float64   `default:"${sim_rate}" help:"deltas per second per thread (0: as fast as possible)"`
	ApprovalEvery int       `default:"${sim_approval_every}" help:"every Nth turn asks for approval (0: never)"`
	ErrorEvery    int       `default:"${sim_error_every}" help:"every Nth turn fails (0: never)"`
	JSON          bool      `name:"json" help:"print the result as JSON"`
}

func (c *simulateCmd) config() simulator.Config {
	cfg := simulator.DefaultConfig()
	cfg.Threads, cfg.Turns = c.Threads, c.Turns
	cfg.Script = simulator.Script{Deltas: c.Deltas, Rate: c.Rate, ApprovalEvery: c.ApprovalEvery, ErrorEvery: c.ErrorEvery}
	return cfg
}

func (c *simulateCmd) Run(ctx context.Context, env *environment) error {
	cfg := c.config()
	if err := problems(append(c.NATS.check(), cfg.Validate())...); err != nil {
		return err
	}
	nc, err := c.NATS.connect("simulate", defaultInstance())
	if err != nil {
		return err
	}
	defer drain(nc)
	var played atomic.Int64
	start := time.Now()
	total := c.Threads * c.Turns
	bar := newProgress(env, "simulate")
	cfg.Progress = func(string, int) {
		n := played.Add(1)
		if total > 0 {
			bar.fraction(float64(n)/float64(total), fmt.Sprintf("turns %d/%d", n, total))
		} else {
			bar.say("turns played: %d", n)
		}
	}
	sim, err := simulator.New(nc, cfg)
	if err != nil {
		return err
	}
	err = sim.Run(ctx)
	bar.done()
	elapsed := time.Since(start)
	if ctx.Err() == nil && err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.stdout, map[string]any{"turns": played.Load(), "threads": c.Threads, "seconds": elapsed.Seconds()})
	}
	fmt.Fprintf(env.stderr, "%d turns on %d threads in %s\n", played.Load(), c.Threads, elapsed.Round(time.Millisecond))
	return nil
}
