// Package ingest is provider-ingest: it consumes what coding agents report
// (stream PEON_PROVIDER, subjects peon.provider.<thread_id>) and turns it
// into IngestProviderEvent commands, in order per thread and threads in
// parallel, acking each provider event only after the decider answered.
//
// Consecutive events of one thread and turn that are waiting together are
// sent as one batched command (up to 256), so a fast token stream costs one
// round trip per batch, not per token; the text and its order are kept
// exactly. Permanent rejections (stale turn, unknown thread, malformed
// input) are acked, counted and recorded in peon_ingest_rejections; a
// rejected batch is retried event by event so one bad event never takes its
// neighbours down with it. Transient failures back off and retry.
package ingest
