package main

import (
	"context"
	"fmt"
	"time"

	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/services/projector"
)

// runRebuild replays the event stream into a fresh read-model version, then
// switches readers to it (current.<bucket> in peon_meta).
func runRebuild(ctx context.Context, env *environment, args []string) error {
	fs := newFlags("projector rebuild")
	c := env.addConnFlags(fs)
	version := fs.Int("version", 0, "version to build (default: the current one plus one)")
	partitions := fs.Int("transcript-partitions", 0, "split the new version's transcript this many ways (default: as the live version)")
	if err := parse(fs, args, env.stderr); err != nil {
		return err
	}
	if *partitions < 0 || *partitions > readmodel.MaxTranscriptPartitions {
		return usagef("--transcript-partitions must be within 1..%d", readmodel.MaxTranscriptPartitions)
	}
	if err := c.validate(); err != nil {
		return err
	}
	if *version < 0 || *version == 1 {
		return usagef("--version must be 2 or more")
	}
	nc, js, err := c.connectJS("rebuild")
	if err != nil {
		return err
	}
	defer drain(nc)
	log := c.logger(env.stderr)
	current, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return unavailableError{err}
	}
	if *version == 0 {
		*version = current + 1
	}
	stream, err := js.Stream(ctx, contract.EventStream)
	if err != nil {
		return unavailableError{err}
	}
	info, err := stream.Info(ctx)
	if err != nil {
		return unavailableError{err}
	}
	target := info.State.LastSeq
	start := time.Now()
	err = projector.Rebuild(ctx, js, log, *version, target, *partitions, func(folded uint64) {
		if target > 0 {
			fmt.Fprintf(env.stderr, "\r%s %d/%d events", bar(float64(folded)/float64(target)), folded, target)
		}
	})
	fmt.Fprintln(env.stderr)
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	fmt.Fprintf(env.stdout, "read model v%d built from %d events in %s (%.0f events/s); readers switched from v%d\n",
		*version, target, elapsed.Round(time.Millisecond), float64(target)/elapsed.Seconds(), current)
	return nil
}
