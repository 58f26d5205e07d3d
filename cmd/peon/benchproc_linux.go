package main

import "syscall"

// childAttr puts a bench child in a process group of its own, so a Ctrl-C
// at the terminal reaches only the bench (which stops its children in
// order), and has the kernel kill it should the bench itself die.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}
