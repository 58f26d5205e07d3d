package domain

import (
	"encoding/json"
	"reflect"

	"github.com/vmihailenco/msgpack/v5"
)

// eventSchema describes how one event type is stored: its Go type and the
// schema version written today.
type eventSchema struct {
	typ     reflect.Type
	version int
}

var eventSchemas = map[string]eventSchema{}

func init() {
	for _, e := range []Event{ProjectCreated{}, ProjectRenamed{}, ProjectDeleted{}, ThreadCreated{},
		ThreadDeleted{}, ThreadSelected{}, ThreadStatusChanged{}, TurnStarted{}, TurnCompleted{},
		TurnInterrupted{}, TurnFailed{}, MessageAppended{}, MessageChunkReceived{}, MessageCompleted{},
		ThinkingChunkReceived{}, ToolCallStarted{}, ToolCallCompleted{}, PendingActionRequested{},
		PendingActionResolved{}, CheckpointCreated{}, CheckpointRestored{}, CommitRequested{},
		BranchCreateRequested{}, PushRequested{}, ThreadConfigured{}, AgentSessionStarted{},
		AgentSessionExited{}, GitOperationCompleted{}, GitOperationFailed{}} {
		eventSchemas[e.EventType()] = eventSchema{typ: reflect.TypeOf(e), version: 1}
	}
	for _, u := range upcasters {
		s := eventSchemas[u.eventType]
		if u.from+1 > s.version {
			s.version = u.from + 1
			eventSchemas[u.eventType] = s
		}
	}
}

// EventTypes lists every event type tag.
func EventTypes() []string {
	out := make([]string, 0, len(eventSchemas))
	for t := range eventSchemas {
		out = append(out, t)
	}
	return out
}

// SchemaVersion returns the schema version written today for an event type.
func SchemaVersion(eventType string) int { return eventSchemas[eventType].version }

// envelope is an event as stored: {type, v, data}.
type envelope[T any] struct {
	Type string `json:"type" required:"true"`
	V    int    `json:"v" required:"true"`
	Data T      `json:"data" required:"true"`
}

// EncodeEvent encodes an event as its stored envelope {type, v, data}. The
// MessagePack form is deterministic (struct fields in declaration order, map
// keys sorted), so replaying the stream reproduces read models byte for byte.
func EncodeEvent(e Event, enc Encoding) ([]byte, error) {
	s, ok := eventSchemas[e.EventType()]
	if !ok {
		return nil, Errorf(CodeBadRequest, "unknown event type %q", e.EventType())
	}
	data, err := marshal(enc, e)
	if err != nil {
		return nil, err
	}
	if enc == JSON {
		return marshal(JSON, envelope[json.RawMessage]{Type: e.EventType(), V: s.version, Data: data})
	}
	return marshal(MessagePack, envelope[msgpack.RawMessage]{Type: e.EventType(), V: s.version, Data: data})
}

// DecodeEvent decodes a stored envelope. Older schema versions are brought
// up to date by the upcasters; a newer or unknown version, an unknown type or
// malformed data is a bad_request error (the caller parks such an event).
func DecodeEvent(data []byte, enc Encoding) (Event, error) {
	if err := checkInput(data, enc, maxEventBytes); err != nil {
		return nil, err
	}
	var typ string
	var version int
	var body []byte
	if enc == JSON {
		var env envelope[json.RawMessage]
		if err := decodeStrict(JSON, data, &env, "event", "", false); err != nil {
			return nil, err
		}
		typ, version, body = env.Type, env.V, env.Data
	} else {
		var env envelope[msgpack.RawMessage]
		if err := decodeStrict(MessagePack, data, &env, "event", "", false); err != nil {
			return nil, err
		}
		typ, version, body = env.Type, env.V, env.Data
	}
	s, ok := eventSchemas[typ]
	if !ok {
		return nil, Errorf(CodeBadRequest, "unknown event type %q", typ)
	}
	if version < 1 || version > s.version {
		return nil, Errorf(CodeBadRequest, "event %s has schema version %d; this build reads 1..%d", typ, version, s.version)
	}
	if version < s.version {
		var err error
		if body, err = upcast(typ, version, s.version, body, enc); err != nil {
			return nil, err
		}
	}
	v := reflect.New(s.typ)
	if err := decodeStrict(enc, body, v.Interface(), "event "+typ, "", false); err != nil {
		return nil, err
	}
	e := v.Elem().Interface().(Event)
	if ts, ok := e.(ToolCallStarted); ok {
		input, err := normalizeMap(ts.Input)
		if err != nil {
			return nil, Errorf(CodeBadRequest, "event %s input: %v", typ, err)
		}
		ts.Input = input
		e = ts
	}
	return e, nil
}

// DecodeEventData decodes the data of an event of the given type at the
// schema version written today (an event as a reply carries it, beside its
// type tag, not as a stored envelope).
func DecodeEventData(eventType string, data []byte, enc Encoding) (Event, error) {
	s, ok := eventSchemas[eventType]
	if !ok {
		return nil, Errorf(CodeBadRequest, "unknown event type %q", eventType)
	}
	if err := checkInput(data, enc, maxEventBytes); err != nil {
		return nil, err
	}
	v := reflect.New(s.typ)
	if err := decodeStrict(enc, data, v.Interface(), "event "+eventType, "", false); err != nil {
		return nil, err
	}
	return v.Elem().Interface().(Event), nil
}
