package loadgen

import (
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/contract"
)

// TestGlassTrackerCountsVisibleDeltas: a reader's view of a message's text
// length makes each delta it shows visible once, partial tokens not at
// all, and an agent's deltas past one message's worth go to its next
// message, each with its own key.
func TestGlassTrackerCountsVisibleDeltas(t *testing.T) {
	perAgent := glassPerMessage + 3
	tr := newGlassTracker([]agentTurn{{thread: "th", turn: "tu"}}, perAgent)
	if len(tr.keyList()) != 2 {
		t.Fatalf("keys %v, want two messages", tr.keyList())
	}
	for i := range perAgent {
		tr.sent[0][i].Store(int64(time.Duration(i) * time.Millisecond))
	}
	first, second := contract.MessageKey("th", glassMessageID(0)), contract.MessageKey("th", glassMessageID(glassPerMessage))
	if first == second {
		t.Fatalf("one key %s for both messages", first)
	}
	now := time.Duration(perAgent) * time.Millisecond
	if tr.saw(first, 2*glassTokenBytes+glassTokenBytes/2, now) || tr.visible != 2 {
		t.Fatalf("visible %d after two and a half tokens, want 2", tr.visible)
	}
	tr.saw(first, 2*glassTokenBytes, now) // an older view: nothing new
	tr.saw("th.other", 100*glassTokenBytes, now)
	if tr.visible != 2 || len(tr.lat) != 2 {
		t.Fatalf("visible %d, %d latencies after a stale and a foreign update, want 2", tr.visible, len(tr.lat))
	}
	if tr.lat[0] != now || tr.lat[1] != now-time.Millisecond {
		t.Errorf("latencies %v, want now − each delta's send time", tr.lat)
	}
	tr.saw(first, glassPerMessage*glassTokenBytes, now)
	if all := tr.saw(second, 3*glassTokenBytes, now); !all || tr.visible != perAgent || len(tr.lat) != perAgent {
		t.Errorf("all %v, visible %d, %d latencies: want every one of %d", all, tr.visible, len(tr.lat), perAgent)
	}
	if last := tr.lat[len(tr.lat)-1]; last != time.Millisecond {
		t.Errorf("the last delta's latency %v, want 1ms", last)
	}
}
