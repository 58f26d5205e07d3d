package workspace

// Turn names a turn a host runs and the project directory it runs in: what
// a host tells its workspace before and after each turn (services/host's
// Workspace hook, implemented by services/gitwork's Checkpointer).
type Turn struct {
	ProjectID, ThreadID, TurnID, Dir string
	// First says this is the thread's first turn.
	First bool
}
