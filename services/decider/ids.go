package decider

import (
	"crypto/sha256"
	"encoding/hex"
	"reflect"

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

// createdIDs names, per command type, the id fields the command creates:
// Go field name and wire name (the latter seeds the derivation).
var createdIDs = map[string][][2]string{
	domain.TypeCreateProject:    {{"ProjectID", "project_id"}},
	domain.TypeCreateThread:     {{"ThreadID", "thread_id"}},
	domain.TypeStartTurn:        {{"TurnID", "turn_id"}, {"MessageID", "message_id"}},
	domain.TypeCreateCheckpoint: {{"CheckpointID", "checkpoint_id"}},
	domain.TypeCommitChanges:    {{"OperationID", "operation_id"}},
	domain.TypeCreateBranch:     {{"OperationID", "operation_id"}},
	domain.TypePushBranch:       {{"OperationID", "operation_id"}},
	// Restoring a checkpoint is a git operation too (contract 1.1).
	domain.TypeRestoreCheckpoint: {{"OperationID", "operation_id"}},
}

// fill assigns a command id when absent and derives every id the command
// creates that the client left out. Every command struct has a CommandID
// field; fill works on a copy, so the caller's command is left alone.
func fill(cmd domain.Command) domain.Command {
	v := reflect.New(reflect.TypeOf(cmd)).Elem()
	v.Set(reflect.ValueOf(cmd))
	id := v.FieldByName("CommandID")
	if id.String() == "" {
		id.SetString(uuid.NewString())
	}
	for _, f := range createdIDs[cmd.CommandType()] {
		if field := v.FieldByName(f[0]); field.String() == "" {
			field.SetString(deriveID(id.String(), f[1]))
		}
	}
	return v.Interface().(domain.Command)
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
