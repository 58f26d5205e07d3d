package readmodel_test

import (
	"testing"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/readmodel"
)

func TestSplitSubjectsAndSourceSequences(t *testing.T) {
	subject := readmodel.SplitSubject(8, "p1", "t1")
	if got, ok := readmodel.EventSubject(subject); !ok || got != "peon.evt.p1.t1" {
		t.Errorf("EventSubject(%s) = %q %v", subject, got, ok)
	}
	for _, bad := range []string{"peon.evt.p1.t1", "peon.split.3", ""} {
		if got, ok := readmodel.EventSubject(bad); ok {
			t.Errorf("EventSubject(%q) = %q, want refused", bad, got)
		}
	}
	for header, want := range map[string]uint64{
		"PEON_EVENTS 42 peon.evt.*.* peon.split.{{partition(8,2)}}.{{wildcard(1)}}.{{wildcard(2)}}": 42,
		"PEON_EVENTS 7": 7,
		"OTHER 42 > >":  0, // not sourced from the event stream
		"PEON_EVENTS x": 0,
		"PEON_EVENTS 0": 0,
		"":              0,
	} {
		h := nats.Header{}
		h.Set("Nats-Stream-Source", header)
		got, ok := readmodel.SourceSequence(h)
		if got != want || ok != (want != 0) {
			t.Errorf("SourceSequence(%q) = %d %v, want %d", header, got, ok, want)
		}
	}
}
