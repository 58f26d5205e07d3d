package decider

import (
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// A thread aggregate is first loaded by the wildcard filter (its project is
// not known yet); once its events name the project, it follows the thread's
// own subject, the one its appends expect on.
func TestThreadAggregateNarrowsToItsSubject(t *testing.T) {
	a := newAggregate(threadKey("t1"), contract.ThreadFilter("t1"), 4)
	a.fold(eventstore.Record{StoredEvent: domain.StoredEvent{Sequence: 7, Event: domain.ThreadCreated{ThreadID: "t1", ProjectID: "p1"}},
		Subject: contract.ThreadSubject("p1", "t1")})
	if a.filter != contract.ThreadSubject("p1", "t1") || a.projectID != "p1" || a.lastSeq != 7 {
		t.Fatalf("after the first event: filter %q, project %q, last %d", a.filter, a.projectID, a.lastSeq)
	}
	// Aggregates over several subjects keep their filter.
	tree := newAggregate(treeKey("p1"), contract.ProjectTreeFilter("p1"), 4)
	tree.fold(eventstore.Record{StoredEvent: domain.StoredEvent{Sequence: 7, Event: domain.ThreadCreated{ThreadID: "t1", ProjectID: "p1"}},
		Subject: contract.ThreadSubject("p1", "t1")})
	if tree.filter != contract.ProjectTreeFilter("p1") {
		t.Fatalf("a project tree aggregate narrowed to %q", tree.filter)
	}
}
