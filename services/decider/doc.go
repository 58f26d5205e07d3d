// Package decider is the write side of Peon: a micro service (peon-decider)
// that receives commands on peon.cmd.<name>, loads the state of the
// aggregates a command touches, decides with domain.Decide and appends the
// resulting events atomically to PEON_EVENTS under an optimistic-concurrency
// expectation. Any number of instances share one queue group; conflicts
// between them are detected by JetStream and retried here, bounded.
package decider
