package main

import (
	"sort"

	"github.com/invopop/jsonschema"
	"github.com/peonhq/peon/pkg/domain"
)

// storedEvent adds the schema of an event as a PEON_EVENTS message holds
// it: the envelope {type, v, data} with the event's current schema version.
func (c *catalog) storedEvent(eventType string) string {
	props := jsonschema.NewProperties()
	props.Set("type", &jsonschema.Schema{Type: "string", Const: eventType})
	props.Set("v", &jsonschema.Schema{Type: "integer", Const: domain.SchemaVersion(eventType),
		Description: "the event's schema version; older versions are upcast by readers"})
	props.Set("data", &jsonschema.Schema{Ref: "#/$defs/" + eventType})
	name := "Stored" + eventType
	c.defs[name] = &jsonschema.Schema{Type: "object", Properties: props, Required: []string{"type", "v", "data"},
		Description: "the " + eventType + " event as stored in PEON_EVENTS"}
	return name
}

func sortedStrings(s []string) []string {
	out := append([]string(nil), s...)
	sort.Strings(out)
	return out
}
