package embednats

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// LockFile is the file in a data directory that LockDir locks; it holds
// the pid of the process that has the directory.
const LockFile = "peon.lock"

// HeldError says another process has the data directory: two servers on
// one JetStream directory would each overwrite what the other stored.
type HeldError struct {
	Dir string
	// PID is the holder's process id, 0 when it could not be read.
	PID int
}

func (e *HeldError) Error() string {
	if e.PID == 0 {
		return fmt.Sprintf("data directory %s is in use by another process", e.Dir)
	}
	return fmt.Sprintf("data directory %s is in use by process %d", e.Dir, e.PID)
}

// LockDir takes dir for this process until unlock is called or the process
// ends (the operating system drops the lock with the process, so a crash
// leaves no stale lock). When another process has it, the error is a
// *HeldError naming that process.
func LockDir(dir string) (unlock func(), err error) {
	path := filepath.Join(dir, LockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	held, err := tryLock(f)
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", dir, err)
	}
	if held {
		b, _ := os.ReadFile(path)
		pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
		f.Close()
		return nil, &HeldError{Dir: dir, PID: pid}
	}
	// Best effort: the pid only makes the holder's error message precise.
	if err := f.Truncate(0); err == nil {
		_, _ = f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return func() { f.Close() }, nil
}
