package loadgen

import (
	"testing"

	"github.com/peonhq/peon/services/host"
)

// TestBenchThreadsRunNoAgent: the provider of the bench's threads is the
// one a host leaves to an outside adapter, the load generator.
func TestBenchThreadsRunNoAgent(t *testing.T) {
	if externalProvider != host.External {
		t.Errorf("bench threads use provider %q, hosts run nothing for %q", externalProvider, host.External)
	}
}
