package main

import (
	"net/http"
	"strings"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/services/gateway"
)

// openAPI builds the OpenAPI 3.1 document of the gateway from its route
// table, one path per command, with the catalog's schemas as components.
func openAPI(c *catalog) map[string]any {
	ref := func(path string) map[string]any { return map[string]any{"$ref": path} }
	schemas := map[string]any{}
	for _, n := range c.names() {
		schemas[n] = rebase(toGeneric(c.defs[n]), "#/components/schemas/")
	}
	errResponse := ref("#/components/responses/Error")
	errors := map[string]any{"400": errResponse, "401": errResponse, "403": errResponse, "404": errResponse,
		"409": errResponse, "413": errResponse, "503": errResponse, "504": errResponse}
	jsonBody := func(schema string) map[string]any {
		return map[string]any{"application/json": map[string]any{"schema": ref("#/components/schemas/" + schema)}}
	}
	paths := map[string]any{}
	for _, rt := range gateway.Routes {
		if rt.Path == "/v1/commands/{name}" {
			for _, spec := range commandSpecs() {
				responses := map[string]any{"200": map[string]any{"description": "the command's reply", "content": jsonBody("CommandReply")}}
				for k, v := range errors {
					responses[k] = v
				}
				paths["/v1/commands/"+spec.endpoint] = map[string]any{"post": map[string]any{
					"operationId": spec.endpoint, "summary": "Send " + spec.typ + " (peon.cmd." + spec.endpoint + ")",
					"tags":        []any{"commands"},
					"requestBody": map[string]any{"required": true, "content": jsonBody(spec.typ)},
					"responses":   responses}}
			}
			continue
		}
		op := map[string]any{"operationId": operationID(rt), "summary": rt.Summary, "tags": []any{tagOf(rt)}}
		var params []any
		for _, p := range rt.Params {
			schema := map[string]any{"type": "string"}
			if p.Integer {
				schema = map[string]any{"type": "integer", "minimum": 0, "format": "uint64"}
			}
			param := map[string]any{"name": p.Name, "in": p.In, "required": p.Required || p.In == "path", "schema": schema}
			if p.Description != "" {
				param["description"] = p.Description
			}
			params = append(params, param)
		}
		if rt.Stream {
			params = append(params, map[string]any{"name": "Last-Event-ID", "in": "header", "required": false,
				"description": "resume after this event sequence (browsers send it on reconnect)", "schema": map[string]any{"type": "string"}})
		}
		if params != nil {
			op["parameters"] = params
		}
		responses := map[string]any{}
		for k, v := range errors {
			responses[k] = v
		}
		switch {
		case rt.Stream:
			responses["200"] = map[string]any{"description": "Server-Sent Events: id = the event's sequence, event = its type, data = {sequence, stored_at, subject, type, event}",
				"content": map[string]any{"text/event-stream": map[string]any{"schema": ref("#/components/schemas/StoredEventJSON")}}}
		case rt.Reply != "" && c.defs[rt.Reply] != nil:
			responses["200"] = map[string]any{"description": "the reply", "content": jsonBody(rt.Reply)}
		default:
			responses["200"] = map[string]any{"description": "the reply", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
		}
		op["responses"] = responses
		method := strings.ToLower(rt.Method)
		item, _ := paths[rt.Path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[rt.Path] = item
		}
		item[method] = op
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "Peon HTTP API", "version": contract.ServiceVersion,
			"description": "The gateway's HTTP API over Peon's NATS contract (docs/asyncapi.yaml). Generated from the route table and the Go types by `go generate ./cmd/apidoc`."},
		"servers":  []any{map[string]any{"url": "http://127.0.0.1:8080", "description": "peon dev"}},
		"security": []any{map[string]any{"bearer": []any{}}},
		"paths":    paths,
		"components": map[string]any{
			"securitySchemes": map[string]any{"bearer": map[string]any{"type": "http", "scheme": "bearer",
				"description": "a token from --http-token or the tokens file; peon dev lets loopback in without one"}},
			"responses": map[string]any{"Error": map[string]any{"description": "an error with the contract's code (" + http.StatusText(400) + ", ...)",
				"content": jsonBody("ErrorBody")}},
			"schemas": schemas,
		},
	}
}

func operationID(rt gateway.Route) string {
	if rt.Query != "" {
		return rt.Query
	}
	return strings.ToLower(rt.Method) + strings.ReplaceAll(strings.ReplaceAll(rt.Path, "/", "."), "{", "")
}

func tagOf(rt gateway.Route) string {
	switch {
	case rt.Stream:
		return "events"
	case rt.Path == "/v1/status":
		return "status"
	}
	return "queries"
}
