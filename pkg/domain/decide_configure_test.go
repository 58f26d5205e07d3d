package domain_test

import (
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

func TestDecideProjectHost(t *testing.T) {
	runSpecs(t, []spec{
		{name: "a project lives on the host it names",
			when: domain.CreateProject{ProjectID: p1, Name: "Peon", Path: pathPeon, Host: "studio-mac"},
			then: []domain.Event{domain.ProjectCreated{ProjectID: p1, Name: "Peon", Path: pathPeon, Host: "studio-mac"}}},
		{name: "without a host it lives on the local one",
			when: domain.CreateProject{ProjectID: p1, Name: "Peon", Path: pathPeon},
			then: []domain.Event{domain.ProjectCreated{ProjectID: p1, Name: "Peon", Path: pathPeon, Host: domain.DefaultHost}}},
		{name: "a host is an id", when: domain.CreateProject{ProjectID: p1, Name: "Peon", Path: pathPeon, Host: "studio.mac"},
			err: domain.CodeInvalidCommand},
	})
}

func TestDecideThreadAgentSettings(t *testing.T) {
	created := func(provider string, mode domain.RuntimeMode) []domain.Event {
		return []domain.Event{domain.ThreadCreated{ThreadID: t1, ProjectID: p1, Provider: provider, RuntimeMode: mode}}
	}
	runSpecs(t, []spec{
		{name: "provider and runtime mode are kept", given: withProject,
			when: domain.CreateThread{ThreadID: t1, ProjectID: p1, Provider: "codex", RuntimeMode: domain.RuntimeFullAccess},
			then: created("codex", domain.RuntimeFullAccess)},
		{name: "by default the host's provider, asking for approval", given: withProject,
			when: domain.CreateThread{ThreadID: t1, ProjectID: p1},
			then: created("", domain.RuntimeApprovalRequired)},
		{name: "a provider name is id-like", given: withProject,
			when: domain.CreateThread{ThreadID: t1, ProjectID: p1, Provider: "claude code"}, err: domain.CodeInvalidCommand},
		{name: "an unknown runtime mode is refused", given: withProject,
			when: domain.CreateThread{ThreadID: t1, ProjectID: p1, RuntimeMode: "yolo"}, err: domain.CodeInvalidCommand},
	})
}

func TestDecideConfigureThread(t *testing.T) {
	// withThread: title "Fix the bug", model "claude", no provider, approval required.
	runSpecs(t, []spec{
		{name: "only the changed fields are recorded", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, Title: str("Fix the bug"), Model: str("opus"), Provider: str("claude"),
				RuntimeMode: mode(domain.RuntimeApprovalRequired)},
			then: []domain.Event{domain.ThreadConfigured{ThreadID: t1, Model: str("opus"), Provider: str("claude")}}},
		{name: "runtime mode", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, RuntimeMode: mode(domain.RuntimeFullAccess)},
			then: []domain.Event{domain.ThreadConfigured{ThreadID: t1, RuntimeMode: mode(domain.RuntimeFullAccess)}}},
		{name: "a title is trimmed", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, Title: str("  Ship it ")},
			then: []domain.Event{domain.ThreadConfigured{ThreadID: t1, Title: str("Ship it")}}},
		{name: "present and empty clears the model (the agent's default)", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, Model: str("")},
			then: []domain.Event{domain.ThreadConfigured{ThreadID: t1, Model: str("")}}},
		{name: "nothing changes, no events", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, Title: str("Fix the bug"), Model: str("claude"), Provider: str("")}},
		{name: "no fields, no events", given: withThread, when: domain.ConfigureThread{ThreadID: t1}},
		{name: "settings last configured are compared", given: cat(withThread, []domain.Event{
			domain.ThreadConfigured{ThreadID: t1, RuntimeMode: mode(domain.RuntimeFullAccess)}}),
			when: domain.ConfigureThread{ThreadID: t1, RuntimeMode: mode(domain.RuntimeFullAccess)}},
		{name: "after a turn ended", given: withDoneTurn,
			when: domain.ConfigureThread{ThreadID: t1, Model: str("opus")},
			then: []domain.Event{domain.ThreadConfigured{ThreadID: t1, Model: str("opus")}}},
		{name: "refused while a turn runs", given: withTurn,
			when: domain.ConfigureThread{ThreadID: t1, Model: str("opus")}, err: domain.CodeThreadBusy},
		{name: "refused while awaiting approval", given: withWork,
			when: domain.ConfigureThread{ThreadID: t1, Title: str("x")}, err: domain.CodeThreadBusy},
		{name: "an unknown runtime mode", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, RuntimeMode: mode("")}, err: domain.CodeInvalidCommand},
		{name: "a provider that is not id-like", given: withThread,
			when: domain.ConfigureThread{ThreadID: t1, Provider: str("a.b")}, err: domain.CodeInvalidCommand},
		{name: "an unknown thread", given: withProject,
			when: domain.ConfigureThread{ThreadID: t1, Title: str("x")}, err: domain.CodeThreadNotFound},
		{name: "a deleted thread", given: cat(withThread, []domain.Event{domain.ThreadDeleted{ThreadID: t1}}),
			when: domain.ConfigureThread{ThreadID: t1, Title: str("x")}, err: domain.CodeThreadNotFound},
	})
}
