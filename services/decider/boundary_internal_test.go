package decider

import (
	"slices"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// TestEveryCommandHasItsBoundary: every registry row maps to an implemented
// boundary, and the locks of each command name the aggregates its
// addressed ids name.
func TestEveryCommandHasItsBoundary(t *testing.T) {
	want := map[domain.Boundary][]string{
		domain.BoundaryAllProjects: {projectsKey},
		domain.BoundaryProject:     {projectKey("p")},
		domain.BoundaryProjectTree: {treeKey("p")},
		domain.BoundaryNewThread:   {threadKey("t"), projectKey("p")},
		domain.BoundaryThread:      {threadKey("t")},
	}
	for _, spec := range domain.Commands() {
		cmd, _ := domain.ZeroCommand(spec.Type)
		cmd = domain.WithID(domain.WithID(domain.WithID(cmd, "command_id", "c"), "project_id", "p"), "thread_id", "t")
		_, b, ids, err := boundaryOf(cmd)
		if err != nil {
			t.Fatalf("%s: %v", spec.Type, err)
		}
		if got := b.locks(ids); !slices.Equal(got, want[spec.Boundary]) {
			t.Fatalf("%s: locks %v, want %v", spec.Type, got, want[spec.Boundary])
		}
	}
	// Ids that name aggregates are checked before any I/O.
	if _, _, _, err := boundaryOf(domain.SelectThread{CommandID: "c", ThreadID: "a.>"}); err == nil {
		t.Fatal("a subject-splitting thread id passed")
	}
	if _, _, _, err := boundaryOf(domain.SelectThread{CommandID: "c d", ThreadID: "t"}); err == nil {
		t.Fatal("an invalid command id passed")
	}
}
