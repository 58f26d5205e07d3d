// Package eventstore is Peon's access to the PEON_EVENTS JetStream stream:
// creating it with the settings the guarantees rely on, appending the events
// of one command atomically under an optimistic-concurrency expectation, and
// loading an aggregate's events by subject.
//
// It knows subjects and headers, not rules: deciding is package domain's
// job, and the decider service puts the two together.
package eventstore
