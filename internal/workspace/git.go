// Package workspace is a project's git working tree as Peon uses it:
// snapshots of the whole tree under hidden refs (checkpoints), the changes
// and the unified diff between two snapshots, restoring the tree to a
// snapshot, and the commit, branch and push a user asks for.
//
// Everything runs the `git` CLI in the repository, so the user's config,
// hooks, credentials and git's own performance apply (docs/dependencies.md).
// Every failure is a *GitError carrying git's own message.
package workspace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"time"
)

// GitError is a git command that failed: its arguments and what git said.
type GitError struct {
	Args []string
	// Message is git's own message: its stderr, or its stdout when stderr
	// is empty (`git commit` reports "nothing to commit" on stdout).
	Message  string
	ExitCode int
}

func (e *GitError) Error() string {
	sub := "git"
	if len(e.Args) > 0 {
		sub = "git " + e.Args[0]
	}
	if e.Message == "" {
		return fmt.Sprintf("%s: exit status %d", sub, e.ExitCode)
	}
	return sub + ": " + e.Message
}

// environment is the process environment without the variables that would
// point git at another repository, index or work tree than the one asked
// for (a host started from a git hook inherits them), and with prompts
// off: a push that needs credentials the host lacks fails instead of
// waiting for a terminal forever.
func environment(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		name, _, _ := strings.Cut(kv, "=")
		switch name {
		case "GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_OBJECT_DIRECTORY", "GIT_COMMON_DIR", "GIT_PREFIX":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "GIT_TERMINAL_PROMPT=0")
	return append(env, extra...)
}

// run runs git in dir with extra environment and returns its stdout.
func run(ctx context.Context, dir string, env []string, args ...string) ([]byte, error) {
	var stdout, stderr bytes.Buffer
	if err := runTo(ctx, dir, env, &stdout, &stderr, args...); err != nil {
		return stdout.Bytes(), err
	}
	return stdout.Bytes(), nil
}

// runTo runs git with its stdout going to out.
func runTo(ctx context.Context, dir string, env []string, out interface{ Write([]byte) (int, error) }, stderr *bytes.Buffer, args ...string) error {
	cmd := exec.CommandContext(ctx, "git", args...)
	cmd.Dir = dir
	cmd.Env = environment(env...)
	cmd.Stdout = out
	cmd.Stderr = stderr
	ownProcessGroup(cmd)
	// A child git left behind (a hook) may hold the output pipes open
	// after git was stopped: do not wait for it longer than this.
	cmd.WaitDelay = 5 * time.Second
	err := cmd.Run()
	if err == nil {
		return nil
	}
	var exit *exec.ExitError
	if !errors.As(err, &exit) {
		// git did not run (not installed, the directory is gone, ctx done).
		return &GitError{Args: args, Message: err.Error(), ExitCode: -1}
	}
	msg := strings.TrimSpace(stderr.String())
	if msg == "" {
		if b, ok := out.(*bytes.Buffer); ok {
			msg = strings.TrimSpace(b.String())
		}
	}
	if ctx.Err() != nil { // killed: say why, with what git had said
		msg = strings.TrimSpace("stopped: " + ctx.Err().Error() + "\n" + msg)
	}
	return &GitError{Args: args, Message: msg, ExitCode: exit.ExitCode()}
}
