package host

import (
	"context"

	"github.com/peonhq/peon/internal/workspace"
)

// TurnInfo names a turn and where it runs.
type TurnInfo = workspace.Turn

// Workspace is told around each turn, so it can snapshot the working tree:
// every turn of the host's projects, the host's agents' and outside
// adapters' (provider external) alike, one turn of a thread at a time. A
// BeforeTurn error is logged and the turn still runs; AfterTurn errors are
// logged.
type Workspace interface {
	// BeforeTurn is called before the agent starts (the baseline on First).
	BeforeTurn(ctx context.Context, t TurnInfo) error
	// AfterTurn is called after the turn's terminal event is published (or
	// the turn was interrupted and the agent is gone; for an external turn,
	// once the stream shows it ended).
	AfterTurn(ctx context.Context, t TurnInfo) error
}
