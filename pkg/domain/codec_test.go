package domain_test

import (
	"errors"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// oneOfEach returns one event of every type with every field set.
func oneOfEach() []domain.Event {
	pids := ids("pe1", "pe2")
	return []domain.Event{
		domain.ProjectCreated{ProjectID: p1, Name: "Peon", Path: pathPeon, Host: "studio"},
		domain.ProjectRenamed{ProjectID: p1, Name: "Grunt"},
		domain.ProjectDeleted{ProjectID: p1},
		domain.ThreadCreated{ThreadID: t1, ProjectID: p1, Title: "title", Model: "claude", Provider: "claude", RuntimeMode: domain.RuntimeFullAccess},
		domain.ThreadDeleted{ThreadID: t1},
		domain.ThreadSelected{ThreadID: t1},
		domain.ThreadStatusChanged{ThreadID: t1, Status: statusError, LastError: "boom"},
		domain.TurnStarted{ThreadID: t1, TurnID: u1, MessageID: m1, Text: "héllo\x00"},
		domain.TurnCompleted{ThreadID: t1, TurnID: u1, StopReason: "end_turn", Usage: domain.Usage{InputTokens: 1 << 40, OutputTokens: 2,
			CacheReadTokens: 3, CacheWriteTokens: 4, ReasoningTokens: 5, CostUSD: 0.0125}, ProviderEventIDs: pids},
		domain.TurnInterrupted{ThreadID: t1, TurnID: u1},
		domain.TurnFailed{ThreadID: t1, TurnID: u1, Error: "e", Retryable: true, ProviderEventIDs: pids},
		domain.MessageAppended{ThreadID: t1, TurnID: u1, MessageID: m2, Role: domain.RoleAssistant, Text: "a", ProviderEventIDs: pids},
		domain.MessageChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: "b", ProviderEventIDs: pids},
		domain.MessageCompleted{ThreadID: t1, MessageID: m2},
		domain.ThinkingChunkReceived{ThreadID: t1, TurnID: u1, MessageID: m2, Delta: "c", ProviderEventIDs: pids},
		domain.ToolCallStarted{ThreadID: t1, TurnID: u1, ToolCallID: tc1, Name: "bash", Kind: domain.ToolKindCommand, ProviderEventIDs: pids,
			Input: map[string]any{"cmd": "ls", "n": int64(3), "f": 1.5, "big": int64(1) << 60, "list": []any{"x", int64(-1), nil, true},
				"obj": map[string]any{"k": "v"}}},
		domain.ToolCallCompleted{ThreadID: t1, ToolCallID: tc1, Output: "out", IsError: true, Cancelled: true, ProviderEventIDs: pids},
		domain.PendingActionRequested{ThreadID: t1, TurnID: u1, RequestID: r1, ToolCallID: tc1, Kind: "k", Description: "d", ProviderEventIDs: pids},
		domain.PendingActionResolved{ThreadID: t1, RequestID: r1, Resolution: domain.ResolutionRejected, Reason: "no"},
		domain.CheckpointCreated{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "ref", Commit: sha1, Files: allFileKinds()},
		domain.CheckpointRestored{ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "ref", Commit: sha1, OperationID: op2},
		domain.CommitRequested{ThreadID: t1, OperationID: op1, Message: "m"},
		domain.BranchCreateRequested{ThreadID: t1, OperationID: op1, Name: "n", Base: "b"},
		domain.PushRequested{ThreadID: t1, OperationID: op1, Branch: "b", Remote: "r"},
		domain.ThreadConfigured{ThreadID: t1, Title: str("t"), Model: str(""), Provider: str("codex"), RuntimeMode: mode(domain.RuntimeFullAccess)},
		domain.AgentSessionStarted{ThreadID: t1, TurnID: u1, SessionID: "sess-1", Model: "opus", Host: "studio", ProviderEventIDs: pids},
		domain.AgentSessionExited{ThreadID: t1, TurnID: u1, ExitCode: -9, Error: "killed", ProviderEventIDs: pids},
		domain.GitOperationCompleted{ThreadID: t1, OperationID: op1, SHA: sha1, Output: "[main 0a1b2c3] fix"},
		domain.GitOperationFailed{ThreadID: t1, OperationID: op1, Error: "fatal: not a git repository"},
	}
}

// oneOfEachCommand returns one command of every type with every field set.
func oneOfEachCommand() []domain.Command {
	return []domain.Command{
		domain.CreateProject{CommandID: "c1", ProjectID: p1, Name: "n", Path: "/p", Host: "studio"},
		domain.DeleteProject{CommandID: "c1", ProjectID: p1, Force: true},
		domain.RenameProject{CommandID: "c1", ProjectID: p1, Name: "n"},
		domain.CreateThread{CommandID: "c1", ThreadID: t1, ProjectID: p1, Title: "t", Model: "m", Provider: "codex", RuntimeMode: domain.RuntimeFullAccess},
		domain.DeleteThread{CommandID: "c1", ThreadID: t1},
		domain.SelectThread{CommandID: "c1", ThreadID: t1},
		domain.StartTurn{CommandID: "c1", ThreadID: t1, TurnID: u1, MessageID: m1, Text: "x"},
		domain.InterruptTurn{CommandID: "c1", ThreadID: t1, TurnID: u1},
		domain.ApprovePendingAction{CommandID: "c1", ThreadID: t1, RequestID: r1},
		domain.RejectPendingAction{CommandID: "c1", ThreadID: t1, RequestID: r1, Reason: "r"},
		domain.IngestProviderEvent{CommandID: "c1", ThreadID: t1, TurnID: u1, ProviderEventID: pe1,
			Event: &domain.ProviderEventEnvelope{ProviderEvent: domain.ToolCall{ToolCallID: tc1, Name: "bash", Input: map[string]any{"a": int64(1), "b": []any{"c"}}}}},
		domain.IngestProviderEvent{CommandID: "c1", ThreadID: t1, TurnID: u1, Events: []domain.ProviderEventBatchItem{
			{ProviderEventID: pe1, Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TextDelta{MessageID: m2, Delta: "d"}}},
			{ProviderEventID: pe2, Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ThinkingDelta{MessageID: m2, Delta: "d"}}},
			{ProviderEventID: pe3, Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ToolResult{ToolCallID: tc1, Output: "o", IsError: true}}},
			{ProviderEventID: "pe4", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.AwaitingApproval{RequestID: r1, ToolCallID: tc1, Kind: "k", Description: "d"}}},
			{ProviderEventID: "pe5", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.TurnComplete{StopReason: "end_turn", Usage: domain.Usage{InputTokens: 1, OutputTokens: 2,
				CacheReadTokens: 3, CacheWriteTokens: 4, ReasoningTokens: 5, CostUSD: 0.5}}}},
			{ProviderEventID: "pe7", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.SessionStarted{SessionID: "s", Model: "m", Host: "h"}}},
			{ProviderEventID: "pe8", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.SessionExited{ExitCode: 1, Error: "e"}}},
			{ProviderEventID: "pe9", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ToolCall{ToolCallID: tc2, Name: "read", Kind: domain.ToolKindFileRead}}},
			{ProviderEventID: "pe6", Event: domain.ProviderEventEnvelope{ProviderEvent: domain.ProviderError{Message: "m", Retryable: true}}},
		}},
		domain.CreateCheckpoint{CommandID: "c1", ThreadID: t1, CheckpointID: cp1, TurnID: u1, Ref: "r", Commit: sha1, Files: allFileKinds()},
		domain.RestoreCheckpoint{CommandID: "c1", ThreadID: t1, CheckpointID: cp1, OperationID: op1},
		domain.CommitChanges{CommandID: "c1", ThreadID: t1, OperationID: op1, Message: "m"},
		domain.CreateBranch{CommandID: "c1", ThreadID: t1, OperationID: op1, Name: "n", Base: "b"},
		domain.PushBranch{CommandID: "c1", ThreadID: t1, OperationID: op1, Branch: "b", Remote: "r"},
		domain.ConfigureThread{CommandID: "c1", ThreadID: t1, Title: str("t"), Model: str(""), Provider: str("codex"), RuntimeMode: mode(domain.RuntimeFullAccess)},
		domain.CompleteGitOperation{CommandID: "c1", ThreadID: t1, OperationID: op1, Status: domain.GitStatusCompleted, SHA: sha1, Output: "o", Error: "e"},
	}
}

func TestEventsRoundTrip(t *testing.T) {
	events := oneOfEach()
	seen := map[string]bool{}
	for _, e := range events {
		seen[e.EventType()] = true
	}
	if got, want := sortedKeys(seen), sorted(domain.EventTypes()); !reflect.DeepEqual(got, want) {
		t.Fatalf("oneOfEach covers %v, want %v", got, want)
	}
	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		for _, e := range events {
			b, err := domain.EncodeEvent(e, enc)
			if err != nil {
				t.Fatalf("encode %s: %v", e.EventType(), err)
			}
			got, err := domain.DecodeEvent(b, enc)
			if err != nil {
				t.Fatalf("decode %s (%d): %v", e.EventType(), enc, err)
			}
			if !reflect.DeepEqual(got, e) {
				t.Fatalf("round trip (%d)\n got %#v\nwant %#v", enc, got, e)
			}
			again, _ := domain.EncodeEvent(got, enc)
			if string(again) != string(b) {
				t.Fatalf("%s: re-encoding is not byte-identical", e.EventType())
			}
		}
	}
}

func TestCommandsRoundTrip(t *testing.T) {
	seen := map[string]bool{}
	for _, enc := range []domain.Encoding{domain.MessagePack, domain.JSON} {
		for _, c := range oneOfEachCommand() {
			seen[c.CommandType()] = true
			b, err := domain.EncodeCommand(c, enc)
			if err != nil {
				t.Fatalf("encode %s: %v", c.CommandType(), err)
			}
			got, err := domain.DecodeCommand(c.CommandType(), b, enc, domain.DefaultMaxCommandBytes)
			if err != nil {
				t.Fatalf("decode %s (%d): %v\n%s", c.CommandType(), enc, err, b)
			}
			if !reflect.DeepEqual(got, c) {
				t.Fatalf("round trip (%d)\n got %#v\nwant %#v", enc, got, c)
			}
		}
	}
	if got, want := sortedKeys(seen), sorted(domain.CommandTypes()); !reflect.DeepEqual(got, want) || len(got) != 18 {
		t.Fatalf("commands covered %v, want all 18 %v", got, want)
	}
}

func TestDecodeCommandRejects(t *testing.T) {
	bomb := []byte{0xdd, 0xff, 0xff, 0xff, 0xff}
	cases := []struct {
		name, typ string
		enc       domain.Encoding
		body      []byte
		code      domain.Code
	}{
		{"msgpack array bomb", domain.TypeCreateProject, domain.MessagePack, bomb, domain.CodeBadRequest},
		{"msgpack map bomb", domain.TypeCreateProject, domain.MessagePack, []byte{0xdf, 0xff, 0xff, 0xff, 0xff}, domain.CodeBadRequest},
		{"msgpack string bomb in a field", domain.TypeCreateProject, domain.MessagePack,
			append([]byte{0x81, 0xa4, 'n', 'a', 'm', 'e', 0xdb}, 0xff, 0xff, 0xff, 0xff), domain.CodeBadRequest},
		{"msgpack deep nesting", domain.TypeCreateProject, domain.MessagePack, append(repeat(0x91, 100), 0xc0), domain.CodeBadRequest},
		{"msgpack trailing bytes", domain.TypeSelectThread, domain.MessagePack, []byte{0x80, 0x80}, domain.CodeBadRequest},
		{"msgpack extension type", domain.TypeSelectThread, domain.MessagePack, []byte{0xd4, 0x01, 0x00}, domain.CodeBadRequest},
		{"not an object", domain.TypeSelectThread, domain.JSON, []byte(`[1,2]`), domain.CodeBadRequest},
		{"null", domain.TypeSelectThread, domain.JSON, []byte(`null`), domain.CodeBadRequest},
		{"invalid json", domain.TypeSelectThread, domain.JSON, []byte(`{"thread_id":`), domain.CodeBadRequest},
		{"empty body", domain.TypeSelectThread, domain.JSON, nil, domain.CodeBadRequest},
		{"unknown field", domain.TypeSelectThread, domain.JSON, []byte(`{"thread_id":"t","extra":1}`), domain.CodeBadRequest},
		{"missing required field", domain.TypeCreateProject, domain.JSON, []byte(`{"name":"n"}`), domain.CodeBadRequest},
		{"wrong field type", domain.TypeSelectThread, domain.JSON, []byte(`{"thread_id":5}`), domain.CodeBadRequest},
		{"type tag disagrees", domain.TypeSelectThread, domain.JSON, []byte(`{"type":"DeleteThread","thread_id":"t"}`), domain.CodeBadRequest},
		{"unknown command", "Nope", domain.JSON, []byte(`{}`), domain.CodeBadRequest},
		{"unknown provider event type", domain.TypeIngestProviderEvent, domain.JSON,
			[]byte(`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"Nope"}}`), domain.CodeBadRequest},
		{"provider event with unknown field", domain.TypeIngestProviderEvent, domain.JSON,
			[]byte(`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"TextDelta","message_id":"m","x":1}}`), domain.CodeBadRequest},
		{"provider event without type", domain.TypeIngestProviderEvent, domain.JSON,
			[]byte(`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"message_id":"m"}}`), domain.CodeBadRequest},
		{"both event and events", domain.TypeIngestProviderEvent, domain.JSON,
			[]byte(`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"TurnComplete"},"events":[]}`), domain.CodeBadRequest},
		{"too large", domain.TypeCreateProject, domain.JSON, []byte(`{"name":"` + strings.Repeat("x", 300<<10) + `"}`), domain.CodePayloadTooLarge},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cmd, err := domain.DecodeCommand(c.typ, c.body, c.enc, domain.DefaultMaxCommandBytes)
			var de *domain.DeciderError
			if !errors.As(err, &de) || de.Code != c.code || cmd != nil {
				t.Fatalf("got %v, %v; want code %s", cmd, err, c.code)
			}
		})
	}
}

func TestDecodeCommandAcceptsMatchingTypeTag(t *testing.T) {
	cmd, err := domain.DecodeCommand(domain.TypeSelectThread, []byte(`{"type":"SelectThread","thread_id":"t"}`), domain.JSON, 0)
	if err != nil || cmd != (domain.SelectThread{ThreadID: "t"}) {
		t.Fatalf("got %#v, %v", cmd, err)
	}
}

func TestDecodeEventRejects(t *testing.T) {
	for name, body := range map[string][]byte{
		"bomb":            {0xdd, 0xff, 0xff, 0xff, 0xff},
		"unknown type":    []byte(`{"type":"Nope","v":1,"data":{}}`),
		"future version":  []byte(`{"type":"ThreadDeleted","v":99,"data":{"thread_id":"t"}}`),
		"version zero":    []byte(`{"type":"ThreadDeleted","v":0,"data":{"thread_id":"t"}}`),
		"missing data":    []byte(`{"type":"ThreadDeleted","v":1}`),
		"unknown field":   []byte(`{"type":"ThreadDeleted","v":1,"data":{"thread_id":"t","x":1}}`),
		"data not object": []byte(`{"type":"ThreadCreated","v":1,"data":[1]}`),
	} {
		if e, err := domain.DecodeEvent(body, domain.JSON); !errors.Is(err, domain.ErrBadRequest) {
			if name == "bomb" {
				e, err = domain.DecodeEvent(body, domain.MessagePack)
				if errors.Is(err, domain.ErrBadRequest) {
					continue
				}
			}
			t.Errorf("%s: got %v, %v; want bad_request", name, e, err)
		}
	}
}

func TestUpcastThreadCreatedV1(t *testing.T) {
	if v := domain.SchemaVersion(domain.TypeThreadCreated); v != 2 {
		t.Fatalf("ThreadCreated schema version = %d, want 2", v)
	}
	v1 := []byte(`{"type":"ThreadCreated","v":1,"data":{"thread_id":"t","project_id":"p","title":"x","agent":"codex"}}`)
	for _, enc := range []domain.Encoding{domain.JSON, domain.MessagePack} {
		body := v1
		if enc == domain.MessagePack {
			body = jsonToMsgpack(t, v1)
		}
		e, err := domain.DecodeEvent(body, enc)
		if err != nil {
			t.Fatal(err)
		}
		if want := (domain.ThreadCreated{ThreadID: "t", ProjectID: "p", Title: "x", Model: "codex"}); e != want {
			t.Fatalf("upcast = %#v", e)
		}
	}
	// What is written today is v2 and reads back unchanged.
	b, _ := domain.EncodeEvent(domain.ThreadCreated{ThreadID: "t", ProjectID: "p", Model: "m"}, domain.JSON)
	if !strings.Contains(string(b), `"v":2`) {
		t.Fatalf("written envelope %s", b)
	}
}

func TestNormalizedInputIsTheSameFromBothEncodings(t *testing.T) {
	body := `{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"ToolCall","tool_call_id":"c","name":"n",` +
		`"input":{"int":3,"whole_float":2.0,"float":0.25,"big":9007199254740993,"neg":-7,"nested":{"a":[1,"x",null]}}}}`
	fromJSON, err := domain.DecodeCommand(domain.TypeIngestProviderEvent, []byte(body), domain.JSON, 0)
	if err != nil {
		t.Fatal(err)
	}
	fromMsgpack, err := domain.DecodeCommand(domain.TypeIngestProviderEvent, jsonToMsgpack(t, []byte(body)), domain.MessagePack, 0)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(fromJSON, fromMsgpack) {
		t.Fatalf("json %#v\nmsgpack %#v", fromJSON, fromMsgpack)
	}
	input := fromJSON.(domain.IngestProviderEvent).Event.ProviderEvent.(domain.ToolCall).Input
	if input["big"] != int64(9007199254740993) || input["whole_float"] != int64(2) || input["float"] != 0.25 {
		t.Fatalf("input = %#v", input)
	}
}

func repeat(b byte, n int) []byte { return []byte(strings.Repeat(string([]byte{b}), n)) }

func sortedKeys(m map[string]bool) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func sorted(s []string) []string { sort.Strings(s); return s }
