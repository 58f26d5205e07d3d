package main

import (
	"github.com/peonhq/peon/internal/sysstatus"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// group is a set of schemas written to docs/schemas/<dir>/.
type group struct {
	dir   string
	names []string
}

// contractSchemas reflects every wire type of the contract into c and
// returns them grouped as they are written out.
func contractSchemas(c *catalog) []group {
	var commands, providerEvents, events, stored []string
	for _, t := range sortedStrings(domain.CommandTypes()) {
		cmd, _ := domain.ZeroCommand(t)
		commands = append(commands, c.add(cmd, input))
	}
	for _, t := range domain.ProviderEventTypes() {
		pe, _ := domain.ZeroProviderEvent(t)
		providerEvents = append(providerEvents, c.add(pe, input))
	}
	for _, t := range sortedStrings(domain.EventTypes()) {
		e, _ := domain.ZeroEvent(t)
		events = append(events, c.add(e, output))
	}
	inputs := []any{contract.ProviderMessage{}, contract.ProjectGet{}, contract.ProjectList{}, contract.ThreadGet{},
		contract.ThreadList{}, contract.ThreadMessages{}, contract.ThreadToolCall{}, contract.EventsSince{}, contract.StatusQuery{}, contract.TurnDiff{}}
	var queries []string
	for _, v := range inputs {
		queries = append(queries, c.add(v, input))
	}
	replies := addAll(c, output, contract.CommandReply{}, contract.ErrorBody{}, contract.ProjectReply{}, contract.ProjectsReply{},
		contract.ThreadReply{}, contract.ThreadsReply{}, contract.MessagesReply{}, contract.ToolCallReply{}, contract.EventsReply{}, contract.StatusReply{},
		contract.TurnDiffReply{}, sysstatus.Report{})
	records := addAll(c, output, domain.ProjectState{}, domain.ThreadState{}, domain.ToolCallState{}, contract.MessageRecord{}, contract.MessageSegment{},
		contract.SelectedRecord{}, contract.ProgressRecord{}, contract.ParkedRecord{}, contract.RejectionRecord{})
	c.finish()
	for _, t := range commands {
		c.commandSchema(t)
	}
	for _, t := range events {
		stored = append(stored, c.storedEvent(t))
	}
	return []group{
		{"commands", commands}, {"provider-events", append(providerEvents, queries[0])}, {"events", events},
		{"stored-events", stored}, {"queries", queries[1:]}, {"replies", replies}, {"records", records},
	}
}

func addAll(c *catalog, dir direction, vs ...any) []string {
	var out []string
	for _, v := range vs {
		out = append(out, c.add(v, dir))
	}
	return out
}
