package domain

import (
	"reflect"
	"strings"
)

// The command registry: one row per command, and everything the codec, the
// contract's endpoints and the decider need to know about a command besides
// its struct and its case in Decide. Adding a command is its struct, its
// decide case and its row here.

// Boundary is a command's consistency boundary: which events it is decided
// on, which in-process locks serialise it and which expectation guards its
// append. The decider implements each boundary once (services/decider,
// boundary.go); docs/architecture.md has the same table.
type Boundary int

// Boundaries.
const (
	// BoundaryAllProjects: every project's own events (peon.evt.*._p),
	// expectation on the same filter, since project names and paths are
	// unique across projects. Addressed by project_id.
	BoundaryAllProjects Boundary = iota + 1
	// BoundaryProject: the project's own events (peon.evt.<p>._p),
	// expectation on that subject. Addressed by project_id.
	BoundaryProject
	// BoundaryProjectTree: the project and all its threads
	// (peon.evt.<p>.>), expectation on that filter, so no thread is created
	// in a project being deleted. Addressed by project_id.
	BoundaryProjectTree
	// BoundaryNewThread: the project's own events and the thread id,
	// expectation on peon.evt.<p>.> read first. Addressed by project_id and
	// thread_id.
	BoundaryNewThread
	// BoundaryThread: the thread's events (peon.evt.*.<t>), expectation on
	// peon.evt.<p>.<t>. Addressed by thread_id.
	BoundaryThread
)

// Addressed returns the wire names of the id fields that name the
// aggregates of the boundary. They become subject tokens and lock keys.
func (b Boundary) Addressed() []string {
	switch b {
	case BoundaryAllProjects, BoundaryProject, BoundaryProjectTree:
		return []string{"project_id"}
	case BoundaryNewThread:
		return []string{"project_id", "thread_id"}
	case BoundaryThread:
		return []string{"thread_id"}
	}
	return nil
}

// CommandSpec describes one command.
type CommandSpec struct {
	// Type is the command's type tag (CreateProject).
	Type string
	// Endpoint is its subject token under peon.cmd (project.create).
	Endpoint string
	// Boundary is its consistency boundary.
	Boundary Boundary
	// Creates lists the wire names of the ids the command creates: left
	// out by a client, the decider derives them from the command id.
	Creates []string
	// zero is the command's zero value, whose type the codec decodes into.
	zero Command
}

// commandRegistry is the registry, in the contract's order.
var commandRegistry = []CommandSpec{
	{Type: TypeCreateProject, Endpoint: "project.create", Boundary: BoundaryAllProjects, Creates: []string{"project_id"}, zero: CreateProject{}},
	{Type: TypeDeleteProject, Endpoint: "project.delete", Boundary: BoundaryProjectTree, zero: DeleteProject{}},
	{Type: TypeRenameProject, Endpoint: "project.rename", Boundary: BoundaryProject, zero: RenameProject{}},
	{Type: TypeCreateThread, Endpoint: "thread.create", Boundary: BoundaryNewThread, Creates: []string{"thread_id"}, zero: CreateThread{}},
	{Type: TypeConfigureThread, Endpoint: "thread.configure", Boundary: BoundaryThread, zero: ConfigureThread{}},
	{Type: TypeDeleteThread, Endpoint: "thread.delete", Boundary: BoundaryThread, zero: DeleteThread{}},
	{Type: TypeSelectThread, Endpoint: "thread.select", Boundary: BoundaryThread, zero: SelectThread{}},
	{Type: TypeStartTurn, Endpoint: "turn.start", Boundary: BoundaryThread, Creates: []string{"turn_id", "message_id"}, zero: StartTurn{}},
	{Type: TypeInterruptTurn, Endpoint: "turn.interrupt", Boundary: BoundaryThread, zero: InterruptTurn{}},
	{Type: TypeApprovePendingAction, Endpoint: "action.approve", Boundary: BoundaryThread, zero: ApprovePendingAction{}},
	{Type: TypeRejectPendingAction, Endpoint: "action.reject", Boundary: BoundaryThread, zero: RejectPendingAction{}},
	{Type: TypeIngestProviderEvent, Endpoint: "provider.ingest", Boundary: BoundaryThread, zero: IngestProviderEvent{}},
	{Type: TypeCreateCheckpoint, Endpoint: "checkpoint.create", Boundary: BoundaryThread, Creates: []string{"checkpoint_id"}, zero: CreateCheckpoint{}},
	// Restoring a checkpoint is a git operation too (contract 1.1).
	{Type: TypeRestoreCheckpoint, Endpoint: "checkpoint.restore", Boundary: BoundaryThread, Creates: []string{"operation_id"}, zero: RestoreCheckpoint{}},
	{Type: TypeCommitChanges, Endpoint: "git.commit", Boundary: BoundaryThread, Creates: []string{"operation_id"}, zero: CommitChanges{}},
	{Type: TypeCreateBranch, Endpoint: "git.branch", Boundary: BoundaryThread, Creates: []string{"operation_id"}, zero: CreateBranch{}},
	{Type: TypePushBranch, Endpoint: "git.push", Boundary: BoundaryThread, Creates: []string{"operation_id"}, zero: PushBranch{}},
	{Type: TypeCompleteGitOperation, Endpoint: "git.complete", Boundary: BoundaryThread, zero: CompleteGitOperation{}},
}

var (
	specByType     = map[string]*CommandSpec{}
	specByEndpoint = map[string]*CommandSpec{}
)

func init() {
	for i := range commandRegistry {
		s := &commandRegistry[i]
		if s.zero.CommandType() != s.Type {
			panic("command registry: row " + s.Type + " holds a " + s.zero.CommandType())
		}
		t := reflect.TypeOf(s.zero)
		fs := fieldsOf(t)
		for _, name := range append(s.Boundary.Addressed(), s.Creates...) {
			if !fs.isID(name) {
				panic("command registry: " + s.Type + " has no id field " + name)
			}
		}
		if !fs.isID("command_id") {
			panic("command registry: " + s.Type + " has no command_id field")
		}
		specByType[s.Type] = s
		specByEndpoint[s.Endpoint] = s
	}
}

// Commands returns the registry: every command the contract serves.
func Commands() []CommandSpec {
	out := make([]CommandSpec, len(commandRegistry))
	copy(out, commandRegistry)
	return out
}

// CommandSpecOf returns the registry row of a command type.
func CommandSpecOf(commandType string) (CommandSpec, bool) {
	s, ok := specByType[commandType]
	if !ok {
		return CommandSpec{}, false
	}
	return *s, true
}

// CommandAt returns the registry row of an endpoint token (project.create).
func CommandAt(endpoint string) (CommandSpec, bool) {
	s, ok := specByEndpoint[endpoint]
	if !ok {
		return CommandSpec{}, false
	}
	return *s, true
}

// IDFields returns the wire names of every id field of the command
// (command_id first), in struct order after it.
func (s CommandSpec) IDFields() []string {
	fs := fieldsOf(reflect.TypeOf(s.zero))
	out := []string{"command_id"}
	for _, f := range fs.ids {
		if f.name != "command_id" {
			out = append(out, f.name)
		}
	}
	return out
}

// IDOf returns the id field (wire name, e.g. "thread_id") of cmd; "" when
// cmd has no such field.
func IDOf(cmd Command, field string) string {
	rv := reflect.ValueOf(cmd)
	i, ok := fieldsOf(rv.Type()).idIndex(field)
	if !ok {
		return ""
	}
	return rv.Field(i).String()
}

// WithID returns a copy of cmd with the id field (wire name) set to id; cmd
// itself when it has no such field.
func WithID(cmd Command, field, id string) Command {
	rv := reflect.ValueOf(cmd)
	i, ok := fieldsOf(rv.Type()).idIndex(field)
	if !ok {
		return cmd
	}
	cp := reflect.New(rv.Type()).Elem()
	cp.Set(rv)
	cp.Field(i).SetString(id)
	return cp.Interface().(Command)
}

// isID reports whether the struct has an id field of that wire name.
func (fs *fieldSet) isID(name string) bool {
	_, ok := fs.idIndex(name)
	return ok
}

func (fs *fieldSet) idIndex(name string) (int, bool) {
	if !strings.HasSuffix(name, "_id") {
		return 0, false
	}
	for _, f := range fs.ids {
		if f.name == name {
			return f.index, true
		}
	}
	return 0, false
}
