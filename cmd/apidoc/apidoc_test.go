package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/peontest"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/vmihailenco/msgpack/v5"
	"sigs.k8s.io/yaml"
)

const repoRoot = "../.."

// TestGeneratedFilesAreCurrent fails when a Go type changed and the
// documents were not generated again (go generate ./cmd/apidoc).
func TestGeneratedFilesAreCurrent(t *testing.T) {
	files, err := generate()
	if err != nil {
		t.Fatal(err)
	}
	stale, err := apply(repoRoot, files, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(stale) > 0 {
		t.Errorf("stale (run go generate ./cmd/apidoc): %s", strings.Join(stale, ", "))
	}
}

// TestReferencesResolve checks that every $ref of both documents names a
// component that exists.
func TestReferencesResolve(t *testing.T) {
	for _, name := range []string{"docs/asyncapi.yaml", "docs/openapi.yaml"} {
		raw, err := os.ReadFile(filepath.Join(repoRoot, name))
		if err != nil {
			t.Fatal(err)
		}
		js, err := yaml.YAMLToJSON(raw)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := json.Unmarshal(js, &doc); err != nil {
			t.Fatal(err)
		}
		refs := refsIn(doc)
		if len(refs) < 100 {
			t.Fatalf("%s: only %d references", name, len(refs))
		}
		for _, ref := range refs {
			node := doc
			for _, part := range strings.Split(strings.TrimPrefix(ref, "#/"), "/") {
				m, ok := node.(map[string]any)
				if !ok {
					node = nil
					break
				}
				node = m[part]
			}
			if node == nil {
				t.Errorf("%s: %s does not resolve", name, ref)
			}
		}
	}
}

// schemas compiles the written JSON Schemas.
type schemas struct {
	t *testing.T
	c *jsonschema.Compiler
}

func loadSchemas(t *testing.T) *schemas {
	c := jsonschema.NewCompiler()
	paths, _ := filepath.Glob(filepath.Join(repoRoot, "docs", "schemas", "*", "*.json"))
	if len(paths) < 50 {
		t.Fatalf("only %d schema files", len(paths))
	}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		doc, err := jsonschema.UnmarshalJSON(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		rel, _ := filepath.Rel(filepath.Join(repoRoot, "docs", "schemas"), p)
		if err := c.AddResource("https://peon.dev/schemas/"+filepath.ToSlash(rel), doc); err != nil {
			t.Fatal(err)
		}
	}
	return &schemas{t: t, c: c}
}

// check validates a JSON payload against docs/schemas/<path>.json.
func (s *schemas) check(path string, payload []byte) {
	s.t.Helper()
	sch, err := s.c.Compile("https://peon.dev/schemas/" + path + ".json")
	if err != nil {
		s.t.Fatalf("%s: %v", path, err)
	}
	inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(payload))
	if err != nil {
		s.t.Fatalf("%s: payload %q: %v", path, payload, err)
	}
	if err := sch.Validate(inst); err != nil {
		s.t.Errorf("%s does not accept %s:\n%v", path, payload, err)
	}
}

// TestRealPayloadsMatchTheSchemas drives a running stack over NATS in
// JSON and validates what goes in and comes out: command bodies and
// replies, provider messages, query replies, the stored events (in their
// JSON encoding) and the read-model values (MessagePack in the buckets,
// the same fields in JSON).
func TestRealPayloadsMatchTheSchemas(t *testing.T) {
	sc := loadSchemas(t)
	s := peontest.Start(t)
	s.StartProjector(t, "p0", projector.Config{})
	s.StartIngest(t, "i0", ingest.Config{})
	s.WaitServing(t)
	ctx := context.Background()
	ask := func(subject string, body string) []byte {
		t.Helper()
		m := &nats.Msg{Subject: subject, Data: []byte(body), Header: nats.Header{}}
		m.Header.Set(contract.HeaderContentType, domain.ContentTypeJSON)
		resp, err := s.NC.RequestMsg(m, 5*time.Second)
		if err != nil {
			t.Fatalf("%s: %v", subject, err)
		}
		return resp.Data
	}
	var last uint64
	command := func(endpoint, typ, body string) contract.CommandReply {
		t.Helper()
		sc.check("commands/"+typ, []byte(body))
		data := ask(contract.CommandPrefix+"."+endpoint, body)
		var r contract.CommandReply
		if json.Unmarshal(data, &r) != nil || r.CommandID == "" {
			sc.check("replies/ErrorBody", data)
			t.Fatalf("%s: %s", endpoint, data)
		}
		sc.check("replies/CommandReply", data)
		last = max(last, r.LastSequence)
		return r
	}
	p := command("project.create", "CreateProject", `{"name":"schemas","path":"/tmp/schemas"}`)
	th := command("thread.create", "CreateThread", fmt.Sprintf(`{"project_id":%q,"title":"t","provider":"sim","runtime_mode":"full-access"}`, p.ProjectID))
	turn := command("turn.start", "StartTurn", fmt.Sprintf(`{"thread_id":%q,"text":"hello"}`, th.ThreadID))
	events := []domain.ProviderEvent{
		domain.SessionStarted{SessionID: "sess-1", Model: "m"},
		domain.ThinkingDelta{MessageID: "a1", Delta: "hmm"},
		domain.TextDelta{MessageID: "a1", Delta: "hi"},
		domain.ToolCall{ToolCallID: "c1", Name: "Bash", Kind: domain.ToolKindCommand, Input: map[string]any{"command": "ls", "n": 2}},
		domain.AwaitingApproval{RequestID: "r1", ToolCallID: "c1", Kind: "command", Description: "ls"},
	}
	for i, e := range events {
		msg, err := domain.Marshal(domain.JSON, contract.ProviderMessage{TurnID: turn.TurnID, ProviderEventID: fmt.Sprint("p", i),
			Event: domain.ProviderEventEnvelope{ProviderEvent: e}})
		if err != nil {
			t.Fatal(err)
		}
		sc.check("provider-events/ProviderMessage", msg)
		s.Publish(t, th.ThreadID, turn.TurnID, fmt.Sprint("p", i), e)
	}
	// Wait for the approval to be folded, then answer it and finish.
	waitFor(t, func() bool {
		var r contract.ThreadReply
		return s.Client.Query(ctx, contract.ThreadGet{ThreadID: th.ThreadID}, &r) == nil && r.Thread.Status == domain.StatusAwaitingApproval
	})
	command("action.approve", "ApprovePendingAction", fmt.Sprintf(`{"thread_id":%q,"request_id":"r1"}`, th.ThreadID))
	done := command("provider.ingest", "IngestProviderEvent", fmt.Sprintf(`{"thread_id":%q,"turn_id":%q,"events":[
		{"provider_event_id":"q1","event":{"type":"ToolResult","tool_call_id":"c1","output":"a b"}},
		{"provider_event_id":"q2","event":{"type":"TurnComplete","stop_reason":"end_turn","usage":{"input_tokens":10,"output_tokens":5,"cache_read_tokens":3,"cost_usd":0.01}}}]}`,
		th.ThreadID, turn.TurnID))
	command("checkpoint.create", "CreateCheckpoint", fmt.Sprintf(`{"thread_id":%q,"turn_id":%q,"ref":"refs/peon/checkpoints/x/y","commit":"%s","files":[{"path":"a.go","kind":"modified","additions":1,"deletions":2}]}`,
		th.ThreadID, turn.TurnID, strings.Repeat("a", 40)))
	op := command("git.commit", "CommitChanges", fmt.Sprintf(`{"thread_id":%q,"message":"m"}`, th.ThreadID))
	command("git.complete", "CompleteGitOperation", fmt.Sprintf(`{"thread_id":%q,"operation_id":%q,"status":"completed","sha":"%s"}`,
		th.ThreadID, op.OperationID, strings.Repeat("b", 40)))
	command("thread.configure", "ConfigureThread", fmt.Sprintf(`{"thread_id":%q,"title":"renamed"}`, th.ThreadID))
	_ = done

	// A turn diff, stored as a host stores it when the turn ends.
	diffs, err := s.JS.ObjectStore(ctx, contract.BucketDiffs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := diffs.PutString(ctx, contract.DiffKey(th.ThreadID, turn.TurnID), fmt.Sprintf(
		`{"turn_id":%q,"files":[{"path":"a.go","kind":"modified","additions":1,"deletions":2},{"path":"b.png","kind":"added","additions":0,"deletions":0,"binary":true}],"diff":"--- a/a.go\n+++ b/a.go\n","truncated":true}`,
		turn.TurnID)); err != nil {
		t.Fatal(err)
	}

	// Query replies.
	minSeq := fmt.Sprintf(`"min_sequence":%d`, last)
	for _, q := range []struct{ name, reply, body string }{
		{contract.QueryProjectList, "ProjectsReply", "{" + minSeq + "}"},
		{contract.QueryProjectGet, "ProjectReply", fmt.Sprintf(`{"project_id":%q,%s}`, p.ProjectID, minSeq)},
		{contract.QueryThreadList, "ThreadsReply", "{" + minSeq + "}"},
		{contract.QueryThreadGet, "ThreadReply", fmt.Sprintf(`{"thread_id":%q,%s}`, th.ThreadID, minSeq)},
		{contract.QueryThreadMessages, "MessagesReply", fmt.Sprintf(`{"thread_id":%q,%s}`, th.ThreadID, minSeq)},
		{contract.QueryEventsSince, "EventsReply", `{"after_sequence":0,"limit":1000}`},
		{contract.QueryStatus, "StatusReply", "{}"},
		{contract.QueryTurnDiff, "TurnDiffReply", fmt.Sprintf(`{"thread_id":%q,"turn_id":%q}`, th.ThreadID, turn.TurnID)},
	} {
		sc.check("replies/"+q.reply, ask(contract.QuerySubject(q.name), q.body))
	}
	sc.check("replies/ErrorBody", ask(contract.QuerySubject(contract.QueryThreadGet), `{"thread_id":"nope"}`))

	// Every stored event, in its JSON encoding.
	seen := map[string]bool{}
	store := eventstore.New(s.JS)
	if _, err := store.Load(ctx, contract.EventSubjects, 0, func(rec eventstore.Record) error {
		if rec.Err != nil {
			return rec.Err
		}
		b, err := domain.EncodeEvent(rec.Event, domain.JSON)
		if err != nil {
			return err
		}
		sc.check("stored-events/Stored"+rec.Event.EventType(), b)
		seen[rec.Event.EventType()] = true
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if len(seen) < 15 {
		t.Errorf("only %d event types were checked: %v", len(seen), seen)
	}

	// Read-model values.
	for bucket, schema := range map[string]string{contract.BucketProjects: "records/ProjectState",
		contract.BucketThreads: "records/ThreadState", contract.BucketMessages: "records/MessageRecord"} {
		kv, err := s.JS.KeyValue(ctx, bucket)
		if err != nil {
			t.Fatal(err)
		}
		keys, err := kv.ListKeys(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for key := range keys.Keys() {
			e, err := kv.Get(ctx, key)
			if err != nil {
				if err == jetstream.ErrKeyNotFound {
					continue
				}
				t.Fatal(err)
			}
			var v map[string]any
			if err := msgpack.Unmarshal(e.Value(), &v); err != nil {
				t.Fatal(err)
			}
			b, err := json.Marshal(v)
			if err != nil {
				t.Fatal(err)
			}
			if bucket == contract.BucketThreads && strings.Contains(key, ".tool.") {
				sc.check("records/ToolCallState", b) // a tool call whole, under its thread
			} else {
				sc.check(schema, b)
			}
			n++
		}
		if n == 0 {
			t.Errorf("bucket %s held nothing to check", bucket)
		}
	}
}

func waitFor(t *testing.T, ok func() bool) {
	t.Helper()
	for range 200 {
		if ok() {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	t.Fatal("condition not reached in 5 s")
}
