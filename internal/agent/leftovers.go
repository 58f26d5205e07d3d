package agent

// Agents outlive a host that is killed (SIGKILL, an OOM kill): nothing
// runs the host's cleanup. Two things stop them:
//
//   - on Linux the agent's process is started with a parent-death signal,
//     so the kernel kills it the moment its host dies (see
//     process_linux.go);
//   - every agent process carries its turn in its environment
//     (PEON_TURN_ID), so the host instance that later ends that turn as
//     lost first kills whatever of it still runs on this machine, the
//     agent's children included (KillLeftovers).

// TurnEnv is the environment every agent process of a turn gets: the
// thread and turn it plays, which also lets KillLeftovers find it.
func TurnEnv(threadID, turnID string) []string {
	return []string{"PEON_THREAD_ID=" + threadID, "PEON_TURN_ID=" + turnID}
}

// KillLeftovers kills, with their process groups, the processes of this
// user that still run any of the given turns (by PEON_TURN_ID in their
// environment), in one look at the process table, and returns how many it
// found. On systems without /proc it finds none.
func KillLeftovers(turnIDs ...string) int {
	if len(turnIDs) == 0 {
		return 0
	}
	markers := make(map[string]bool, len(turnIDs))
	for _, id := range turnIDs {
		markers["PEON_TURN_ID="+id] = true
	}
	return killLeftovers(markers)
}
