// Command peon runs any Peon role — the whole system on an embedded NATS
// server (peon dev), one service against a NATS cluster (peon decider,
// projector, query, provider-ingest), the admin step (peon setup) — and is
// the client for it (peon cmd, events, thread, projects, threads, status,
// simulate, bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	os.Exit(exitCode(err, os.Stderr))
}

// Exit codes.
const (
	exitOK          = 0
	exitFailed      = 1 // the command was refused or failed permanently
	exitUsage       = 2 // bad flags or arguments
	exitUnavailable = 3 // NATS or a service is not reachable; retry later
)

// usageError is a mistake in the invocation.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func usagef(format string, args ...any) error { return usageError{fmt.Sprintf(format, args...)} }

// unavailableError says the system could not be reached.
type unavailableError struct{ err error }

func (e unavailableError) Error() string { return e.err.Error() }
func (e unavailableError) Unwrap() error { return e.err }

// errSilent is a failure already reported on stdout (a command's error reply).
var errSilent = errors.New("failed")

func exitCode(err error, stderr io.Writer) int {
	var usage usageError
	var unavailable unavailableError
	switch {
	case err == nil, errors.Is(err, errHelp):
		return exitOK
	case errors.Is(err, errSilent):
		return exitFailed
	case errors.As(err, &usage):
		fmt.Fprintf(stderr, "peon: %v\nRun 'peon help' for usage.\n", err)
		return exitUsage
	case errors.As(err, &unavailable):
		fmt.Fprintf(stderr, "peon: %v\n", err)
		return exitUnavailable
	}
	fmt.Fprintf(stderr, "peon: %v\n", err)
	return exitFailed
}

const usage = `peon — event-sourced orchestration of coding-agent sessions on NATS JetStream

Run Peon:
  peon dev [--demo]            everything in one process on an embedded NATS server
  peon setup                   create streams, buckets and consumers (admin)
  peon decider                 serve commands (peon.cmd.>)
  peon projector               fold events into the read-model buckets
  peon projector rebuild       replay the stream into fresh buckets and switch readers
  peon query                   serve queries (peon.query.>)
  peon provider-ingest         turn provider events into commands
  peon simulate                play fake agents on some threads
  peon health --http URL       exit 0 when URL answers 200 (container health checks)

Use it:
  peon cmd <name> [--json BODY | --field value ...]   send a command (name: project.create, turn.start, ...)
  peon events tail [--since SEQ] [--thread ID] [--json]
  peon thread show ID | peon thread watch ID
  peon projects list | peon threads list [--project ID]
  peon status
  peon bench [--quick] [--json] [--sync-always]   load generator on its own embedded server

Connection (flags or environment): --nats-url (NATS_URL, default nats://127.0.0.1:4222),
--creds (NATS_CREDS), --tls-cert/--tls-key/--tls-ca (NATS_TLS_CERT/KEY/CA),
--instance (PEON_INSTANCE), --log-format auto|text|json (PEON_LOG_FORMAT), --log-level (PEON_LOG_LEVEL).
Run 'peon <command> --help' for a command's flags.
`

// run is the whole program, testable: args without the program name,
// getenv for the environment, stdout/stderr for output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return usagef("no command given")
	}
	// Logs and progress lines reach stderr from several goroutines.
	env := &environment{getenv: getenv, stdout: stdout, stderr: &lockedWriter{w: stderr}}
	cmd, rest := args[0], args[1:]
	switch cmd {
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	case "dev":
		return runDev(ctx, env, rest)
	case "setup":
		return runSetup(ctx, env, rest)
	case "decider", "query", "provider-ingest":
		return runRole(ctx, env, cmd, rest)
	case "projector":
		if len(rest) > 0 && rest[0] == "rebuild" {
			return runRebuild(ctx, env, rest[1:])
		}
		return runRole(ctx, env, cmd, rest)
	case "simulate":
		return runSimulate(ctx, env, rest)
	case "cmd":
		return runCommand(ctx, env, rest)
	case "events":
		return runEvents(ctx, env, rest)
	case "thread":
		return runThread(ctx, env, rest)
	case "projects", "threads":
		return runList(ctx, env, cmd, rest)
	case "status":
		return runStatus(ctx, env, rest)
	case "bench":
		return runBench(ctx, env, rest)
	case "health":
		return runHealth(ctx, env, rest)
	}
	return usagef("unknown command %q", cmd)
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
