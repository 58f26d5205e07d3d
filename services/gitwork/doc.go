// Package gitwork is the git side of a host: it checkpoints the working
// tree around each turn (Checkpointer) and executes the git operations
// users ask for — commit, branch, push, restore — in the projects that live
// on the host (Executor), recording every outcome. The git itself is
// internal/workspace; docs/workspace.md describes the whole.
package gitwork
