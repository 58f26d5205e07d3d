package main

import (
	"fmt"
	"os"
	"runtime/pprof"
)

// cpuProfileEnv names a file every peon process, whatever its command,
// writes a CPU profile of its whole life to: started before the command
// runs, flushed when it returns (for a service, on SIGTERM or Ctrl-C once
// it has stopped). It is an environment variable rather than a flag so
// that each role honours it without declaring a flag of its own, and so
// that whoever starts a process (peon bench --cluster) can profile it
// without knowing its command line. It is read in main, not in run: a
// profile belongs to a process, and the tests run many commands in one.
const cpuProfileEnv = "PEON_CPUPROFILE"

// profileProcess starts the CPU profile PEON_CPUPROFILE asks for, if any,
// and removes the variable from the environment so that no child this
// process starts writes the same file. The returned stop flushes it.
func profileProcess() (stop func(), err error) {
	path := os.Getenv(cpuProfileEnv)
	_ = os.Unsetenv(cpuProfileEnv)
	if path == "" {
		return func() {}, nil
	}
	stop, err = startCPUProfile(path)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", cpuProfileEnv, err)
	}
	return stop, nil
}

// startCPUProfile profiles this process's CPU into a new file at path
// until stop is called.
func startCPUProfile(path string) (stop func(), err error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}, nil
}
