package gateway_test

import (
	"fmt"
	"strconv"
	"testing"

	"github.com/peonhq/peon/pkg/contract"
)

// TestPagesAndToolCallsOverHTTP: the list cursors, the part offset of a
// transcript page and a whole tool call reach the query service from the
// HTTP routes, and a bad limit is the query's invalid_command.
func TestPagesAndToolCallsOverHTTP(t *testing.T) {
	a := start(t)
	var last uint64
	var pid string
	for i := range 3 {
		p := a.mustCommand("project.create", fmt.Sprintf(`{"name":"p%d","path":"/tmp/gw-page-%d"}`, i, i))
		pid, last = p.ProjectID, p.LastSequence
	}
	th := a.mustCommand("thread.create", fmt.Sprintf(`{"project_id":%q,"title":"t"}`, pid))
	turn := a.mustCommand("turn.start", fmt.Sprintf(`{"thread_id":%q,"text":"go"}`, th.ThreadID))
	tc := a.mustCommand("provider.ingest", fmt.Sprintf(`{"thread_id":%q,"turn_id":%q,"provider_event_id":"1",`+
		`"event":{"type":"ToolCall","tool_call_id":"tc1","name":"bash","input":{"command":"ls -la"}}}`, th.ThreadID, turn.TurnID))
	last = max(last, tc.LastSequence)
	seq := strconv.FormatUint(last, 10)

	var names []string
	after := ""
	for range 5 {
		var page contract.ProjectsReply
		if code := a.do("GET", "/v1/projects?limit=2&min_sequence="+seq+"&after="+after, operatorToken, "", &page); code != 200 {
			t.Fatalf("projects page: %d", code)
		}
		for _, p := range page.Projects {
			names = append(names, p.Name)
		}
		if page.Next == "" {
			break
		}
		after = page.Next
	}
	if fmt.Sprint(names) != "[p0 p1 p2]" {
		t.Fatalf("projects over pages: %v", names)
	}
	var call contract.ToolCallReply
	if code := a.do("GET", "/v1/threads/"+th.ThreadID+"/tool_calls/tc1?min_sequence="+seq, operatorToken, "", &call); code != 200 ||
		call.ToolCall == nil || call.ToolCall.Input["command"] != "ls -la" {
		t.Fatalf("tool call: %d %+v", code, call.ToolCall)
	}
	var msgs contract.MessagesReply
	if code := a.do("GET", "/v1/threads/"+th.ThreadID+"/messages?text_offset=1&min_sequence="+seq, operatorToken, "", &msgs); code != 200 ||
		len(msgs.Messages) != 1 || msgs.Messages[0].Text != "o" || msgs.Messages[0].TextOffset != 1 {
		t.Fatalf("messages from an offset: %d %+v", code, msgs)
	}
	a.wantError("GET", "/v1/projects?limit=5000", operatorToken, "", 400, "invalid_command")
	a.wantError("GET", "/v1/threads/"+th.ThreadID+"/tool_calls/nope", operatorToken, "", 404, "tool_call_not_found")
}
