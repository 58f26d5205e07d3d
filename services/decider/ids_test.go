package decider

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestFillDerivesOnlyMissingIDs(t *testing.T) {
	got := fill(domain.StartTurn{CommandID: "c", ThreadID: "t", MessageID: "given", Text: "x"}).(domain.StartTurn)
	if got.TurnID != deriveID("c", "turn_id") || got.MessageID != "given" || got.CommandID != "c" {
		t.Fatalf("filled %+v", got)
	}
	again := fill(domain.StartTurn{CommandID: "c", ThreadID: "t", Text: "x"}).(domain.StartTurn)
	if again.TurnID != got.TurnID {
		t.Fatal("derivation is not deterministic")
	}
	sel := fill(domain.SelectThread{ThreadID: "t"}).(domain.SelectThread)
	if !domain.ValidID(sel.CommandID) {
		t.Fatalf("no command id assigned: %+v", sel)
	}
}
