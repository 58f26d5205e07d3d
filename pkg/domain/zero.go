package domain

import (
	"reflect"
	"sort"
)

// The zero values of every wire type, by type tag, for tools that describe
// the contract (the JSON Schemas and the AsyncAPI document are generated
// from the Go types through these).

// ZeroCommand returns the zero value of a command type.
func ZeroCommand(commandType string) (Command, bool) {
	spec, ok := specByType[commandType]
	if !ok {
		return nil, false
	}
	return spec.zero, true
}

// ZeroEvent returns the zero value of an event type.
func ZeroEvent(eventType string) (Event, bool) {
	s, ok := eventSchemas[eventType]
	if !ok {
		return nil, false
	}
	return reflect.Zero(s.typ).Interface().(Event), true
}

// ZeroProviderEvent returns the zero value of a provider event type.
func ZeroProviderEvent(providerEventType string) (ProviderEvent, bool) {
	t, ok := providerEventTypes[providerEventType]
	if !ok {
		return nil, false
	}
	return reflect.Zero(t).Interface().(ProviderEvent), true
}

// ProviderEventTypes lists every provider event type tag, sorted.
func ProviderEventTypes() []string {
	out := make([]string, 0, len(providerEventTypes))
	for t := range providerEventTypes {
		out = append(out, t)
	}
	sort.Strings(out)
	return out
}
