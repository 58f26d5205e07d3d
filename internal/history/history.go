// Package history records what clients asked of Peon and what they were
// told, and checks it against what the event stream holds afterwards, in
// the manner of Jepsen's queue checker: every operation is invoked, then
// completes as ok (acknowledged), fail (definitely not applied) or unknown
// (timed out: it may or may not have been applied). Acknowledged work must
// be in the stream exactly once and in order; failed work must not be.
package history

import (
	"sync"
	"time"

	"github.com/peonhq/peon/pkg/contract"
)

// Outcome is how an operation ended.
type Outcome int

const (
	// Pending: invoked, not yet completed.
	Pending Outcome = iota
	// OK: acknowledged; its events are in the stream.
	OK
	// Fail: definitely refused; nothing of it may be in the stream.
	Fail
	// Unknown: no definite answer (timeouts, lost connections).
	Unknown
)

func (o Outcome) String() string {
	return [...]string{"pending", "ok", "fail", "unknown"}[o]
}

// Op is one command a client sent, retried under the same command id until
// it got a definite answer or gave up.
type Op struct {
	// Process is the client that sent it; a process is sequential.
	Process int
	// Aggregate is the thread the command is about; it alone writes there.
	Aggregate string
	CommandID string
	Type      string
	Invoked   time.Time
	Completed time.Time
	Outcome   Outcome
	// Events are what an acknowledged command reported appending.
	Events []contract.EventRef
	// Err is the last error for fail and unknown operations.
	Err string
}

// Recorder collects operations from concurrent clients.
type Recorder struct {
	mu  sync.Mutex
	ops []*Op
}

// Invoke records the start of an operation and returns it for Complete.
func (r *Recorder) Invoke(process int, aggregate, commandID, typ string) *Op {
	op := &Op{Process: process, Aggregate: aggregate, CommandID: commandID, Type: typ, Invoked: time.Now()}
	r.mu.Lock()
	r.ops = append(r.ops, op)
	r.mu.Unlock()
	return op
}

// Complete records how op ended.
func (r *Recorder) Complete(op *Op, outcome Outcome, events []contract.EventRef, err error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	op.Completed, op.Outcome, op.Events = time.Now(), outcome, events
	if err != nil {
		op.Err = err.Error()
	}
}

// Ops returns a copy of the recorded operations, in invocation order.
func (r *Recorder) Ops() []Op {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make([]Op, len(r.ops))
	for i, op := range r.ops {
		out[i] = *op
	}
	return out
}

// Delivery is one provider event an agent published and the provider
// stream acknowledged (or did not: Acked false means the publish timed out).
type Delivery struct {
	Thread          string
	ProviderEventID string
	Acked           bool
}

// Deliveries collects an agent's provider events from concurrent agents.
type Deliveries struct {
	mu   sync.Mutex
	list []Delivery
}

// Add records one publish.
func (d *Deliveries) Add(thread, providerEventID string, acked bool) {
	d.mu.Lock()
	d.list = append(d.list, Delivery{Thread: thread, ProviderEventID: providerEventID, Acked: acked})
	d.mu.Unlock()
}

// List returns the publishes in order.
func (d *Deliveries) List() []Delivery {
	d.mu.Lock()
	defer d.mu.Unlock()
	return append([]Delivery(nil), d.list...)
}
