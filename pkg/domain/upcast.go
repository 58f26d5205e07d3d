package domain

// An upcaster rewrites the data of one event type from schema version from to
// from+1. Stored events are never rewritten in place: they are upcast as they
// are read, so the stream outlives today's structs. Add one whenever an
// event's shape changes incompatibly; the version written for that type
// becomes the highest from+1.
type upcaster struct {
	eventType string
	from      int
	apply     func(data map[string]any) map[string]any
}

// upcasters is the registry, in order of versions per type.
var upcasters = []upcaster{
	// ThreadCreated v1 named the agent model "agent"; v2 calls it "model",
	// like the CreateThread command and the thread read model.
	{eventType: TypeThreadCreated, from: 1, apply: func(d map[string]any) map[string]any {
		if agent, ok := d["agent"]; ok {
			delete(d, "agent")
			if _, has := d["model"]; !has {
				d["model"] = agent
			}
		}
		return d
	}},
	// CheckpointCreated v1 listed files as bare paths; v2 lists structured
	// changes (contract 1.1).
	{eventType: TypeCheckpointCreated, from: 1, apply: upcastCheckpointCreatedV1},
}

// upcast brings event data from version from to version to.
func upcast(eventType string, from, to int, data []byte, enc Encoding) ([]byte, error) {
	var fields map[string]any
	if err := unmarshal(enc, data, &fields); err != nil || fields == nil {
		return nil, Errorf(CodeBadRequest, "event %s v%d: data is not an object", eventType, from)
	}
	for v := from; v < to; v++ {
		found := false
		for _, u := range upcasters {
			if u.eventType == eventType && u.from == v {
				fields, found = u.apply(fields), true
				break
			}
		}
		if !found {
			return nil, Errorf(CodeBadRequest, "event %s: no upcaster from schema version %d", eventType, v)
		}
	}
	return marshal(enc, fields)
}
