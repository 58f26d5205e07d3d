package domain_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/peonhq/peon/pkg/domain"
)

// both returns a JSON document and its MessagePack form, keyed by encoding.
func both(t *testing.T, doc string) map[domain.Encoding][]byte {
	return map[domain.Encoding][]byte{domain.JSON: []byte(doc), domain.MessagePack: jsonToMsgpack(t, []byte(doc))}
}

func TestUpcastCheckpointCreatedV1(t *testing.T) {
	if v := domain.SchemaVersion(domain.TypeCheckpointCreated); v != 2 {
		t.Fatalf("CheckpointCreated schema version = %d, want 2", v)
	}
	v1 := `{"type":"CheckpointCreated","v":1,"data":{"thread_id":"t","checkpoint_id":"c","turn_id":"u","ref":"refs/peon/1","files":["a.go","docs/b.md"]}}`
	want := domain.CheckpointCreated{ThreadID: "t", CheckpointID: "c", TurnID: "u", Ref: "refs/peon/1", Files: []domain.FileChange{
		{Path: "a.go", Kind: domain.FileModified}, {Path: "docs/b.md", Kind: domain.FileModified}}}
	for enc, body := range both(t, v1) {
		e, err := domain.DecodeEvent(body, enc)
		if err != nil {
			t.Fatalf("encoding %d: %v", enc, err)
		}
		if !reflect.DeepEqual(e, want) {
			t.Fatalf("encoding %d: upcast = %#v", enc, e)
		}
	}
	// A v1 checkpoint without files reads as one without files.
	for enc, body := range both(t, `{"type":"CheckpointCreated","v":1,"data":{"thread_id":"t","checkpoint_id":"c","turn_id":"u","ref":"r"}}`) {
		if e, err := domain.DecodeEvent(body, enc); err != nil || !reflect.DeepEqual(e, domain.CheckpointCreated{ThreadID: "t", CheckpointID: "c", TurnID: "u", Ref: "r"}) {
			t.Fatalf("encoding %d: %#v, %v", enc, e, err)
		}
	}
	// v1 data that is not v1's shape is refused, not guessed at.
	for enc, body := range both(t, `{"type":"CheckpointCreated","v":1,"data":{"thread_id":"t","checkpoint_id":"c","turn_id":"u","ref":"r","files":[7]}}`) {
		if _, err := domain.DecodeEvent(body, enc); !errors.Is(err, domain.ErrBadRequest) {
			t.Fatalf("encoding %d: %v", enc, err)
		}
	}
	b, _ := domain.EncodeEvent(want, domain.JSON)
	if !strings.Contains(string(b), `"v":2`) || !strings.Contains(string(b), `{"path":"a.go","kind":"modified","additions":0,"deletions":0}`) {
		t.Fatalf("written envelope %s", b)
	}
}

// Events written before contract 1.1 lack its optional fields: they decode
// with those fields empty (the fold supplies the defaults) and re-encode to
// the same bytes, so no schema bump was needed.
func TestEventsFromBeforeContract11(t *testing.T) {
	for doc, want := range map[string]domain.Event{
		`{"type":"ProjectCreated","v":1,"data":{"project_id":"p","name":"n","path":"/p"}}`: domain.ProjectCreated{ProjectID: "p", Name: "n", Path: "/p"},
		`{"type":"ThreadCreated","v":2,"data":{"thread_id":"t","project_id":"p","model":"m"}}`: domain.ThreadCreated{ThreadID: "t", ProjectID: "p",
			Model: "m"},
		`{"type":"ToolCallStarted","v":1,"data":{"thread_id":"t","turn_id":"u","tool_call_id":"c","name":"bash"}}`: domain.ToolCallStarted{
			ThreadID: "t", TurnID: "u", ToolCallID: "c", Name: "bash"},
		`{"type":"CheckpointRestored","v":1,"data":{"thread_id":"t","checkpoint_id":"c","turn_id":"u","ref":"r"}}`: domain.CheckpointRestored{
			ThreadID: "t", CheckpointID: "c", TurnID: "u", Ref: "r"},
		`{"type":"TurnCompleted","v":1,"data":{"thread_id":"t","turn_id":"u","usage":{"input_tokens":1,"output_tokens":2}}}`: domain.TurnCompleted{
			ThreadID: "t", TurnID: "u", Usage: domain.Usage{InputTokens: 1, OutputTokens: 2}},
	} {
		for enc, body := range both(t, doc) {
			e, err := domain.DecodeEvent(body, enc)
			if err != nil || !reflect.DeepEqual(e, want) {
				t.Fatalf("%s (encoding %d): %#v, %v", doc, enc, e, err)
			}
		}
		if again, err := domain.EncodeEvent(want, domain.JSON); err != nil || string(again) != doc {
			t.Fatalf("re-encoded as %s, %v", again, err)
		}
	}
}

func TestDecodeCheckpointFiles(t *testing.T) {
	doc := `{"thread_id":"t","turn_id":"u","ref":"r","files":["a.go",{"path":"b.go","old_path":"c.go","kind":"renamed","additions":1,"deletions":2},` +
		`{"path":"d.png","kind":"added","additions":0,"deletions":0,"binary":true}]}`
	want := domain.CreateCheckpoint{ThreadID: "t", TurnID: "u", Ref: "r", Files: []domain.FileChange{
		{Path: "a.go", Kind: domain.FileModified},
		{Path: "b.go", OldPath: "c.go", Kind: domain.FileRenamed, Additions: 1, Deletions: 2},
		{Path: "d.png", Kind: domain.FileAdded, Binary: true}}}
	for enc, body := range both(t, doc) {
		cmd, err := domain.DecodeCommand(domain.TypeCreateCheckpoint, body, enc, 0)
		if err != nil || !reflect.DeepEqual(cmd, want) {
			t.Fatalf("encoding %d: %#v, %v", enc, cmd, err)
		}
	}
	for name, files := range map[string]string{
		"unknown field":      `[{"path":"a","kind":"added","additions":0,"deletions":0,"mode":"755"}]`,
		"missing kind":       `[{"path":"a","additions":0,"deletions":0}]`,
		"missing path":       `[{"kind":"added"}]`,
		"a number":           `[7]`,
		"count not a number": `[{"path":"a","kind":"added","additions":"1"}]`,
	} {
		for enc, body := range both(t, `{"thread_id":"t","turn_id":"u","ref":"r","files":`+files+`}`) {
			if cmd, err := domain.DecodeCommand(domain.TypeCreateCheckpoint, body, enc, 0); !errors.Is(err, domain.ErrBadRequest) {
				t.Fatalf("%s (encoding %d): %#v, %v", name, enc, cmd, err)
			}
		}
	}
}

func TestDecodeConfigureThread(t *testing.T) {
	for doc, want := range map[string]domain.ConfigureThread{
		`{"thread_id":"t"}`:                       {ThreadID: "t"},
		`{"thread_id":"t","title":"","model":""}`: {ThreadID: "t", Title: str(""), Model: str("")},
		`{"thread_id":"t","runtime_mode":"full-access","provider":"codex"}`: {ThreadID: "t", RuntimeMode: mode(domain.RuntimeFullAccess),
			Provider: str("codex")},
	} {
		for enc, body := range both(t, doc) {
			cmd, err := domain.DecodeCommand(domain.TypeConfigureThread, body, enc, 0)
			if err != nil || !reflect.DeepEqual(cmd, want) {
				t.Fatalf("%s (encoding %d): %#v, %v", doc, enc, cmd, err)
			}
		}
	}
}

func TestDecodeHostCommandsRejects(t *testing.T) {
	for name, c := range map[string]struct{ typ, doc string }{
		"git.complete without status":       {domain.TypeCompleteGitOperation, `{"thread_id":"t","operation_id":"o"}`},
		"git.complete without operation_id": {domain.TypeCompleteGitOperation, `{"thread_id":"t","status":"completed"}`},
		"configure with unknown field":      {domain.TypeConfigureThread, `{"thread_id":"t","color":"red"}`},
		"SessionStarted without session_id": {domain.TypeIngestProviderEvent,
			`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"SessionStarted","model":"m"}}`},
		"SessionExited with a string exit code": {domain.TypeIngestProviderEvent,
			`{"thread_id":"t","turn_id":"u","provider_event_id":"p","event":{"type":"SessionExited","exit_code":"1"}}`},
	} {
		for enc, body := range both(t, c.doc) {
			if cmd, err := domain.DecodeCommand(c.typ, body, enc, 0); !errors.Is(err, domain.ErrBadRequest) {
				t.Fatalf("%s (encoding %d): %#v, %v", name, enc, cmd, err)
			}
		}
	}
}
