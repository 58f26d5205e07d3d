package gitwork

// Ref names a thread's checkpoints live under. Thread and turn ids are
// [A-Za-z0-9_-], so they are valid ref components as they are.

// BaseRef is the thread's baseline: the working tree when its first turn
// started.
func BaseRef(threadID string) string { return "refs/peon/checkpoints/" + threadID + "/base" }

// TurnRef is the snapshot taken when a turn ended.
func TurnRef(threadID, turnID string) string {
	return "refs/peon/checkpoints/" + threadID + "/" + turnID
}

// LatestRef is the snapshot the working tree was last known to match for
// a thread: its last checkpoint, or the one it was restored to. The next
// turn's changes are counted against it.
func LatestRef(threadID string) string { return "refs/peon/latest/" + threadID }

// operationKey names a git operation inside a repository (commit
// trailers, operation refs): operation ids are unique within a thread.
func operationKey(threadID, operationID string) string { return threadID + "/" + operationID }
