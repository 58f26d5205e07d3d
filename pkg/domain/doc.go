// Package domain is the pure core of Peon: the commands clients send, the
// events that record what happened, the read model those events fold into,
// and the two functions that tie them together:
//
//	Decide(cmd, model) ([]Event, error)  // validate a command, say what it causes
//	Project(model, stored) *Model        // fold one stored event into the model
//
// Nothing here performs I/O, reads the clock or draws random numbers: time
// arrives as the stored event's timestamp and identifiers arrive inside
// commands (the decider service fills in the ones a client left out). The
// services around this package (decider, projector, provider-ingest) load
// events from JetStream, call these functions and write the results back.
//
// The package also owns the wire codec (MessagePack and JSON) for commands,
// events and provider events, because the shapes are part of the domain's
// public contract.
package domain
