// Command adapter publishes a short provider turn, as a coding-agent adapter
// would: the cluster smoke test uses it with the adapter user's credentials.
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func main() {
	url := flag.String("url", nats.DefaultURL, "NATS URL with the adapter's credentials")
	thread := flag.String("thread", "", "thread id")
	turn := flag.String("turn", "", "turn id")
	text := flag.String("text", "hello", "what the agent says")
	flag.Parse()
	nc, err := nats.Connect(*url)
	if err != nil {
		log.Fatal(err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		log.Fatal(err)
	}
	var events []domain.ProviderEvent
	for _, w := range strings.Fields(*text) {
		events = append(events, domain.TextDelta{MessageID: "a", Delta: w + " "})
	}
	events = append(events, domain.TurnComplete{StopReason: domain.StopEndTurn})
	for i, e := range events {
		id := fmt.Sprint("e", i)
		body, err := domain.Marshal(domain.MessagePack, contract.ProviderMessage{TurnID: *turn, ProviderEventID: id,
			Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
		if err != nil {
			log.Fatal(err)
		}
		m := &nats.Msg{Subject: contract.ProviderSubject(*thread), Data: body, Header: nats.Header{}}
		m.Header.Set(contract.HeaderMsgID, *thread+":"+id)
		if _, err := js.PublishMsg(context.Background(), m); err != nil {
			log.Fatal(err)
		}
	}
}
