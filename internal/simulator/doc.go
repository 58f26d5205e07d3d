// Package simulator is a scriptable fake coding agent and its user, for
// demos, tests and load. The agent is a real adapter: it follows the event
// stream of the threads it serves (peon.evt.*.<thread_id>), reacts to
// TurnStarted with a realistic turn — thinking and text deltas, a tool call
// and its result, sometimes an approval request that waits for
// PendingActionResolved, sometimes an error — and publishes it to
// peon.provider.<thread_id>, where provider-ingest picks it up. It stops a
// turn on TurnInterrupted. The user side creates the threads, starts turns,
// approves requests and records a checkpoint after every turn.
package simulator
