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
// creates (its registry row's Creates) that the client left out. It works
// on a copy, so the caller's command is left alone.
func fill(cmd domain.Command) domain.Command {
	id := cmd.CommandIdentity()
	if id == "" {
		id = uuid.NewString()
		cmd = domain.WithID(cmd, "command_id", id)
	}
	spec, _ := domain.CommandSpecOf(cmd.CommandType())
	for _, field := range spec.Creates {
		if domain.IDOf(cmd, field) == "" {
			cmd = domain.WithID(cmd, field, deriveID(id, field))
		}
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
