package main

import (
	"io"
	"os"
	"sync"
)

// environment is what every command gets: the process environment and its
// standard streams.
type environment struct {
	getenv func(string) string
	stdin  io.Reader
	stdout io.Writer
	// stderr is shared by goroutines (logs, progress): writes are locked.
	stderr io.Writer
}

func newEnvironment(getenv func(string) string, stdin io.Reader, stdout, stderr io.Writer) *environment {
	return &environment{getenv: getenv, stdin: stdin, stdout: stdout, stderr: &lockedWriter{w: stderr}}
}

// colour reports whether w is a terminal that wants colour: not when
// piped or redirected, and not when NO_COLOR is set or TERM is dumb.
func (e *environment) colour(w io.Writer) bool {
	return isTerminal(w) && e.getenv("NO_COLOR") == "" && e.getenv("TERM") != "dumb"
}

// isTerminal reports whether w is a character device (a terminal).
func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// lockedWriter serialises writes to a writer shared by goroutines.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
