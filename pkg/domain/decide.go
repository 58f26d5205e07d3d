package domain

import (
	"path"
	"strings"
)

// Decide validates cmd against m and returns the events it causes, or a
// *DeciderError. It never mutates m. A command that changes nothing (such as
// renaming a project to its current name) succeeds with no events.
//
// Ids the command creates must already be filled in: the decider service
// derives missing ones from the command id before calling Decide.
func Decide(cmd Command, m *Model) ([]Event, error) {
	switch c := cmd.(type) {
	case CreateProject:
		return decideCreateProject(c, m)
	case DeleteProject:
		return decideDeleteProject(c, m)
	case RenameProject:
		return decideRenameProject(c, m)
	case CreateThread:
		return decideCreateThread(c, m)
	case DeleteThread:
		return decideDeleteThread(c, m)
	case SelectThread:
		return decideSelectThread(c, m)
	case StartTurn:
		return decideStartTurn(c, m)
	case InterruptTurn:
		return decideInterruptTurn(c, m)
	case ApprovePendingAction:
		return decideResolve(c.ThreadID, c.RequestID, ResolutionApproved, "", m)
	case RejectPendingAction:
		return decideResolve(c.ThreadID, c.RequestID, ResolutionRejected, c.Reason, m)
	case IngestProviderEvent:
		return decideIngest(c, m)
	case CreateCheckpoint:
		return decideCreateCheckpoint(c, m)
	case RestoreCheckpoint:
		return decideRestoreCheckpoint(c, m)
	case CommitChanges:
		return decideCommit(c, m)
	case CreateBranch:
		return decideCreateBranch(c, m)
	case PushBranch:
		return decidePush(c, m)
	case ConfigureThread:
		return decideConfigureThread(c, m)
	case CompleteGitOperation:
		return decideCompleteGitOperation(c, m)
	case nil:
		return nil, Errorf(CodeBadRequest, "no command")
	default:
		return nil, Errorf(CodeBadRequest, "unknown command type %T", cmd)
	}
}

// CleanPath returns the canonical form of a project path: lexically cleaned,
// slash-separated. Two projects whose paths clean to the same string are the
// same directory as far as the duplicate-path rule goes.
func CleanPath(p string) string { return path.Clean(p) }

func decideCreateProject(c CreateProject, m *Model) ([]Event, error) {
	if err := checkID("project_id", c.ProjectID); err != nil {
		return nil, err
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		return nil, Errorf(CodeInvalidCommand, "project name is empty")
	}
	if !path.IsAbs(c.Path) {
		return nil, Errorf(CodeInvalidCommand, "project path %q is not absolute", c.Path)
	}
	host := orDefaultHost(c.Host)
	if err := checkID("host", host); err != nil {
		return nil, err
	}
	if _, exists := m.Projects[c.ProjectID]; exists {
		return nil, Errorf(CodeProjectExists, "project %s already exists", c.ProjectID)
	}
	clean := CleanPath(c.Path)
	if other, taken := m.ProjectByPath(clean); taken {
		return nil, Errorf(CodeDuplicateProjectPath, "project %s already uses path %s", other, clean)
	}
	return []Event{ProjectCreated{ProjectID: c.ProjectID, Name: name, Path: clean, Host: host}}, nil
}

func decideDeleteProject(c DeleteProject, m *Model) ([]Event, error) {
	p, err := activeProject(m, c.ProjectID)
	if err != nil {
		return nil, err
	}
	var events []Event
	for _, id := range p.ThreadIDs {
		t, ok := m.ActiveThread(id)
		if !ok {
			continue
		}
		if !c.Force {
			return nil, Errorf(CodeProjectNotEmpty, "project %s has active threads (delete them first, or force)", p.ID)
		}
		events = append(events, interruptActiveTurn(t)...)
		events = append(events, ThreadDeleted{ThreadID: t.ID})
	}
	return append(events, ProjectDeleted{ProjectID: p.ID}), nil
}

func decideRenameProject(c RenameProject, m *Model) ([]Event, error) {
	p, err := activeProject(m, c.ProjectID)
	if err != nil {
		return nil, err
	}
	name := strings.TrimSpace(c.Name)
	if name == "" {
		return nil, Errorf(CodeInvalidCommand, "project name is empty")
	}
	if name == p.Name {
		return nil, nil
	}
	return []Event{ProjectRenamed{ProjectID: p.ID, Name: name}}, nil
}

func decideCreateThread(c CreateThread, m *Model) ([]Event, error) {
	if err := checkID("thread_id", c.ThreadID); err != nil {
		return nil, err
	}
	if _, err := activeProject(m, c.ProjectID); err != nil {
		return nil, err
	}
	if err := checkProvider(c.Provider); err != nil {
		return nil, err
	}
	mode := orDefaultMode(c.RuntimeMode)
	if err := checkRuntimeMode(mode); err != nil {
		return nil, err
	}
	if _, exists := m.Threads[c.ThreadID]; exists {
		return nil, Errorf(CodeThreadExists, "thread %s already exists", c.ThreadID)
	}
	return []Event{ThreadCreated{ThreadID: c.ThreadID, ProjectID: c.ProjectID,
		Title: strings.TrimSpace(c.Title), Model: c.Model, Provider: c.Provider, RuntimeMode: mode}}, nil
}

func decideDeleteThread(c DeleteThread, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	return append(interruptActiveTurn(t), ThreadDeleted{ThreadID: t.ID}), nil
}

func decideSelectThread(c SelectThread, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	return []Event{ThreadSelected{ThreadID: t.ID}}, nil
}

// activeProject returns the project or project_not_found (unknown includes deleted).
func activeProject(m *Model, id string) (*ProjectState, error) {
	if p, ok := m.ActiveProject(id); ok {
		return p, nil
	}
	return nil, Errorf(CodeProjectNotFound, "project %q not found", id)
}

// activeThread returns the thread or thread_not_found (unknown includes deleted).
func activeThread(m *Model, id string) (*ThreadState, error) {
	if t, ok := m.ActiveThread(id); ok {
		return t, nil
	}
	return nil, Errorf(CodeThreadNotFound, "thread %q not found", id)
}
