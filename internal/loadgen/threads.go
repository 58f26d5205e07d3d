package loadgen

import (
	"context"
	"errors"
	"time"

	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// staleRetries bounds how often createThread asks again.
const staleRetries = 100

// externalProvider is the provider of every thread the bench creates: the
// one every host has that runs nothing (services/host.External), so in a
// deployment with hosts none starts an agent for a bench turn and ends it
// under the load generator, which is that thread's outside adapter.
const externalProvider = "external"

// createThread creates a thread in a project the bench has just created.
// On a replicated event stream the decider reads the project with direct
// gets, which any replica may answer; it confirms a refusal against the
// leader, so project_not_found for a project just created should not
// happen. Should it, the bench knows the project exists, asks again (a
// refusal appends nothing) and returns how many refusals it met, which the
// scenario reports as <name>.stale_project_refusals: shown, not hidden.
func createThread(ctx context.Context, c *client.Client, projectID string) (contract.CommandReply, int, error) {
	for refused := 0; ; refused++ {
		th, err := c.Send(ctx, domain.CreateThread{ProjectID: projectID, Provider: externalProvider})
		if err == nil || !errors.Is(err, domain.ErrProjectNotFound) || refused == staleRetries {
			return th, refused, err
		}
		select {
		case <-ctx.Done():
			return th, refused, ctx.Err()
		case <-time.After(5 * time.Millisecond):
		}
	}
}

// addRefusals reports the stale refusals a scenario met, if any.
func addRefusals(r *Report, name string, n int) {
	if r != nil && n > 0 {
		r.Add(Figure{Name: name + ".stale_project_refusals", Value: float64(n), Unit: "refusals"})
	}
}
