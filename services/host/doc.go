// Package host is the role that runs coding agents: a host follows the
// event stream, and for every thread of the projects whose host is its
// name it plays the thread's turns with the provider the thread names —
// always one of the host's own configured providers, never a program a
// command names — in the project's directory, publishing what the agent
// reports as provider messages on peon.provider.<thread_id> (the ingest
// path). It interrupts the agent on TurnInterrupted and answers its
// permission requests on PendingActionResolved.
//
// State: each instance folds the few events it needs (projects, threads,
// their settings, sessions and active turns) from the start of the event
// stream with an ordered consumer, so what it knows is exactly what the
// stream says, with no read-model lag.
//
// Active and standby: several instances may run with one name; the one
// that holds the name's lease in the peon_hosts bucket is active and runs
// agents, the others fold the stream and wait. An active instance renews
// its lease; a standby takes the lease once it has not changed for the
// lease TTL (compare-and-set on the key's revision, so two standbys cannot
// both win) and, on taking it, ends with a retryable error every turn of
// its projects the stream still shows running (but those of provider
// external, which an outside adapter plays): they belong to an instance
// that is gone. A restarted host does the same on start.
package host
