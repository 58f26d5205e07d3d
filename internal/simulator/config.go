package simulator

import (
	"errors"
	"fmt"
	"time"
)

// Host is the host a simulation's project names: one no `peon host` serves
// (by convention), since the simulation plays the agent itself.
const Host = "simulation"

// Config is a simulation: how many threads, how many turns, what script.
type Config struct {
	// Threads is how many threads are played at once.
	Threads int
	// Turns per thread; 0 runs until the context ends.
	Turns  int
	Script Script
	// ProjectPath is the project the threads live in (created if needed);
	// empty picks a fresh one per run.
	ProjectPath string
	// ApproveAfter is how long the simulated user takes to approve.
	ApproveAfter time.Duration
	// Progress, if set, is called after every finished turn, from the
	// threads' goroutines (concurrently).
	Progress func(thread string, turns int)
}

// DefaultConfig is the configuration every flag default comes from.
func DefaultConfig() Config {
	return Config{Threads: 3, Script: Script{Deltas: 60, Rate: 20, ApprovalEvery: 3}, ApproveAfter: 500 * time.Millisecond}
}

// maxThreads bounds a simulation: each thread is a goroutine, a
// subscription and, while a turn plays, a publisher.
const maxThreads = 10_000

// Validate reports every problem of the configuration at once.
func (c Config) Validate() error {
	var errs []error
	check := func(ok bool, format string, args ...any) {
		if !ok {
			errs = append(errs, fmt.Errorf(format, args...))
		}
	}
	check(c.Threads >= 1 && c.Threads <= maxThreads, "threads %d is not within 1..%d", c.Threads, maxThreads)
	check(c.Turns >= 0, "turns %d is negative", c.Turns)
	check(c.Script.Deltas >= 1, "deltas %d is not positive", c.Script.Deltas)
	check(c.Script.Rate >= 0, "rate %g is negative", c.Script.Rate)
	check(c.Script.ApprovalEvery >= 0, "approval every %d is negative", c.Script.ApprovalEvery)
	check(c.Script.ErrorEvery >= 0, "error every %d is negative", c.Script.ErrorEvery)
	check(c.ApproveAfter >= 0, "approve after %s is negative", c.ApproveAfter)
	return errors.Join(errs...)
}
