package main

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1 // the command was refused or failed permanently, or the system is degraded
	exitUsage       = 2 // bad flags or arguments
	exitUnavailable = 3 // NATS or a service is not reachable; retry later
)

// usageError is a mistake in the invocation; hint is the help to read.
type usageError struct{ msg, hint string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{msg: fmt.Sprintf(format, args...)} }

// problems joins every problem found in an invocation into one usage
// error, so a user fixes them all in one go; nil when there are none.
func problems(errs ...error) error {
	return problemsOf("", errs...)
}

// problemsOf is problems for one subject (a command's name, say): one
// problem is one line, more are a list under a count.
func problemsOf(subject string, errs ...error) error {
	var lines []string
	for _, err := range errs {
		if err == nil {
			continue
		}
		lines = append(lines, strings.Split(err.Error(), "\n")...)
	}
	prefix := ""
	if subject != "" {
		prefix = subject + ": "
	}
	switch len(lines) {
	case 0:
		return nil
	case 1:
		return usageError{msg: prefix + lines[0]}
	}
	return usageError{msg: fmt.Sprintf("%s%d problems:\n  %s", prefix, len(lines), strings.Join(lines, "\n  "))}
}

// unavailableError says the system could not be reached.
type unavailableError struct{ err error }

func (e unavailableError) Error() string { return e.err.Error() }
func (e unavailableError) Unwrap() error { return e.err }

// errSilent is a failure already reported (a command's error reply, a
// degraded status): the exit code says the rest.
var errSilent = errors.New("failed")

// errSilentUnavailable is a transient failure already reported.
var errSilentUnavailable = unavailableError{errSilent}

// errHelp ends an invocation after help was printed.
var errHelp = errors.New("help")

// exitCode maps run's error to the process exit code, printing what the
// user needs to read on stderr.
func exitCode(err error, stderr io.Writer) int {
	var usage usageError
	var unavailable unavailableError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errSilentUnavailable):
		return exitUnavailable
	case errors.Is(err, errSilent):
		return exitFailed
	case errors.As(err, &usage):
		hint := usage.hint
		if hint == "" {
			hint = "peon help"
		}
		fmt.Fprintf(stderr, "peon: %v\nRun '%s' for usage.\n", err, hint)
		return exitUsage
	case errors.As(err, &unavailable):
		fmt.Fprintf(stderr, "peon: %v\n", err)
		return exitUnavailable
	}
	fmt.Fprintf(stderr, "peon: %v\n", err)
	return exitFailed
}
