package domain_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideProjects(t *testing.T) {
	runSpecs(t, []spec{
		{name: "create stores the cleaned path",
			when: domain.CreateProject{ProjectID: p1, Name: " Peon ", Path: "/src/./peon/"},
			then: []domain.Event{domain.ProjectCreated{ProjectID: p1, Name: "Peon", Path: pathPeon, Host: domain.DefaultHost}}},
		{name: "create with empty name", when: domain.CreateProject{ProjectID: p1, Name: "  ", Path: pathPeon},
			err: domain.CodeInvalidCommand},
		{name: "create with relative path", when: domain.CreateProject{ProjectID: p1, Name: "x", Path: "src/peon"},
			err: domain.CodeInvalidCommand},
		{name: "create with bad id", when: domain.CreateProject{ProjectID: "a.b", Name: "x", Path: pathPeon},
			err: domain.CodeInvalidCommand},
		{name: "create with existing id", given: withProject,
			when: domain.CreateProject{ProjectID: p1, Name: "x", Path: pathOther}, err: domain.CodeProjectExists},
		{name: "create with a deleted project's id", given: cat(withProject, []domain.Event{domain.ProjectDeleted{ProjectID: p1}}),
			when: domain.CreateProject{ProjectID: p1, Name: "x", Path: pathOther}, err: domain.CodeProjectExists},
		{name: "duplicate path after cleaning", given: withProject,
			when: domain.CreateProject{ProjectID: p2, Name: "x", Path: "/src/other/../peon//"}, err: domain.CodeDuplicateProjectPath},
		{name: "path of a deleted project is free again",
			given: cat(withProject, []domain.Event{domain.ProjectDeleted{ProjectID: p1}}),
			when:  domain.CreateProject{ProjectID: p2, Name: "x", Path: pathPeon},
			then:  []domain.Event{domain.ProjectCreated{ProjectID: p2, Name: "x", Path: pathPeon, Host: domain.DefaultHost}}},

		{name: "rename", given: withProject, when: domain.RenameProject{ProjectID: p1, Name: "Grunt"},
			then: []domain.Event{domain.ProjectRenamed{ProjectID: p1, Name: "Grunt"}}},
		{name: "rename to the same name changes nothing", given: withProject,
			when: domain.RenameProject{ProjectID: p1, Name: "Peon"}, then: nil},
		{name: "rename unknown", when: domain.RenameProject{ProjectID: p1, Name: "x"}, err: domain.CodeProjectNotFound},
		{name: "rename deleted", given: cat(withProject, []domain.Event{domain.ProjectDeleted{ProjectID: p1}}),
			when: domain.RenameProject{ProjectID: p1, Name: "x"}, err: domain.CodeProjectNotFound},
		{name: "rename to empty", given: withProject, when: domain.RenameProject{ProjectID: p1, Name: ""},
			err: domain.CodeInvalidCommand},

		{name: "delete empty project", given: withProject, when: domain.DeleteProject{ProjectID: p1},
			then: []domain.Event{domain.ProjectDeleted{ProjectID: p1}}},
		{name: "delete unknown", when: domain.DeleteProject{ProjectID: p1}, err: domain.CodeProjectNotFound},
		{name: "delete twice", given: cat(withProject, []domain.Event{domain.ProjectDeleted{ProjectID: p1}}),
			when: domain.DeleteProject{ProjectID: p1}, err: domain.CodeProjectNotFound},
		{name: "delete with active threads, no force", given: withThread,
			when: domain.DeleteProject{ProjectID: p1}, err: domain.CodeProjectNotEmpty},
		{name: "delete with only deleted threads", given: cat(withThread, []domain.Event{domain.ThreadDeleted{ThreadID: t1}}),
			when: domain.DeleteProject{ProjectID: p1}, then: []domain.Event{domain.ProjectDeleted{ProjectID: p1}}},
		{name: "force delete ends active turns, deletes threads, then the project",
			given: cat(withWork, []domain.Event{threadCreated(t2, p1), threadCreated(t3, p1), domain.ThreadDeleted{ThreadID: t3}}),
			when:  domain.DeleteProject{ProjectID: p1, Force: true},
			then: []domain.Event{
				domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: cancelledState},
				domain.MessageCompleted{ThreadID: t1, MessageID: m2},
				domain.ToolCallCompleted{ThreadID: t1, ToolCallID: tc1, Cancelled: true},
				domain.TurnInterrupted{ThreadID: t1, TurnID: u1},
				status(t1, idle),
				domain.ThreadDeleted{ThreadID: t1},
				domain.ThreadDeleted{ThreadID: t2},
				domain.ProjectDeleted{ProjectID: p1},
			}},
	})
}

func TestDecideThreads(t *testing.T) {
	runSpecs(t, []spec{
		{name: "create", given: withProject, when: domain.CreateThread{ThreadID: t1, ProjectID: p1, Title: "Fix the bug", Model: "claude"},
			then: []domain.Event{domain.ThreadCreated{ThreadID: t1, ProjectID: p1, Title: "Fix the bug", Model: "claude",
				RuntimeMode: domain.RuntimeApprovalRequired}}},
		{name: "create in unknown project", when: domain.CreateThread{ThreadID: t1, ProjectID: p1},
			err: domain.CodeProjectNotFound},
		{name: "create in deleted project", given: cat(withProject, []domain.Event{domain.ProjectDeleted{ProjectID: p1}}),
			when: domain.CreateThread{ThreadID: t1, ProjectID: p1}, err: domain.CodeProjectNotFound},
		{name: "create existing id", given: withThread, when: domain.CreateThread{ThreadID: t1, ProjectID: p1},
			err: domain.CodeThreadExists},
		{name: "create with an id that is a subject wildcard", given: withProject,
			when: domain.CreateThread{ThreadID: "*", ProjectID: p1}, err: domain.CodeInvalidCommand},

		{name: "delete idle thread", given: withThread, when: domain.DeleteThread{ThreadID: t1},
			then: []domain.Event{domain.ThreadDeleted{ThreadID: t1}}},
		{name: "delete running thread interrupts its turn first", given: withTurn, when: domain.DeleteThread{ThreadID: t1},
			then: []domain.Event{
				domain.TurnInterrupted{ThreadID: t1, TurnID: u1}, status(t1, idle), domain.ThreadDeleted{ThreadID: t1}}},
		{name: "delete unknown", when: domain.DeleteThread{ThreadID: t1}, err: domain.CodeThreadNotFound},
		{name: "delete deleted", given: cat(withThread, []domain.Event{domain.ThreadDeleted{ThreadID: t1}}),
			when: domain.DeleteThread{ThreadID: t1}, err: domain.CodeThreadNotFound},

		{name: "select", given: withThread, when: domain.SelectThread{ThreadID: t1},
			then: []domain.Event{domain.ThreadSelected{ThreadID: t1}}},
		{name: "select unknown", when: domain.SelectThread{ThreadID: t1}, err: domain.CodeThreadNotFound},
		{name: "select deleted", given: cat(withThread, []domain.Event{domain.ThreadDeleted{ThreadID: t1}}),
			when: domain.SelectThread{ThreadID: t1}, err: domain.CodeThreadNotFound},
		{name: "a deleted thread accepts no command",
			given: cat(withDoneTurn, []domain.Event{domain.ThreadDeleted{ThreadID: t1}}),
			when:  domain.StartTurn{ThreadID: t1, TurnID: u2, MessageID: m3, Text: "again"}, err: domain.CodeThreadNotFound},
	})
}
