package codex

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/peonhq/peon/pkg/domain"
)

// safeID returns s when it is a valid Peon id (1–64 characters of
// [A-Za-z0-9_-]) and otherwise a deterministic short hash of it, so the
// same Codex id always maps to the same Peon id within and across events.
// Codex item ids are UUIDs or model call ids and usually pass unchanged.
func safeID(s string) string {
	if domain.ValidID(s) {
		return s
	}
	sum := sha256.Sum256([]byte(s))
	return "cx-" + hex.EncodeToString(sum[:12])
}

// requestID names an approval request. JSON-RPC ids restart with every
// app-server process, so they repeat across the turns of a thread; the
// item id (a tool call id, unique in the thread) plus the JSON-RPC id (a
// command can be asked about twice, say to rerun it outside the sandbox)
// does not.
func requestID(itemID, rpcID string) string {
	return safeID(itemID + "-" + rpcID)
}
