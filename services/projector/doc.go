// Package projector is the read side's writer: durable JetStream consumers
// that fold PEON_EVENTS, with the same domain.Project fold the decider uses,
// into KV buckets a client can get and watch:
//
//	peon_projects  <project_id>               the project
//	peon_threads   <thread_id>                the thread, bounded (its recent turns, approvals, tool calls, checkpoints, git; previews)
//	peon_threads   <thread_id>.tool.<id>      one tool call whole
//	peon_messages  <thread_id>.<message_id>   one transcript entry (long texts in segments <key>/<n>)
//	peon_meta      selected_thread, progress.<projection>, parked.<projection>.<seq>
//
// Two projections run side by side, each its own durable consumer with its
// own checkpoint: catalog (projects, threads, selection) and transcript
// (messages). Delivery is at least once; every write is idempotent by
// sequence and guarded by the key's revision, and a message is acked only
// after its writes, so the effect is exactly once. Any number of instances
// may run: each consumer pins one instance at a time and another takes over
// when it stops pulling. Every value is bounded by construction
// (bounded.go); the exactly-once bookkeeping is the ledger (ledger.go);
// progress records are merged, never overwritten (progress.go).
package projector
