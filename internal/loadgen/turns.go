package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// agentTurn is a thread with a started turn, where a simulated agent
// streams its provider events.
type agentTurn struct{ thread, turn string }

// startTurns creates a project and n threads in it, and starts a turn on
// each. It returns the turns and the stale refusals createThread met.
func startTurns(ctx context.Context, c *client.Client, scenario string, n int) ([]agentTurn, int, error) {
	p, err := c.Send(ctx, domain.CreateProject{Name: "bench", Path: fmt.Sprintf("/bench/%s/%d", scenario, time.Now().UnixNano())})
	if err != nil {
		return nil, 0, fmt.Errorf("create project: %w", err)
	}
	turns := make([]agentTurn, n)
	refusals := 0
	for i := range turns {
		th, refused, err := createThread(ctx, c, p.ProjectID)
		refusals += refused
		if err != nil {
			return nil, refusals, err
		}
		tu, err := c.Send(ctx, domain.StartTurn{ThreadID: th.ThreadID, Text: scenario})
		if err != nil {
			return nil, refusals, err
		}
		turns[i] = agentTurn{th.ThreadID, tu.TurnID}
	}
	return turns, refusals, nil
}

// publishProvider publishes one provider event of the turn as an agent
// adapter does, asynchronously; the message id makes a retry harmless.
func publishProvider(ctx context.Context, js jetstream.JetStream, t agentTurn, id string, e domain.ProviderEvent) error {
	body, err := domain.Marshal(domain.MessagePack, contract.ProviderMessage{TurnID: t.turn, ProviderEventID: id,
		Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
	if err != nil {
		return err
	}
	m := &nats.Msg{Subject: contract.ProviderSubject(t.thread), Data: body, Header: nats.Header{}}
	m.Header.Set(contract.HeaderMsgID, t.thread+":"+id)
	return inWindow(ctx, js, func() error {
		_, err := js.PublishMsgAsync(m)
		return err
	})
}
