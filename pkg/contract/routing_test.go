package contract_test

import (
	"strings"
	"testing"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// TestRoutingKeyNamesTheAggregate: a thread's commands route by thread,
// a project's (and CreateThread) by project, CreateProject to one key.
func TestRoutingKeyNamesTheAggregate(t *testing.T) {
	for _, c := range []struct {
		cmd  domain.Command
		want string
	}{
		{domain.StartTurn{ThreadID: "t1", Text: "hi"}, "t1"},
		{domain.IngestProviderEvent{ThreadID: "t2"}, "t2"},
		{domain.CreateThread{ProjectID: "p1"}, "p1"},
		{domain.DeleteProject{ProjectID: "p2"}, "p2"},
		{domain.RenameProject{ProjectID: "p3"}, "p3"},
		{domain.CreateProject{Name: "a"}, "projects"},
		{domain.CreateProject{Name: "b"}, "projects"},
	} {
		if got := contract.RoutingKey(c.cmd); got != c.want {
			t.Errorf("%s: routing key %q, want %q", c.cmd.CommandType(), got, c.want)
		}
	}
}

// TestRoutedSubjectsRoundTrip: every endpoint's routed subject is inside
// its partition's filter and names the endpoint back; no endpoint could be
// mistaken for a partition, and malformed subjects are not routed ones.
func TestRoutedSubjectsRoundTrip(t *testing.T) {
	for _, spec := range domain.Commands() {
		if strings.HasPrefix(spec.Endpoint, contract.CommandPartitionToken+".") {
			t.Errorf("endpoint %s starts with the partition token", spec.Endpoint)
		}
		subject := contract.RoutedCommandSubject(spec.Endpoint, "thread-9")
		k := contract.CommandPartition("thread-9")
		if prefix := strings.TrimSuffix(contract.CommandPartitionFilter(k), ">"); !strings.HasPrefix(subject, prefix) {
			t.Errorf("%s is not under %s", subject, contract.CommandPartitionFilter(k))
		}
		if got, ok := contract.RoutedEndpoint(subject); !ok || got != spec.Endpoint {
			t.Errorf("RoutedEndpoint(%s) = %q, %v", subject, got, ok)
		}
	}
	for _, bad := range []string{"peon.cmd.turn.start", "peon.cmd.part.x.turn.start", "peon.cmd.part.32.turn.start", "peon.cmd.part.-1.turn.start", "peon.cmd.part.3", "peon.cmd.part.3."} {
		if got, ok := contract.RoutedEndpoint(bad); ok {
			t.Errorf("RoutedEndpoint(%s) = %q, want not routed", bad, got)
		}
	}
}

// TestCommandPartitionIsFixedAndSpread: the function is part of the
// contract (clients in other languages compute it), so one value is
// pinned, and keys spread over every partition.
func TestCommandPartitionIsFixedAndSpread(t *testing.T) {
	// FNV-1a 32 of "projects" is 0x1354e8b7 (offset basis 0x811c9dc5, prime 0x01000193).
	if got := contract.CommandPartition("projects"); got != 0x1354e8b7%contract.CommandPartitions {
		t.Errorf("CommandPartition(projects) = %d", got)
	}
	seen := map[int]bool{}
	for i := range 2000 {
		seen[contract.CommandPartition(strings.Repeat("t", i%7)+string(rune('a'+i%26))+string(rune('0'+i%10))+string(rune(i)))] = true
	}
	if len(seen) != contract.CommandPartitions {
		t.Errorf("keys reached %d of %d partitions", len(seen), contract.CommandPartitions)
	}
}
