package eventstore_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/natstest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// BenchmarkAppend measures appending one command's events (1 and 2 events
// per atomic batch, with an expectation) beside a plain JetStream publish
// to the same server.
func BenchmarkAppend(b *testing.B) {
	_, js := natstest.Connect(b, natstest.Server(b))
	ctx := context.Background()
	if _, err := eventstore.EnsureStream(ctx, js, eventstore.DefaultStreamConfig()); err != nil {
		b.Fatal(err)
	}
	store := eventstore.New(js)
	b.Run("raw_publish", func(b *testing.B) {
		data := make([]byte, 128)
		for i := 0; b.Loop(); i++ {
			if _, err := js.Publish(ctx, contract.ThreadSubject("raw", fmt.Sprint(i%100)), data); err != nil {
				b.Fatal(err)
			}
		}
	})
	for _, n := range []int{1, 2} {
		b.Run(fmt.Sprintf("events=%d", n), func(b *testing.B) {
			subject := contract.ThreadSubject("p", fmt.Sprint("bench", n))
			last := uint64(0)
			for i := 0; b.Loop(); i++ {
				batch := eventstore.Batch{CommandID: fmt.Sprintf("b%d-%d", n, i), ExpectFilter: subject, ExpectLastSeq: last}
				for range n {
					batch.Events = append(batch.Events, domain.ThreadSelected{ThreadID: "t"})
					batch.Subjects = append(batch.Subjects, subject)
				}
				a, err := store.Append(ctx, batch)
				if err != nil {
					b.Fatal(err)
				}
				last = a.Last
			}
		})
	}
}
