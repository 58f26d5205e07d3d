package eventstore

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/peonhq/peon/internal/natstest"
)

// BenchmarkCommitter appends two-event commands on distinct threads from
// several goroutines at once through a Committer: ns/op is per command, and
// the average group size is reported.
func BenchmarkCommitter(b *testing.B) {
	for _, callers := range []int{1, 16, 64} {
		b.Run(fmt.Sprintf("callers=%d", callers), func(b *testing.B) {
			_, js := natstest.Connect(b, natstest.Server(b))
			ctx := context.Background()
			if _, err := EnsureStream(ctx, js, DefaultStreamConfig()); err != nil {
				b.Fatal(err)
			}
			c := NewCommitter(New(js))
			work := make(chan int)
			var wg sync.WaitGroup
			for g := range callers {
				wg.Go(func() {
					last := uint64(0)
					for i := range work {
						a, err := c.Append(ctx, turnBatch(fmt.Sprint("c", g, "-", i), fmt.Sprint("t", g), last))
						if err != nil {
							b.Error(err)
							return
						}
						last = a.Last
					}
				})
			}
			for i := 0; b.Loop(); i++ {
				work <- i
			}
			close(work)
			wg.Wait()
			groups, grouped := c.Stats()
			if groups > 0 {
				b.ReportMetric(float64(grouped)/float64(groups), "cmds/group")
			}
		})
	}
}
