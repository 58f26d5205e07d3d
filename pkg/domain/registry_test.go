package domain_test

import (
	"errors"
	"reflect"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// TestRegistryDescribesEveryCommand: every command has one row, with a
// unique endpoint and a boundary; the ids it creates are optional on the
// wire (a client may leave them out); Decide has a case for it.
func TestRegistryDescribesEveryCommand(t *testing.T) {
	specs := domain.Commands()
	if len(specs) != 18 {
		t.Fatalf("%d commands in the registry, want 18", len(specs))
	}
	endpoints := map[string]bool{}
	for _, s := range specs {
		if endpoints[s.Endpoint] || s.Endpoint == "" {
			t.Fatalf("%s: endpoint %q empty or not unique", s.Type, s.Endpoint)
		}
		endpoints[s.Endpoint] = true
		if len(s.Boundary.Addressed()) == 0 {
			t.Fatalf("%s: no boundary", s.Type)
		}
		if at, ok := domain.CommandAt(s.Endpoint); !ok || at.Type != s.Type {
			t.Fatalf("CommandAt(%q) = %+v", s.Endpoint, at)
		}
		zero, ok := domain.ZeroCommand(s.Type)
		if !ok || zero.CommandType() != s.Type {
			t.Fatalf("%s: zero command %v", s.Type, zero)
		}
		typ := reflect.TypeOf(zero)
		for _, created := range s.Creates {
			f := fieldByWireName(typ, created)
			if f == nil || f.Tag.Get("required") == "true" {
				t.Fatalf("%s creates %s, which is not an optional field", s.Type, created)
			}
		}
		if ids := s.IDFields(); ids[0] != "command_id" {
			t.Fatalf("%s: id fields %v", s.Type, ids)
		}
		_, err := domain.Decide(zero, domain.NewModel())
		var de *domain.DeciderError
		if errors.As(err, &de) && de.Code == domain.CodeBadRequest {
			t.Fatalf("%s: Decide has no case for it: %v", s.Type, err)
		}
	}
}

// TestIDOfAndWithID read and set ids by wire name, on a copy.
func TestIDOfAndWithID(t *testing.T) {
	cmd := domain.StartTurn{ThreadID: "t", Text: "x"}
	got := domain.WithID(cmd, "turn_id", "u")
	if cmd.TurnID != "" || got.(domain.StartTurn).TurnID != "u" || domain.IDOf(got, "turn_id") != "u" {
		t.Fatalf("WithID: %+v from %+v", got, cmd)
	}
	if domain.IDOf(cmd, "text") != "" || domain.IDOf(cmd, "project_id") != "" {
		t.Fatal("IDOf reads a field that is not an id of the command")
	}
	if same := domain.WithID(cmd, "project_id", "p"); !reflect.DeepEqual(same, domain.Command(cmd)) {
		t.Fatalf("WithID set a field the command does not have: %+v", same)
	}
}

func fieldByWireName(t reflect.Type, name string) *reflect.StructField {
	for i := range t.NumField() {
		f := t.Field(i)
		tag := f.Tag.Get("json")
		if tag == name || len(tag) > len(name) && tag[:len(name)+1] == name+"," {
			return &f
		}
	}
	return nil
}
