package main

import (
	"context"
	"fmt"
	"time"

	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/services/projector"
)

// projectorCmd is the projector role, and its rebuild.
type projectorCmd struct {
	Serve   projectorRunCmd `cmd:"" default:"withargs" hidden:"" help:"Fold events into the read-model buckets."`
	Rebuild rebuildCmd      `cmd:"" help:"Replay the event stream into a fresh read-model version, then switch readers to it (admin)."`
}

// rebuildCmd replays the event stream into a fresh read-model version,
// then switches readers to it (current.<bucket> in peon_meta).
type rebuildCmd struct {
	NATS                 natsFlags `embed:""`
	Log                  logFlags  `embed:""`
	Version              int       `help:"version to build (default: the live one plus one)"`
	TranscriptPartitions int       `help:"split the new version's transcript this many ways (default: as the live version)"`
	JSON                 bool      `name:"json" help:"print the result as JSON"`
}

func (c *rebuildCmd) check() []error {
	errs := append(c.NATS.check(), c.Log.check()...)
	if c.TranscriptPartitions < 0 || c.TranscriptPartitions > readmodel.MaxTranscriptPartitions {
		errs = append(errs, fmt.Errorf("--transcript-partitions %d is not within 1..%d", c.TranscriptPartitions, readmodel.MaxTranscriptPartitions))
	}
	if c.Version < 0 || c.Version == 1 {
		errs = append(errs, fmt.Errorf("--version %d: a rebuild writes version 2 or more", c.Version))
	}
	return errs
}

func (c *rebuildCmd) Run(ctx context.Context, env *environment) error {
	if err := problems(c.check()...); err != nil {
		return err
	}
	nc, js, err := c.NATS.connectJS("rebuild", defaultInstance())
	if err != nil {
		return err
	}
	defer drain(nc)
	log := c.Log.logger(env)
	current, err := readmodel.CurrentVersion(ctx, js)
	if err != nil {
		return unavailableError{err}
	}
	version := c.Version
	if version == 0 {
		version = current + 1
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
	bar := newProgress(env, "rebuild")
	err = projector.Rebuild(ctx, js, log, version, target, c.TranscriptPartitions, func(folded uint64) {
		bar.fraction(float64(folded)/float64(max(target, 1)), fmt.Sprintf("%d/%d events", folded, target))
	})
	bar.done()
	if err != nil {
		return err
	}
	elapsed := time.Since(start)
	if c.JSON {
		return printJSON(env.stdout, map[string]any{"version": version, "previous_version": current, "events": target,
			"seconds": elapsed.Seconds()})
	}
	fmt.Fprintf(env.stdout, "read model v%d built from %d events in %s (%.0f events/s); readers switched from v%d\n",
		version, target, elapsed.Round(time.Millisecond), float64(target)/elapsed.Seconds(), current)
	return nil
}
