package main

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
)

// started is a service that was started, and how to tell that it serves.
type started struct {
	// name is the service's micro name (peon-decider, ...): a service
	// without a readiness signal is ready once that name answers a ping.
	name string
	svc  service
}

// readyTimeout bounds the wait for services to come up on a local server.
const readyTimeout = 30 * time.Second

// waitServing waits until every service serves: on its Ready signal where
// it has one, else until its micro service answers (it registers only
// once it serves). It fails when done closes first (a service ended) or
// the deadline passes, naming what never came up.
func waitServing(ctx context.Context, nc *nats.Conn, done <-chan struct{}, services ...started) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	for _, s := range services {
		if ready, ok := readyOf(s.svc); ok {
			select {
			case <-ready:
				continue
			case <-done:
				return fmt.Errorf("%s stopped while starting", s.name)
			case <-ctx.Done():
				return fmt.Errorf("%s not ready after %s", s.name, readyTimeout)
			}
		}
		if err := waitAnswers(ctx, nc, done, s.name); err != nil {
			return err
		}
	}
	return nil
}

// waitAnswers pings a micro service until one instance answers.
func waitAnswers(ctx context.Context, nc *nats.Conn, done <-chan struct{}, name string) error {
	subject, err := micro.ControlSubject(micro.PingVerb, name, "")
	if err != nil {
		return err
	}
	for {
		pctx, cancel := context.WithTimeout(ctx, 250*time.Millisecond)
		_, err := nc.RequestWithContext(pctx, subject, nil)
		cancel()
		if err == nil {
			return nil
		}
		select {
		case <-done:
			return fmt.Errorf("%s stopped while starting", name)
		case <-ctx.Done():
			return fmt.Errorf("%s not answering after %s", name, readyTimeout)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitInstances waits until at least n instances of a micro service
// answer a ping, or readyTimeout passes.
func waitInstances(ctx context.Context, nc *nats.Conn, name string, n int) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	subject, err := micro.ControlSubject(micro.PingVerb, name, "")
	if err != nil {
		return err
	}
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return err
	}
	defer func() { _ = sub.Unsubscribe() }()
	for {
		if err := nc.PublishRequest(subject, inbox, nil); err != nil {
			return err
		}
		ids := map[string]bool{}
		window := time.After(250 * time.Millisecond)
	collect:
		for len(ids) < n {
			select {
			case m := <-replies:
				var ping micro.Ping
				if json.Unmarshal(m.Data, &ping) == nil {
					ids[ping.ID] = true
				}
			case <-window:
				break collect
			case <-ctx.Done():
				return fmt.Errorf("%d of %d %s instances answer after %s", len(ids), n, name, readyTimeout)
			}
		}
		if len(ids) >= n {
			return nil
		}
	}
}
