package decider

import (
	"crypto/sha256"
	"encoding/hex"

	"github.com/google/uuid"
	"github.com/peonhq/peon/pkg/domain"
)

// idNamespace roots the UUIDv5 ids derived from command ids.
var idNamespace = uuid.MustParse("6f9c8a52-3c1e-4b7e-9a55-0b2d6c9e7a10")

// deriveID is the id a command creates for field when the client left it
// out: UUIDv5 of the command id and the field name, so a retry with the same
// command id addresses the same entity.
func deriveID(commandID, field string) string {
	return uuid.NewSHA1(idNamespace, []byte(commandID+"\x00"+field)).String()
}

// fill assigns a command id when absent and derives every id the command
// creates that the client left out.
func fill(cmd domain.Command) domain.Command {
	id := cmd.CommandIdentity()
	if id == "" {
		id = uuid.NewString()
	}
	derive := func(field string, v *string) {
		if *v == "" {
			*v = deriveID(id, field)
		}
	}
	switch c := cmd.(type) {
	case domain.CreateProject:
		c.CommandID = id
		derive("project_id", &c.ProjectID)
		return c
	case domain.CreateThread:
		c.CommandID = id
		derive("thread_id", &c.ThreadID)
		return c
	case domain.StartTurn:
		c.CommandID = id
		derive("turn_id", &c.TurnID)
		derive("message_id", &c.MessageID)
		return c
	case domain.CreateCheckpoint:
		c.CommandID = id
		derive("checkpoint_id", &c.CheckpointID)
		return c
	case domain.CommitChanges:
		c.CommandID = id
		derive("operation_id", &c.OperationID)
		return c
	case domain.CreateBranch:
		c.CommandID = id
		derive("operation_id", &c.OperationID)
		return c
	case domain.PushBranch:
		c.CommandID = id
		derive("operation_id", &c.OperationID)
		return c
	}
	return withCommandID(cmd, id)
}

// withCommandID sets the command id of the commands that create no ids.
func withCommandID(cmd domain.Command, id string) domain.Command {
	switch c := cmd.(type) {
	case domain.DeleteProject:
		c.CommandID = id
		return c
	case domain.RenameProject:
		c.CommandID = id
		return c
	case domain.DeleteThread:
		c.CommandID = id
		return c
	case domain.SelectThread:
		c.CommandID = id
		return c
	case domain.InterruptTurn:
		c.CommandID = id
		return c
	case domain.ApprovePendingAction:
		c.CommandID = id
		return c
	case domain.RejectPendingAction:
		c.CommandID = id
		return c
	case domain.IngestProviderEvent:
		c.CommandID = id
		return c
	case domain.RestoreCheckpoint:
		c.CommandID = id
		return c
	}
	return cmd
}

// commandHash fingerprints a filled-in command, so that a command id reused
// with a different body is told apart from a retry.
func commandHash(cmd domain.Command) string {
	b, err := domain.EncodeCommand(cmd, domain.MessagePack)
	if err != nil {
		return ""
	}
	sum := sha256.Sum256(append([]byte(cmd.CommandType()+"\x00"), b...))
	return hex.EncodeToString(sum[:16])
}
