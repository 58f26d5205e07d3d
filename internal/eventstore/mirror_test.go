package eventstore_test

import (
	"testing"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
)

// TestAMirrorTakesTheEventStreamsDirectGets pins the server behaviour
// behind operations.md's advice to keep copies of the event stream out of
// Peon's account: a mirror asked for no direct gets, with a subject
// transform, is given the event stream's direct gets all the same, and
// would answer Peon's reads by subject from subjects Peon does not use.
func TestAMirrorTakesTheEventStreamsDirectGets(t *testing.T) {
	ctx := t.Context()
	_, js := newStore(t)
	events, err := js.Stream(ctx, contract.EventStream)
	if err != nil {
		t.Fatal(err)
	}
	if !events.CachedInfo().Config.AllowDirect {
		t.Fatal("the event stream does not allow direct gets; the readers rely on them")
	}
	mirror, err := js.CreateStream(ctx, jetstream.StreamConfig{
		Name:         "COPY",
		MirrorDirect: false,
		Mirror: &jetstream.StreamSource{Name: contract.EventStream, SubjectTransforms: []jetstream.SubjectTransformConfig{{
			Source: "peon.evt.*.*", Destination: "copy.{{partition(8,2)}}.{{wildcard(1)}}.{{wildcard(2)}}",
		}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !mirror.CachedInfo().Config.MirrorDirect {
		t.Fatal("the mirror did not take the event stream's direct gets: this server no longer does so; operations.md and architecture.md (known limits) can say so")
	}
}
