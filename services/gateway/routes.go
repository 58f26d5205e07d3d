package gateway

import (
	"encoding/json"
	"io"
	"net/http"
	"strconv"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Param is a path or query-string parameter of a route, and the field of
// the NATS request it fills.
type Param struct {
	Name        string
	In          string // "path" or "query"
	Integer     bool   // else a string
	Required    bool
	Description string
	// Field is the request field it becomes (defaults to Name).
	Field string
}

// Route is one endpoint of the API. The table below is the API: the mux
// is built from it and the OpenAPI document is generated from it.
type Route struct {
	Method, Path string
	Summary      string
	// Query is the NATS query the route asks (peon.query.<Query>), when it
	// is a plain query.
	Query  string
	Params []Param
	// Reply names the reply type in the OpenAPI document's schemas.
	Reply string
	// Stream marks a Server-Sent Events route.
	Stream bool
}

var minSequence = Param{Name: "min_sequence", In: "query", Integer: true,
	Description: "answer only once every event up to this sequence that affects the data is folded (504 timeout otherwise)"}

// The cursor and page size of project and thread lists.
var (
	listAfter = Param{Name: "after", In: "query", Description: "cursor: the next of the previous page (absent: from the start)"}
	listLimit = Param{Name: "limit", In: "query", Integer: true, Description: "records per page (at most 1000)"}
)

// Routes is the API, in the order the document lists it.
var Routes = []Route{
	{Method: "POST", Path: "/v1/commands/{name}", Summary: "Send a command (the body is the command's JSON; the reply is the command reply or an error with the contract's code)",
		Params: []Param{{Name: "name", In: "path", Required: true, Description: "the command's name, as on peon.cmd.<name>: project.create, turn.start, ..."}}, Reply: "CommandReply"},
	{Method: "GET", Path: "/v1/projects", Summary: "A page of the projects, by creation", Query: contract.QueryProjectList,
		Params: []Param{listAfter, listLimit, minSequence}, Reply: "ProjectsReply"},
	{Method: "GET", Path: "/v1/projects/{project_id}", Summary: "Get a project", Query: contract.QueryProjectGet,
		Params: []Param{{Name: "project_id", In: "path", Required: true}, minSequence}, Reply: "ProjectReply"},
	{Method: "GET", Path: "/v1/threads", Summary: "List the threads, of one project or all", Query: contract.QueryThreadList,
		Params: []Param{{Name: "project_id", In: "query", Description: "only this project's threads"}, listAfter, listLimit, minSequence}, Reply: "ThreadsReply"},
	{Method: "GET", Path: "/v1/threads/{thread_id}", Summary: "Get a thread's record", Query: contract.QueryThreadGet,
		Params: []Param{{Name: "thread_id", In: "path", Required: true}, minSequence}, Reply: "ThreadReply"},
	{Method: "GET", Path: "/v1/threads/{thread_id}/messages", Summary: "A page of a thread's transcript, in order", Query: contract.QueryThreadMessages,
		Params: []Param{{Name: "thread_id", In: "path", Required: true},
			{Name: "after", In: "query", Integer: true, Description: "cursor: the next of the previous page (0: from the start)"},
			{Name: "text_offset", In: "query", Integer: true, Description: "continue a message given in parts: the next_text_offset of the previous page"},
			{Name: "limit", In: "query", Integer: true, Description: "messages per page"}, minSequence}, Reply: "MessagesReply"},
	{Method: "GET", Path: "/v1/threads/{thread_id}/tool_calls/{tool_call_id}", Summary: "One tool call whole, input and output", Query: contract.QueryThreadToolCall,
		Params: []Param{{Name: "thread_id", In: "path", Required: true}, {Name: "tool_call_id", In: "path", Required: true}, minSequence}, Reply: "ToolCallReply"},
	{Method: "GET", Path: "/v1/threads/{thread_id}/turns/{turn_id}/diff", Summary: "A turn's changed files and unified diff", Query: contract.QueryTurnDiff,
		Params: []Param{{Name: "thread_id", In: "path", Required: true}, {Name: "turn_id", In: "path", Required: true}}, Reply: "TurnDiffReply"},
	{Method: "GET", Path: "/v1/events", Summary: "Every event, live, as Server-Sent Events (id = the event's sequence; resume with Last-Event-ID)", Stream: true,
		Params: []Param{{Name: "after", In: "query", Integer: true, Description: "start after this sequence (0: from the first event); without it and without Last-Event-ID only new events are sent"}}},
	{Method: "GET", Path: "/v1/threads/{thread_id}/events", Summary: "A thread's events, live, as Server-Sent Events (resume with Last-Event-ID)", Stream: true,
		Params: []Param{{Name: "thread_id", In: "path", Required: true}, {Name: "after", In: "query", Integer: true, Description: "start after this sequence (0: from the thread's first event)"}}},
	{Method: "GET", Path: "/v1/status", Summary: "Streams, consumers, projections with their lag, services and hosts, and a verdict", Reply: "StatusReport"},
}

// queryHandler serves a plain query route: path and query parameters
// become the fields of the NATS request.
func (s *Service) queryHandler(rt Route) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := s.identify(r)
		if id == nil {
			s.unauthorized(w)
			return
		}
		body, err := requestFields(rt, r)
		if err != nil {
			writeError(w, domain.CodeBadRequest, err.Error())
			return
		}
		s.ask(w, r, id, contract.QuerySubject(rt.Query), body)
	}
}

// requestFields builds the JSON request of a route from the HTTP request.
// Unknown query parameters are refused, as unknown fields are on NATS.
func requestFields(rt Route, r *http.Request) ([]byte, error) {
	fields := map[string]any{}
	known := map[string]bool{}
	for _, p := range rt.Params {
		field := p.Field
		if field == "" {
			field = p.Name
		}
		var raw string
		if p.In == "path" {
			raw = r.PathValue(p.Name)
		} else {
			known[p.Name] = true
			if !r.URL.Query().Has(p.Name) {
				continue
			}
			raw = r.URL.Query().Get(p.Name)
		}
		if !p.Integer {
			fields[field] = raw
			continue
		}
		n, err := strconv.ParseUint(raw, 10, 64)
		if err != nil {
			return nil, paramError{p.Name, "a whole number from 0 to 18446744073709551615"}
		}
		fields[field] = n
	}
	for name := range r.URL.Query() {
		if !known[name] {
			return nil, paramError{name, "not a parameter of " + rt.Path}
		}
	}
	return json.Marshal(fields)
}

type paramError struct{ name, want string }

func (e paramError) Error() string { return "parameter " + strconv.Quote(e.name) + ": " + e.want }

// command serves POST /v1/commands/{name}.
func (s *Service) command(w http.ResponseWriter, r *http.Request) {
	id := s.identify(r)
	if id == nil {
		s.unauthorized(w)
		return
	}
	if id.ReadOnly {
		writeError(w, codeForbidden, "this token may read but not send commands")
		return
	}
	name := r.PathValue("name")
	if _, ok := contract.CommandEndpoints[name]; !ok {
		writeError(w, codeNotFound, "no command named "+strconv.Quote(name))
		return
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, int64(s.cfg.MaxBodyBytes)+1))
	if err != nil {
		writeError(w, domain.CodeBadRequest, "reading the body: "+err.Error())
		return
	}
	if len(body) > s.cfg.MaxBodyBytes {
		writeError(w, domain.CodePayloadTooLarge, "body over "+strconv.Itoa(s.cfg.MaxBodyBytes)+" bytes")
		return
	}
	if len(body) == 0 || !json.Valid(body) {
		writeError(w, domain.CodeBadRequest, "the body must be a JSON object")
		return
	}
	s.ask(w, r, id, contract.CommandPrefix+"."+name, body)
}

func (s *Service) unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="peon"`)
	writeError(w, codeUnauthorized, "a bearer token is required (Authorization: Bearer <token>)")
}
