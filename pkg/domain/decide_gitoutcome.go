package domain

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxGitTextBytes bounds the output and the error of a git operation (and
// the error of an exited agent session) as the model records them. Longer
// text is cut in the middle with a note (see BoundText): git's summary is at
// the start, its final complaint at the end.
const MaxGitTextBytes = 16 << 10

// decideCompleteGitOperation records the outcome a host reports for a
// requested git operation. Reporting the outcome an operation already has
// again (a redelivery) changes nothing; reporting another one is refused.
func decideCompleteGitOperation(c CompleteGitOperation, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := checkID("operation_id", c.OperationID); err != nil {
		return nil, err
	}
	outcome, err := gitOutcomeOf(c)
	if err != nil {
		return nil, err
	}
	op, ok := t.GitOperation(c.OperationID)
	if !ok {
		return nil, Errorf(CodeGitOperationNotFound, "git operation %q not found in thread %s", c.OperationID, t.ID)
	}
	if op.Status != GitOperationRequested {
		if outcome.sameAs(op) {
			return nil, nil
		}
		return nil, Errorf(CodeGitOperationFinished, "git operation %s already %s with another outcome", op.ID, op.Status)
	}
	if outcome.status == GitStatusCompleted && op.Kind == GitCommit && outcome.sha == "" {
		return nil, Errorf(CodeInvalidCommand, "a completed commit needs its sha")
	}
	if outcome.status == GitStatusFailed {
		return []Event{GitOperationFailed{ThreadID: t.ID, OperationID: op.ID, Error: outcome.err}}, nil
	}
	return []Event{GitOperationCompleted{ThreadID: t.ID, OperationID: op.ID, SHA: outcome.sha, Output: outcome.output}}, nil
}

// gitOutcome is a reported outcome as the model would record it.
type gitOutcome struct {
	status, sha, output, err string
}

// gitOutcomeOf validates the reported outcome: completed carries an
// optional sha and output, failed a non-empty error and nothing else.
func gitOutcomeOf(c CompleteGitOperation) (gitOutcome, error) {
	switch c.Status {
	case GitStatusCompleted:
		if c.Error != "" {
			return gitOutcome{}, Errorf(CodeInvalidCommand, "a completed git operation has no error")
		}
		if c.SHA != "" && !validObjectID(c.SHA) {
			return gitOutcome{}, Errorf(CodeInvalidCommand, "sha %q is not a git object id (40 or 64 lowercase hex digits)", c.SHA)
		}
		return gitOutcome{status: GitStatusCompleted, sha: c.SHA, output: BoundText(c.Output)}, nil
	case GitStatusFailed:
		if strings.TrimSpace(c.Error) == "" {
			return gitOutcome{}, Errorf(CodeInvalidCommand, "a failed git operation needs its error")
		}
		if c.SHA != "" || c.Output != "" {
			return gitOutcome{}, Errorf(CodeInvalidCommand, "a failed git operation has no sha or output (git's message goes in error)")
		}
		return gitOutcome{status: GitStatusFailed, err: BoundText(c.Error)}, nil
	}
	return gitOutcome{}, Errorf(CodeInvalidCommand, "status %q is not %s or %s", c.Status, GitStatusCompleted, GitStatusFailed)
}

func (o gitOutcome) sameAs(op *GitOperation) bool {
	return o.status == op.Status && o.sha == op.SHA && o.output == op.Output && o.err == op.Error
}

// cutNote marks where BoundText cut text out.
const cutNote = "\n[… %d bytes cut …]\n"

// BoundText returns s when it fits MaxGitTextBytes, else its start and its
// end joined by a note saying how many bytes were cut from the middle. The
// result fits MaxGitTextBytes and is cut at UTF-8 character boundaries.
func BoundText(s string) string {
	if len(s) <= MaxGitTextBytes {
		return s
	}
	// The cut is shorter than s, so a note naming len(s) is never shorter.
	keep := MaxGitTextBytes - len(fmt.Sprintf(cutNote, len(s)))
	head, tail := keep/2, len(s)-(keep-keep/2)
	for head > 0 && !utf8.RuneStart(s[head]) {
		head--
	}
	for tail < len(s) && !utf8.RuneStart(s[tail]) {
		tail++
	}
	return s[:head] + fmt.Sprintf(cutNote, tail-head) + s[tail:]
}
