// Package loadgen measures Peon under load and, in the same run and on the
// same server, raw JetStream doing the comparable physical work, so every
// figure comes with its baseline and their ratio. `peon bench` drives it.
package loadgen

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/nats-io/nats.go/jetstream"
)

// Figure is one measured quantity.
type Figure struct {
	Name  string  `json:"name"`
	Value float64 `json:"value"`
	Unit  string  `json:"unit"`
	// Baseline, when set, names the raw JetStream figure this one compares
	// with, and Ratio is Value/baseline (for latencies: baseline/Value is
	// not used; Ratio is always Value divided by the baseline's value).
	Baseline string  `json:"baseline,omitempty"`
	Ratio    float64 `json:"ratio,omitempty"`
	// Target, when set, is what the figure should be: a ratio to its
	// baseline (Compare) or a value of its own (AtMost); Met says whether
	// it is.
	Target string `json:"target,omitempty"`
	Met    *bool  `json:"met,omitempty"`
}

// Report is a bench run.
type Report struct {
	Machine string `json:"machine"`
	Server  string `json:"server"`
	Sync    string `json:"sync"`
	// Topology says how servers and services were laid out, where the
	// bench started them as processes (peon bench --cluster).
	Topology string `json:"topology,omitempty"`
	// Processes are those the bench started, by name.
	Processes []Process `json:"processes,omitempty"`
	Started   time.Time `json:"started"`
	Duration  string    `json:"duration"`
	Figures   []Figure  `json:"figures"`
}

// Process is one process a bench run started.
type Process struct {
	Name string `json:"name"`
	Role string `json:"role"`
	PID  int    `json:"pid"`
}

// Add appends a figure.
func (r *Report) Add(f Figure) { r.Figures = append(r.Figures, f) }

// Get returns a figure by name.
func (r *Report) Get(name string) (Figure, bool) {
	for _, f := range r.Figures {
		if f.Name == name {
			return f, true
		}
	}
	return Figure{}, false
}

// Compare sets f's ratio to the named baseline and checks a target: at
// least (higher is better) or at most (lower is better) the given ratio.
func (r *Report) Compare(name, baseline string, target float64, higherIsBetter bool) {
	for i := range r.Figures {
		f := &r.Figures[i]
		if f.Name != name {
			continue
		}
		b, ok := r.Get(baseline)
		if !ok || b.Value == 0 {
			return
		}
		f.Baseline, f.Ratio = baseline, f.Value/b.Value
		met := f.Ratio >= target
		op := "≥"
		if !higherIsBetter {
			met, op = f.Ratio <= target, "≤"
		}
		f.Target = fmt.Sprintf("%s %.2g× %s", op, target, baseline)
		f.Met = &met
	}
}

// Relate sets f's ratio to the named baseline without a target: the
// baseline is a floor to read the figure against, not a goal.
func (r *Report) Relate(name, baseline string) {
	b, ok := r.Get(baseline)
	if !ok || b.Value == 0 {
		return
	}
	for i := range r.Figures {
		if f := &r.Figures[i]; f.Name == name {
			f.Baseline, f.Ratio = baseline, f.Value/b.Value
		}
	}
}

// AtMost checks an absolute target: f's value at most limit, in f's unit.
// A ratio to a baseline, if set, stays.
func (r *Report) AtMost(name string, limit float64) {
	for i := range r.Figures {
		if f := &r.Figures[i]; f.Name == name {
			met := f.Value <= limit
			f.Target = fmt.Sprintf("≤ %g %s", limit, f.Unit)
			f.Met = &met
		}
	}
}

// latencies summarises request durations.
type latencies []time.Duration

func (l latencies) percentile(p float64) time.Duration {
	if len(l) == 0 {
		return 0
	}
	s := slices.Clone(l)
	slices.Sort(s)
	i := int(p * float64(len(s)-1))
	return s[i]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// inWindow runs one async publish; when the window of unacknowledged
// publishes stays full (the server is slower than the publisher, as under
// the race detector), it waits for the window to drain and publishes again.
// Every publisher here sets a message id or tolerates the retry.
func inWindow(ctx context.Context, js jetstream.JetStream, publish func() error) error {
	for {
		err := publish()
		if !errors.Is(err, jetstream.ErrTooManyStalledMsgs) {
			return err
		}
		select {
		case <-js.PublishAsyncComplete():
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}
