package loadgen

import (
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// glassTokenBytes is the length of every delta, so a message's visible
// text, glassTokenBytes per delta, tells how many of its deltas a reader
// sees.
const glassTokenBytes = 8

// glassToken is delta i's text: its number, padded to glassTokenBytes.
func glassToken(i int) string { return fmt.Sprintf("%07d ", i%10_000_000) }

// glassPerMessage is how many deltas an agent streams into one message
// before it starts the next. The projector keeps a message's first
// contract.SegmentBytes of text in its head record and writes the rest to
// segment keys; a message this long stays within the head record, the key
// the reader watches.
const glassPerMessage = contract.SegmentBytes / glassTokenBytes

// glassMessageID is the message delta i of an agent belongs to.
func glassMessageID(i int) string { return fmt.Sprint("glass", i/glassPerMessage) }

// glassTracker turns what a read-model reader sees into latencies: it
// holds when each delta was published and, per message key, how many of
// that message's deltas the reader has seen so far.
type glassTracker struct {
	base time.Time
	// sent is each agent's deltas' publish times, as time since base in
	// ns: written by the agents, read by the reader.
	sent [][]atomic.Int64
	// The rest is the reader's alone.
	messages       map[string]*glassMessage
	lat            latencies
	visible, total int
}

// glassMessage is one message of one agent: deltas first..first+count-1.
type glassMessage struct {
	agent, first, count int
	seen                int
}

func newGlassTracker(turns []agentTurn, perAgent int) *glassTracker {
	t := &glassTracker{base: time.Now(), sent: make([][]atomic.Int64, len(turns)), messages: map[string]*glassMessage{},
		total: len(turns) * perAgent}
	t.lat = make(latencies, 0, t.total)
	for a, turn := range turns {
		t.sent[a] = make([]atomic.Int64, perAgent)
		for first := 0; first < perAgent; first += glassPerMessage {
			key := contract.MessageKey(turn.thread, glassMessageID(first))
			t.messages[key] = &glassMessage{agent: a, first: first, count: min(glassPerMessage, perAgent-first)}
		}
	}
	return t
}

// keyList is the keys to watch.
func (t *glassTracker) keyList() []string {
	keys := make([]string, 0, len(t.messages))
	for k := range t.messages {
		keys = append(keys, k)
	}
	return keys
}

// stamp records that agent is publishing its delta i now.
func (t *glassTracker) stamp(agent, i int) {
	t.sent[agent][i].Store(int64(time.Since(t.base)))
}

// saw takes a message's text length as the reader saw it at now (time
// since base): every delta it shows for the first time is visible now. It
// reports whether every delta is visible.
func (t *glassTracker) saw(key string, textLen int, now time.Duration) bool {
	m, ok := t.messages[key]
	if !ok {
		return t.visible == t.total
	}
	shown := min(textLen/glassTokenBytes, m.count)
	for i := m.seen; i < shown; i++ {
		t.lat = append(t.lat, now-time.Duration(t.sent[m.agent][m.first+i].Load()))
	}
	if shown > m.seen {
		t.visible += shown - m.seen
		m.seen = shown
	}
	return t.visible == t.total
}

// errWatcherStopped: the read model watcher ended before every delta was
// seen.
var errWatcherStopped = errors.New("the read model watcher stopped")

// read follows the watcher until every delta is visible.
func (t *glassTracker) read(w jetstream.KeyWatcher) error {
	for e := range w.Updates() {
		if e == nil || e.Operation() != jetstream.KeyValuePut {
			continue
		}
		now := time.Since(t.base)
		var rec contract.MessageRecord
		if err := domain.Unmarshal(domain.MessagePack, e.Value(), &rec); err != nil {
			return fmt.Errorf("message %s: %w", e.Key(), err)
		}
		if t.saw(e.Key(), len(rec.Text), now) {
			return nil
		}
	}
	return fmt.Errorf("%w with %d of %d deltas visible", errWatcherStopped, t.visible, t.total)
}
