package main

import (
	"context"
	"fmt"

	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/readmodel"
)

// setupCmd provisions streams, buckets and consumers.
type setupCmd struct {
	NATS                 natsFlags `embed:""`
	Replicas             int       `default:"${replicas}" help:"replicas of every stream and bucket: 1, 3 or 5 (3 on a cluster)"`
	TranscriptPartitions int       `default:"${partitions}" help:"split the transcript projection this many ways (1-64), so that many projector instances share the streaming load; fixed for a read-model version (change it with a rebuild)"`
	JSON                 bool      `name:"json" help:"print the result as JSON"`
}

func (c *setupCmd) check() []error {
	errs := c.NATS.check()
	if c.Replicas != 1 && c.Replicas != 3 && c.Replicas != 5 {
		errs = append(errs, fmt.Errorf("--replicas %d is not 1, 3 or 5", c.Replicas))
	}
	if c.TranscriptPartitions < 1 || c.TranscriptPartitions > readmodel.MaxTranscriptPartitions {
		errs = append(errs, fmt.Errorf("--transcript-partitions %d is not within 1..%d", c.TranscriptPartitions, readmodel.MaxTranscriptPartitions))
	}
	return errs
}

func (c *setupCmd) Run(ctx context.Context, env *environment) error {
	if err := problems(c.check()...); err != nil {
		return err
	}
	nc, js, err := c.NATS.connectJS("setup", defaultInstance())
	if err != nil {
		return err
	}
	defer nc.Close()
	if err := provision.Run(ctx, js, provision.Options{Replicas: c.Replicas, TranscriptPartitions: c.TranscriptPartitions}); err != nil {
		return err
	}
	if c.JSON {
		return printJSON(env.stdout, map[string]int{"replicas": c.Replicas, "transcript_partitions": c.TranscriptPartitions})
	}
	fmt.Fprintf(env.stdout, "streams, buckets and consumers are in place (replicas %d, transcript partitions %d)\n", c.Replicas, c.TranscriptPartitions)
	return nil
}
