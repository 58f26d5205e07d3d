// Package query serves the read model: a micro service (peon-query) whose
// endpoints read the KV buckets the projector writes, and the event stream
// itself for events.since. Every query accepts min_sequence: it answers only
// once the projection it reads has folded that far, or fails with 504
// timeout after a bounded wait, so a client that just got a command reply
// can read its own writes.
package query
