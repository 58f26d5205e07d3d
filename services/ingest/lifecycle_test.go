package ingest_test

import (
	"context"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/ingest"
)

// TestReadyThenStops: Ready closes once the instance consumes, not before,
// and Run returns promptly when its context ends.
func TestReadyThenStops(t *testing.T) {
	s := stack(t)
	nc, _ := natstest.Connect(t, s.Srv)
	svc, err := ingest.New(nc, ingest.Config{Instance: "ready"}, s.Log)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-svc.Ready():
		t.Fatal("ready before Run")
	default:
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- svc.Run(ctx) }()
	select {
	case <-svc.Ready():
	case err := <-done:
		t.Fatalf("Run returned before ready: %v", err)
	case <-time.After(10 * time.Second):
		t.Fatal("not ready within 10s")
	}
	// It really consumes: a turn's events get through.
	thread, turnID := turn(t, s)
	s.Publish(t, thread, turnID, "end", domain.TurnComplete{StopReason: "end_turn"})
	waitTurnEnd(t, s, thread)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return within 10s of cancel")
	}
}
