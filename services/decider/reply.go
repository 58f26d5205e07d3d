package decider

import (
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// replyFor builds the success reply: the appended events and the id fields
// of the command as given or derived.
func replyFor(cmd domain.Command, events []contract.EventRef, duplicate bool) contract.CommandReply {
	r := contract.CommandReply{CommandID: cmd.CommandIdentity(), Events: events, Duplicate: duplicate}
	if r.Events == nil {
		r.Events = []contract.EventRef{}
	}
	if n := len(events); n > 0 {
		r.LastSequence = events[n-1].Sequence
	}
	switch c := cmd.(type) {
	case domain.CreateProject:
		r.ProjectID = c.ProjectID
	case domain.DeleteProject:
		r.ProjectID = c.ProjectID
	case domain.RenameProject:
		r.ProjectID = c.ProjectID
	case domain.CreateThread:
		r.ThreadID, r.ProjectID = c.ThreadID, c.ProjectID
	case domain.StartTurn:
		r.ThreadID, r.TurnID, r.MessageID = c.ThreadID, c.TurnID, c.MessageID
	case domain.InterruptTurn:
		r.ThreadID, r.TurnID = c.ThreadID, c.TurnID
	case domain.ApprovePendingAction:
		r.ThreadID, r.RequestID = c.ThreadID, c.RequestID
	case domain.RejectPendingAction:
		r.ThreadID, r.RequestID = c.ThreadID, c.RequestID
	case domain.IngestProviderEvent:
		r.ThreadID, r.TurnID = c.ThreadID, c.TurnID
	case domain.CreateCheckpoint:
		r.ThreadID, r.CheckpointID, r.TurnID = c.ThreadID, c.CheckpointID, c.TurnID
	case domain.RestoreCheckpoint:
		r.ThreadID, r.CheckpointID = c.ThreadID, c.CheckpointID
	case domain.CommitChanges:
		r.ThreadID, r.OperationID = c.ThreadID, c.OperationID
	case domain.CreateBranch:
		r.ThreadID, r.OperationID = c.ThreadID, c.OperationID
	case domain.PushBranch:
		r.ThreadID, r.OperationID = c.ThreadID, c.OperationID
	default:
		if t := threadOf(cmd); t != "" {
			r.ThreadID = t
		}
	}
	return r
}
