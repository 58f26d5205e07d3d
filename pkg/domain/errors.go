package domain

import "fmt"

// Code is a stable, machine-readable error code. Codes travel in replies and
// are part of the public contract: once released, a code never changes meaning.
type Code string

// Codes produced by Decide and by the codec.
const (
	CodeBadRequest            Code = "bad_request"
	CodeInvalidCommand        Code = "invalid_command"
	CodePayloadTooLarge       Code = "payload_too_large"
	CodeProjectNotFound       Code = "project_not_found"
	CodeThreadNotFound        Code = "thread_not_found"
	CodeTurnNotFound          Code = "turn_not_found"
	CodePendingActionNotFound Code = "pending_action_not_found"
	CodeToolCallNotFound      Code = "tool_call_not_found"
	CodeCheckpointNotFound    Code = "checkpoint_not_found"
	CodeProjectExists         Code = "project_exists"
	CodeThreadExists          Code = "thread_exists"
	CodeDuplicateProjectPath  Code = "duplicate_project_path"
	CodeProjectNotEmpty       Code = "project_not_empty"
	CodeThreadBusy            Code = "thread_busy"
	CodeNoActiveTurn          Code = "no_active_turn"
	CodeTurnMismatch          Code = "turn_mismatch"
	CodeStaleProviderEvent    Code = "stale_provider_event"
	CodeCheckpointExists      Code = "checkpoint_exists"
	// Contract 1.1: completing a git operation the thread never requested,
	// and completing one that already ended with another outcome.
	CodeGitOperationNotFound Code = "git_operation_not_found"
	CodeGitOperationFinished Code = "git_operation_finished"
)

// DeciderError is the one error type of the domain: a stable Code plus a
// human-readable message. Two DeciderErrors match under errors.Is when their
// codes are equal, so callers test with the sentinels below:
//
//	if errors.Is(err, domain.ErrThreadBusy) { ... }
type DeciderError struct {
	Code    Code
	Message string
}

func (e *DeciderError) Error() string {
	if e.Message == "" {
		return string(e.Code)
	}
	return string(e.Code) + ": " + e.Message
}

// Is reports whether target is a DeciderError with the same code.
func (e *DeciderError) Is(target error) bool {
	t, ok := target.(*DeciderError)
	return ok && t.Code == e.Code
}

// Errorf returns a DeciderError with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *DeciderError {
	return &DeciderError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is; they carry no message.
var (
	ErrBadRequest            = &DeciderError{Code: CodeBadRequest}
	ErrInvalidCommand        = &DeciderError{Code: CodeInvalidCommand}
	ErrPayloadTooLarge       = &DeciderError{Code: CodePayloadTooLarge}
	ErrProjectNotFound       = &DeciderError{Code: CodeProjectNotFound}
	ErrThreadNotFound        = &DeciderError{Code: CodeThreadNotFound}
	ErrTurnNotFound          = &DeciderError{Code: CodeTurnNotFound}
	ErrPendingActionNotFound = &DeciderError{Code: CodePendingActionNotFound}
	ErrToolCallNotFound      = &DeciderError{Code: CodeToolCallNotFound}
	ErrCheckpointNotFound    = &DeciderError{Code: CodeCheckpointNotFound}
	ErrProjectExists         = &DeciderError{Code: CodeProjectExists}
	ErrThreadExists          = &DeciderError{Code: CodeThreadExists}
	ErrDuplicateProjectPath  = &DeciderError{Code: CodeDuplicateProjectPath}
	ErrProjectNotEmpty       = &DeciderError{Code: CodeProjectNotEmpty}
	ErrThreadBusy            = &DeciderError{Code: CodeThreadBusy}
	ErrNoActiveTurn          = &DeciderError{Code: CodeNoActiveTurn}
	ErrTurnMismatch          = &DeciderError{Code: CodeTurnMismatch}
	ErrStaleProviderEvent    = &DeciderError{Code: CodeStaleProviderEvent}
	ErrCheckpointExists      = &DeciderError{Code: CodeCheckpointExists}
	ErrGitOperationNotFound  = &DeciderError{Code: CodeGitOperationNotFound}
	ErrGitOperationFinished  = &DeciderError{Code: CodeGitOperationFinished}
)
