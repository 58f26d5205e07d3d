//go:build !linux

package agent

import "syscall"

// procAttr starts an agent in its own process group, so an interrupt or a
// kill reaches its children.
func procAttr() *syscall.SysProcAttr { return &syscall.SysProcAttr{Setpgid: true} }

func killLeftovers(map[string]bool) int { return 0 }
