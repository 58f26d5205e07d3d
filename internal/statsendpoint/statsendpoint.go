// Package statsendpoint gives a micro service that serves no requests (the
// projector, provider-ingest) the one endpoint micro needs to report its
// counters: micro attaches a service's custom stats to each endpoint, so
// a service without endpoints reports none.
package statsendpoint

import (
	"encoding/json"

	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/pkg/contract"
)

// Add registers the endpoint "stats" on contract.StatsSubject(service,
// its instance id), outside any queue group (every instance has its own
// subject). stats is what `nats micro stats` shows for the instance, and
// what a request on the subject is answered with, as JSON.
func Add(svc micro.Service, service string, stats func() any) error {
	handler := micro.HandlerFunc(func(req micro.Request) {
		body, err := json.Marshal(stats())
		if err != nil {
			_ = req.Error("500", err.Error(), nil)
			return
		}
		_ = req.Respond(body)
	})
	return svc.AddEndpoint("stats", handler, micro.WithEndpointSubject(contract.StatsSubject(service, svc.Info().ID)),
		micro.WithEndpointQueueGroupDisabled())
}
