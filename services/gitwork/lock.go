package gitwork

import "sync"

// repoLocks serialises the git work of this process per repository (by
// its work tree's root): a checkpoint and a git operation in one project
// never run at once, nor two operations of one project, whichever of the
// Checkpointer and the Executor asks.
var repoLocks sync.Map // root -> *sync.Mutex

// lockRepo takes the repository's lock and returns its release.
func lockRepo(root string) (unlock func()) {
	m, _ := repoLocks.LoadOrStore(root, &sync.Mutex{})
	mu := m.(*sync.Mutex)
	mu.Lock()
	return mu.Unlock
}
