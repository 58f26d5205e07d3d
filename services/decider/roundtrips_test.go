package decider_test

import (
	"context"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
)

// TestRoundTripsPerCommand: the stats count the commands an instance
// handled and the requests it made to JetStream for them. A command on a
// warm thread (its state cached and current, no client command id to
// claim) costs one: the append, whether of one event or of two (one atomic
// batch).
func TestRoundTripsPerCommand(t *testing.T) {
	h := start(t, 1, decider.Config{}, eventstore.DefaultStreamConfig())
	h.waitServing(t)
	ctx := context.Background()
	c := h.client(domain.MessagePack)
	svc := h.instances[0]
	p := must(t)(c.Send(ctx, domain.CreateProject{Name: "p", Path: "/p"}))
	th := must(t)(c.Send(ctx, domain.CreateThread{ProjectID: p.ProjectID}))
	tu := must(t)(c.Send(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: "go"}))

	for _, cmd := range []struct {
		name string
		cmd  domain.Command
		want int64
	}{
		{"one TextDelta (1 event)", domain.IngestProviderEvent{ThreadID: th.ThreadID, TurnID: tu.TurnID, ProviderEventID: "d1",
			Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: "m", Delta: "hi"}}}, 1},
		{"TurnComplete (2 events)", domain.IngestProviderEvent{ThreadID: th.ThreadID, TurnID: tu.TurnID, ProviderEventID: "done",
			Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{StopReason: "end_turn"}}}, 1},
	} {
		before := svc.Stats()
		must(t)(c.Send(ctx, cmd.cmd))
		after := svc.Stats()
		if n := after.Commands - before.Commands; n != 1 {
			t.Errorf("%s: %d commands counted, want 1", cmd.name, n)
		}
		if n := after.JetStreamRequests - before.JetStreamRequests; n != cmd.want {
			t.Errorf("%s on a warm thread: %d JetStream requests, want %d", cmd.name, n, cmd.want)
		}
	}
}
