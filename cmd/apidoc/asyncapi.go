package main

import (
	"fmt"
	"sort"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// asyncAPI builds the AsyncAPI 3 document of the NATS contract: every
// command and query (request/reply), the event stream, provider messages
// and the read-model buckets, with the catalog's schemas as components.
func asyncAPI(c *catalog, groups []group) map[string]any {
	ref := func(path string) map[string]any { return map[string]any{"$ref": path} }
	schemas := map[string]any{}
	for _, n := range c.names() {
		schemas[n] = rebase(toGeneric(c.defs[n]), "#/components/schemas/")
	}
	messages := map[string]any{}
	message := func(name, schema, summary string, headers map[string]any) map[string]any {
		m := map[string]any{"name": name, "title": name, "payload": ref("#/components/schemas/" + schema)}
		if summary != "" {
			m["summary"] = summary
		}
		if headers != nil {
			m["headers"] = headers
		}
		messages[name] = m
		return ref("#/components/messages/" + name)
	}
	channels := map[string]any{}
	operations := map[string]any{}

	replies := map[string]any{
		"CommandReply": message("CommandReply", "CommandReply", "the success reply to a command", nil),
		"ErrorReply": message("ErrorReply", "ErrorBody", "a failure reply; the headers Nats-Service-Error-Code (the status) and Nats-Service-Error (the message) carry it too",
			headerSchema("Nats-Service-Error-Code", "Nats-Service-Error", contract.HeaderContentType)),
	}
	for _, name := range groupOf(groups, "replies") {
		if name != "CommandReply" && name != "ErrorBody" {
			replies[name] = message(name, name, "", nil)
		}
	}
	channels["replies"] = map[string]any{"address": nil, "description": "the requester's reply inbox", "messages": replies}
	replyTo := func(names ...string) map[string]any {
		var ms []any
		for _, n := range names {
			ms = append(ms, ref("#/channels/replies/messages/"+n))
		}
		return map[string]any{"channel": ref("#/channels/replies"), "messages": ms}
	}

	for _, spec := range commandSpecs() {
		ch := "cmd." + spec.endpoint
		channels[ch] = map[string]any{"address": contract.CommandPrefix + "." + spec.endpoint,
			"description": "the " + spec.typ + " command (queue group " + contract.CommandQueue + ")",
			"messages":    map[string]any{spec.typ: message(spec.typ, spec.typ, "", requestHeaders())}}
		operations[spec.endpoint] = map[string]any{"action": "send", "channel": ref("#/channels/" + ch),
			"messages": []any{ref("#/channels/" + ch + "/messages/" + spec.typ)}, "reply": replyTo("CommandReply", "ErrorReply")}
		routed := "cmd.part." + spec.endpoint
		channels[routed] = map[string]any{"address": contract.CommandPrefix + "." + contract.CommandPartitionToken + ".{partition}." + spec.endpoint,
			"description": "the " + spec.typ + " command routed to its aggregate's partition (see docs/contract.md, routed subjects); " +
				"no responders means nobody serves the partition now: send it on " + contract.CommandPrefix + "." + spec.endpoint,
			"parameters": map[string]any{"partition": map[string]any{"description": fmt.Sprintf(
				"FNV-1a 32 of the routing key modulo %d; the key is thread_id, project_id or the string projects", contract.CommandPartitions)}},
			"messages": map[string]any{spec.typ: ref("#/channels/" + ch + "/messages/" + spec.typ)}}
		operations["routed."+spec.endpoint] = map[string]any{"action": "send", "channel": ref("#/channels/" + routed),
			"messages": []any{ref("#/channels/" + routed + "/messages/" + spec.typ)}, "reply": replyTo("CommandReply", "ErrorReply")}
	}
	queryReplies := map[string]string{contract.QueryProjectGet: "ProjectReply", contract.QueryProjectList: "ProjectsReply",
		contract.QueryThreadGet: "ThreadReply", contract.QueryThreadList: "ThreadsReply", contract.QueryThreadMessages: "MessagesReply",
		contract.QueryThreadToolCall: "ToolCallReply", contract.QueryEventsSince: "EventsReply", contract.QueryStatus: "StatusReply",
		contract.QueryTurnDiff: "TurnDiffReply"}
	for _, q := range queryRequests() {
		ch := "query." + q.name
		channels[ch] = map[string]any{"address": contract.QuerySubject(q.name), "description": "the " + q.name + " query",
			"messages": map[string]any{q.schema: message(q.schema, q.schema, "", requestHeaders())}}
		operations["query."+q.name] = map[string]any{"action": "send", "channel": ref("#/channels/" + ch),
			"messages": []any{ref("#/channels/" + ch + "/messages/" + q.schema)}, "reply": replyTo(queryReplies[q.name], "ErrorReply")}
	}

	events := map[string]any{}
	for _, name := range groupOf(groups, "stored-events") {
		events[name] = message(name, name, "", headerSchema(contract.HeaderEventType, contract.HeaderCommandID, contract.HeaderMsgID, contract.HeaderContentType))
	}
	channels["events"] = map[string]any{"address": "peon.evt.{project_id}.{thread_id}",
		"description": "stream " + contract.EventStream + ": one message per event; the stream sequence is the event's sequence. Project events go to thread_id _p.",
		"parameters": map[string]any{"project_id": map[string]any{"description": "the project's id"},
			"thread_id": map[string]any{"description": "the thread's id, or _p for the project's own events"}},
		"messages": events}
	operations["events.follow"] = map[string]any{"action": "receive", "channel": ref("#/channels/events"),
		"summary": "follow the events (peon.evt.> for all, peon.evt.*.<thread_id> for one thread)"}
	channels["provider"] = map[string]any{"address": "peon.provider.{thread_id}",
		"description": "stream " + contract.ProviderStream + ": what an agent reports, with Nats-Msg-Id <thread_id>:<provider_event_id>",
		"parameters":  map[string]any{"thread_id": map[string]any{"description": "the thread's id"}},
		"messages": map[string]any{"ProviderMessage": message("ProviderMessage", "ProviderMessage", "",
			headerSchema(contract.HeaderMsgID, contract.HeaderContentType))}}
	operations["provider.publish"] = map[string]any{"action": "send", "channel": ref("#/channels/provider")}
	for _, kv := range buckets() {
		ch := "kv." + kv.bucket
		channels[ch] = map[string]any{"address": "$KV." + kv.bucket + ".{key}", "description": kv.about,
			"parameters": map[string]any{"key": map[string]any{"description": kv.key}},
			"messages":   map[string]any{kv.schema: message(kv.schema, kv.schema, "", nil)}}
		operations[ch+".watch"] = map[string]any{"action": "receive", "channel": ref("#/channels/" + ch)}
	}
	return map[string]any{
		"asyncapi": "3.0.0",
		"info": map[string]any{"title": "Peon", "version": contract.ServiceVersion,
			"description": "Peon's NATS contract: commands and queries (request/reply, MessagePack by default, JSON with Content-Type: application/json or a body starting with {), the event stream, provider messages and the read-model buckets. Generated from the Go types by `go generate ./cmd/apidoc`; docs/contract.md describes it in prose."},
		"defaultContentType": domain.ContentTypeMessagePack,
		"servers": map[string]any{"dev": map[string]any{"host": "127.0.0.1:4222", "protocol": "nats",
			"description": "peon dev's embedded server"}},
		"channels":   channels,
		"operations": operations,
		"components": map[string]any{"schemas": schemas, "messages": messages},
	}
}

func requestHeaders() map[string]any {
	return headerSchema(contract.HeaderContentType, contract.HeaderDeadline)
}

func headerSchema(names ...string) map[string]any {
	props := map[string]any{}
	for _, n := range names {
		props[n] = map[string]any{"type": "string"}
	}
	return map[string]any{"type": "object", "properties": props}
}

func groupOf(groups []group, dir string) []string {
	for _, g := range groups {
		if g.dir == dir {
			return g.names
		}
	}
	return nil
}

type commandSpec struct{ typ, endpoint string }

// commandSpecs lists every command with its endpoint, sorted by endpoint.
func commandSpecs() []commandSpec {
	var out []commandSpec
	for endpoint, typ := range contract.CommandEndpoints {
		out = append(out, commandSpec{typ: typ, endpoint: endpoint})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].endpoint < out[j].endpoint })
	return out
}

type queryRequest struct{ name, schema string }

func queryRequests() []queryRequest {
	return []queryRequest{{contract.QueryProjectGet, "ProjectGet"}, {contract.QueryProjectList, "ProjectList"},
		{contract.QueryThreadGet, "ThreadGet"}, {contract.QueryThreadList, "ThreadList"},
		{contract.QueryThreadMessages, "ThreadMessages"}, {contract.QueryThreadToolCall, "ThreadToolCall"}, {contract.QueryEventsSince, "EventsSince"},
		{contract.QueryStatus, "StatusQuery"}, {contract.QueryTurnDiff, "TurnDiff"}}
}

type bucket struct{ bucket, key, schema, about string }

// buckets are the read-model buckets of the live layout.
func buckets() []bucket {
	return []bucket{
		{contract.BucketProjects, "<project_id>", "ProjectState", "one record per project"},
		{contract.BucketThreads, "<thread_id>", "ThreadState", "one record per thread, bounded (recent entries, previews)"},
		{contract.BucketThreads, "<thread_id>.tool.<tool_call_id>", "ToolCallState", "each tool call whole"},
		{contract.BucketMessages, "<thread_id>.<message_id> (and .../<n> for text segments)", "MessageRecord", "the transcript"},
		{contract.BucketMeta, "progress.<projection>", "ProgressRecord", "how far each projection has folded (also parked.*, selected_thread, current.*)"},
	}
}
