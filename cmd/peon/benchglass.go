package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/loadgen"
)

// glass runs the time-to-glass scenario once per rate, each run followed
// by its raw baseline at the same rate on the same server, and reports
// the highest rate whose p99 met the target.
func (b *benchStack) glass(ctx context.Context, sizes benchSizes, like jetstream.StreamConfig, r *loadgen.Report) error {
	if err := b.setDeciders(ctx, b.streamDeciders); err != nil {
		return err
	}
	var loads []loadgen.GlassLoad
	for _, rate := range sizes.glassRates {
		g := loadgen.GlassLoad{Agents: sizes.glassAgents, Rate: rate, Duration: sizes.glassFor}
		b.say("%s: %d agents streaming %.4g deltas/s each for %s, publish to visible in the read model",
			g.Name(), g.Agents, float64(rate)/float64(g.Agents), g.Duration)
		err := b.measureCPU(g.Name(), "delta", r, func() float64 { return float64(g.Sent()) }, func() error {
			return loadgen.Glass(ctx, b.admin, g, r)
		})
		if err != nil {
			return fmt.Errorf("glass: %w", err)
		}
		b.say("%s: raw JetStream publish to read at %d msgs/s", g.RawName(), rate)
		if err := loadgen.GlassRaw(ctx, b.js, like, g, r); err != nil {
			return fmt.Errorf("glass: %w", err)
		}
		loadgen.CompareGlass(r, g)
		loads = append(loads, g)
	}
	loadgen.AddGlassHighest(r, loads)
	return nil
}

// parseGlassRates reads --glass-rates: positive deltas per second,
// comma-separated, each run once.
func parseGlassRates(s string) ([]int, error) {
	var rates []int
	seen := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(part))
		if err != nil || n < 1 || n > 1_000_000 {
			return nil, usagef("--glass-rates %q: want deltas per second within 1..1000000, comma-separated", s)
		}
		if !seen[n] {
			seen[n] = true
			rates = append(rates, n)
		}
	}
	return rates, nil
}
