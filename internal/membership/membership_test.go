package membership_test

import (
	"context"
	"slices"
	"testing"

	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/internal/membership"
	"github.com/peonhq/peon/internal/natstest"
)

// TestShareSplitsRoundRobin: each member owns every len(members)-th unit,
// all units are owned exactly once, and a member missing from the list
// (discovery failed) owns everything.
func TestShareSplitsRoundRobin(t *testing.T) {
	members := []string{"a", "b", "c"}
	seen := map[int]int{}
	for _, m := range members {
		for _, k := range membership.Share(7, members, m) {
			seen[k]++
		}
	}
	for k := range 7 {
		if seen[k] != 1 {
			t.Errorf("unit %d owned %d times", k, seen[k])
		}
	}
	if got := membership.Share(4, members, "b"); !slices.Equal(got, []int{1}) {
		t.Errorf("b owns %v, want [1]", got)
	}
	if got := membership.Share(3, members, "zz"); !slices.Equal(got, []int{0, 1, 2}) {
		t.Errorf("an unlisted member owns %v, want everything", got)
	}
}

// TestMembersFindsLiveInstancesItKeeps: two instances of a service answer
// the probe, one of another kind is left out by keep, and self is listed
// even before it registers.
func TestMembersFindsLiveInstancesItKeeps(t *testing.T) {
	nc, _ := natstest.Connect(t, natstest.Server(t))
	var ids []string
	for _, kind := range []string{"a", "a", "b"} {
		svc, err := micro.AddService(nc, micro.Config{Name: "peon-test", Version: "1.0.0", Metadata: map[string]string{"kind": kind}})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = svc.Stop() })
		if kind == "a" {
			ids = append(ids, svc.Info().ID)
		}
	}
	keepA := func(p micro.Ping) bool { return p.Metadata["kind"] == "a" }
	got, err := membership.Members(context.Background(), nc, "peon-test", keepA, "self", membership.DefaultWait)
	if err != nil {
		t.Fatal(err)
	}
	want := append(ids, "self")
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Fatalf("members %v, want %v", got, want)
	}
}
