//go:build unix

package workspace

import (
	"os/exec"
	"syscall"
)

// ownProcessGroup runs git in a process group of its own, and stops the
// whole group when the context ends: git's children (hooks, ssh, a
// credential helper waiting on a prompt) go with it instead of living on.
// SIGTERM, not SIGKILL: git removes its lock files (index.lock) on it, so
// the repository is left usable. Git still running after WaitDelay is
// killed.
func ownProcessGroup(cmd *exec.Cmd) {
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
}
