package provision_test

import (
	"context"
	"testing"

	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/pkg/contract"
)

// Provisioning makes peon_diffs, in either storage, and running it again
// changes nothing.
func TestProvisionMakesTheDiffsObjectStore(t *testing.T) {
	for _, memory := range []bool{false, true} {
		srv := natstest.Server(t)
		_, js := natstest.Connect(t, srv)
		ctx := context.Background()
		for range 2 {
			if err := provision.Run(ctx, js, provision.Options{Memory: memory}); err != nil {
				t.Fatalf("memory %v: %v", memory, err)
			}
		}
		store, err := js.ObjectStore(ctx, contract.BucketDiffs)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := store.PutString(ctx, contract.DiffKey("th", "tu"), "{}"); err != nil {
			t.Fatal(err)
		}
	}
}
