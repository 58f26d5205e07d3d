package contract

import "github.com/peonhq/peon/pkg/domain"

// EventRef names one appended event in a reply.
type EventRef struct {
	Sequence uint64 `json:"sequence"`
	Type     string `json:"type"`
}

// CommandReply is the success reply to a command. Besides these fields it
// carries, at the top level, the id fields of the command as given or
// derived (project_id, thread_id, turn_id, ...): see Ids.
type CommandReply struct {
	CommandID    string     `json:"command_id"`
	Events       []EventRef `json:"events"`
	LastSequence uint64     `json:"last_sequence"`
	Duplicate    bool       `json:"duplicate"`
	ProjectID    string     `json:"project_id,omitempty"`
	ThreadID     string     `json:"thread_id,omitempty"`
	TurnID       string     `json:"turn_id,omitempty"`
	MessageID    string     `json:"message_id,omitempty"`
	CheckpointID string     `json:"checkpoint_id,omitempty"`
	OperationID  string     `json:"operation_id,omitempty"`
	RequestID    string     `json:"request_id,omitempty"`
}

// ErrorBody is the body of a failure reply: {"error": {"code", "message"}}.
type ErrorBody struct {
	Error ErrorDetail `json:"error"`
}

// ErrorDetail is the code and message of a failure.
type ErrorDetail struct {
	Code    string `json:"code"`
	Message string `json:"message"`
}

// Codes that only the services produce (the domain's are in package domain).
const (
	CodeCommandIDReused domain.Code = "command_id_reused"
	CodeContention      domain.Code = "contention"
	CodeUnavailable     domain.Code = "unavailable"
	CodeTimeout         domain.Code = "timeout"
	CodeInternal        domain.Code = "internal"
	// CodeReplyTooLarge: the one item a query asked for does not fit in a
	// reply under the server's max payload.
	CodeReplyTooLarge domain.Code = "reply_too_large"
)

// Status maps an error code to its reply status: 4xx are permanent (do not
// retry as is), 5xx transient.
func Status(code domain.Code) int {
	switch code {
	case domain.CodeBadRequest, domain.CodeInvalidCommand:
		return 400
	case domain.CodePayloadTooLarge, CodeReplyTooLarge:
		return 413
	case domain.CodeProjectNotFound, domain.CodeThreadNotFound, domain.CodeTurnNotFound,
		domain.CodePendingActionNotFound, domain.CodeToolCallNotFound, domain.CodeCheckpointNotFound,
		domain.CodeGitOperationNotFound:
		return 404
	case domain.CodeProjectExists, domain.CodeThreadExists, domain.CodeDuplicateProjectPath,
		domain.CodeProjectNotEmpty, domain.CodeThreadBusy, domain.CodeNoActiveTurn, domain.CodeTurnMismatch,
		domain.CodeStaleProviderEvent, domain.CodeCheckpointExists, domain.CodeGitOperationFinished,
		CodeCommandIDReused:
		return 409
	case CodeContention, CodeUnavailable:
		return 503
	case CodeTimeout:
		return 504
	}
	return 500
}

// Transient reports whether a status says "retry later".
func Transient(status int) bool { return status >= 500 }
