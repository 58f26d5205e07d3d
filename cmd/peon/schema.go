package main

import (
	"reflect"
	"slices"
	"strings"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// commandSpec is one command as the CLI offers it: its subject token, its
// contract type and its fields, read from the command's Go type (json
// names and `required:"true"` tags), so help and checks follow the domain.
type commandSpec struct {
	Name    string // the subject token: project.create
	Type    string // the contract's type tag: CreateProject
	Summary string
	Fields  []fieldSpec
	// known is false for a command the domain has and this table does not:
	// it is still sent, unchecked.
	known bool
}

// fieldSpec is one field of a command, in contract terms.
type fieldSpec struct {
	Name     string // as on the wire: project_id
	Kind     string // string, bool, integer, number, list of strings, object, list of objects
	Required bool
}

// field returns the spec of the named field.
func (c commandSpec) field(name string) (fieldSpec, bool) {
	for _, f := range c.Fields {
		if f.Name == name {
			return f, true
		}
	}
	return fieldSpec{}, false
}

func (c commandSpec) fieldNames() []string {
	names := make([]string, len(c.Fields))
	for i, f := range c.Fields {
		names[i] = f.Name
	}
	return names
}

// required lists the required fields' names.
func (c commandSpec) required() []string {
	var names []string
	for _, f := range c.Fields {
		if f.Required {
			names = append(names, f.Name)
		}
	}
	return names
}

// commandSummaries are the CLI's one-line help of each command, by type;
// the fields come from the command's Go type (domain.ZeroCommand), so only
// this sentence is written by hand. TestEveryCommandIsDescribed fails when
// a command has none.
var commandSummaries = map[string]string{
	domain.TypeCreateProject:        "register a working directory (an absolute path) as a project",
	domain.TypeDeleteProject:        "delete a project (force: its active threads too)",
	domain.TypeRenameProject:        "change a project's display name",
	domain.TypeCreateThread:         "open a conversation with a coding agent in a project",
	domain.TypeConfigureThread:      "change a thread's title, model, provider or runtime mode (not during a turn)",
	domain.TypeDeleteThread:         "delete a thread, interrupting its active turn",
	domain.TypeSelectThread:         "mark the thread the user is looking at",
	domain.TypeStartTurn:            "send the user's prompt to the agent",
	domain.TypeInterruptTurn:        "stop the active turn",
	domain.TypeApprovePendingAction: "let the agent go ahead with what it asked about",
	domain.TypeRejectPendingAction:  "refuse what the agent asked about",
	domain.TypeIngestProviderEvent:  "record what the agent reported (adapters send this)",
	domain.TypeCreateCheckpoint:     "record a git snapshot taken at the end of a turn (hosts send this)",
	domain.TypeRestoreCheckpoint:    "roll the thread and its files back to a checkpoint",
	domain.TypeCommitChanges:        "commit the working tree",
	domain.TypeCreateBranch:         "create a git branch and switch to it",
	domain.TypePushBranch:           "push a branch to its remote",
	domain.TypeCompleteGitOperation: "record a git operation's outcome (hosts send this)",
}

// commandSpecs lists every command the contract serves, by name.
func commandSpecs() []commandSpec {
	byType := map[string]commandSpec{}
	for _, typ := range domain.CommandTypes() {
		if cmd, ok := domain.ZeroCommand(typ); ok {
			byType[typ] = commandSpec{Type: typ, Summary: commandSummaries[typ], Fields: fieldsOf(reflect.TypeOf(cmd)), known: true}
		}
	}
	specs := make([]commandSpec, 0, len(contract.CommandEndpoints))
	for name, typ := range contract.CommandEndpoints {
		spec, ok := byType[typ]
		if !ok {
			spec = commandSpec{Type: typ}
		}
		spec.Name = name
		specs = append(specs, spec)
	}
	slices.SortFunc(specs, func(a, b commandSpec) int { return strings.Compare(a.Name, b.Name) })
	return specs
}

// lookupCommand finds a command by its name (project.create) or its
// contract type (CreateProject).
func lookupCommand(name string) (commandSpec, bool) {
	for _, s := range commandSpecs() {
		if s.Name == name || s.Type == name {
			return s, true
		}
	}
	return commandSpec{}, false
}

func commandNames() []string {
	var names []string
	for _, s := range commandSpecs() {
		names = append(names, s.Name)
	}
	return names
}

// fieldsOf reads a command struct's wire fields.
func fieldsOf(t reflect.Type) []fieldSpec {
	var out []fieldSpec
	for i := range t.NumField() {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "" || name == "-" || !f.IsExported() {
			continue
		}
		out = append(out, fieldSpec{Name: name, Kind: kindOf(f.Type), Required: f.Tag.Get("required") == "true"})
	}
	return out
}

// kindOf names a Go type in the contract's terms.
func kindOf(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "string"
	case reflect.Bool:
		return "bool"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "integer"
	case reflect.Float32, reflect.Float64:
		return "number"
	case reflect.Slice, reflect.Array:
		if kindOf(t.Elem()) == "string" {
			return "list of strings"
		}
		return "list of objects"
	}
	return "object"
}

// domainCommandTypes lists the domain's command types.
func domainCommandTypes() []string { return domain.CommandTypes() }
