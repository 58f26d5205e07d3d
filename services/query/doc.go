// Package query serves the read model: a micro service (peon-query) whose
// endpoints read the KV buckets the projector writes, and the event stream
// itself for events.since. Every query accepts min_sequence: it answers only
// once the projection it reads has folded that far, or fails after a
// bounded wait (504 timeout, or 503 with the reason when the projection
// says it cannot go on), so a client that just got a command reply can
// read its own writes.
//
// Every reply fits in one NATS message by design: pages are bounded by
// bytes as well as by count (page.go), a message too long for any reply is
// served in parts (transcript.go), and a single record that cannot fit is
// refused with reply_too_large rather than sent and lost.
//
// The service has the one lifecycle (internal/lifecycle): DefaultConfig,
// Validate, New, a blocking Run that answers what is in flight before it
// returns, and Ready.
package query
