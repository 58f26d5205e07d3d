package decider

import (
	"reflect"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// replyFor builds the success reply: the appended events and the id fields
// of the command as given or derived (every command field named like one of
// the reply's id fields is copied).
func replyFor(cmd domain.Command, events []contract.EventRef, duplicate bool) contract.CommandReply {
	r := contract.CommandReply{CommandID: cmd.CommandIdentity(), Events: events, Duplicate: duplicate}
	if r.Events == nil {
		r.Events = []contract.EventRef{}
	}
	if n := len(events); n > 0 {
		r.LastSequence = events[n-1].Sequence
	}
	c := reflect.ValueOf(cmd)
	out := reflect.ValueOf(&r).Elem()
	for _, name := range replyIDFields {
		if f := c.FieldByName(name); f.IsValid() {
			out.FieldByName(name).SetString(f.String())
		}
	}
	return r
}

// replyIDFields are the id fields a reply carries at its top level.
var replyIDFields = []string{"ProjectID", "ThreadID", "TurnID", "MessageID", "CheckpointID", "OperationID", "RequestID"}
