package decider

import (
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// replyFor builds the success reply: the appended events and the id fields
// of the command as given or derived (every id field of its registry row
// that the reply carries).
func replyFor(cmd domain.Command, events []contract.EventRef, duplicate bool) contract.CommandReply {
	r := contract.CommandReply{CommandID: cmd.CommandIdentity(), Events: events, Duplicate: duplicate}
	if r.Events == nil {
		r.Events = []contract.EventRef{}
	}
	if n := len(events); n > 0 {
		r.LastSequence = events[n-1].Sequence
	}
	if spec, ok := domain.CommandSpecOf(cmd.CommandType()); ok {
		for _, field := range spec.IDFields() {
			r.SetID(field, domain.IDOf(cmd, field))
		}
	}
	return r
}
