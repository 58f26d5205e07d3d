//go:build !linux

package main

import "syscall"

// childAttr: elsewhere a bench child shares the bench's process group, so
// a Ctrl-C reaches it too and it stops by itself; no kernel kills it
// should the bench die first.
func childAttr() *syscall.SysProcAttr { return nil }
