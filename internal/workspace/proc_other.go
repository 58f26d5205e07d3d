//go:build !unix

package workspace

import "os/exec"

// ownProcessGroup: elsewhere, only git itself is stopped when the context
// ends (WaitDelay bounds the wait for what its children hold open).
func ownProcessGroup(*exec.Cmd) {}
