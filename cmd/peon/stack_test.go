package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// send runs peon cmd and decodes its reply.
func send(t *testing.T, r runner, in invocation) contract.CommandReply {
	t.Helper()
	got := r.run(t, in)
	var reply contract.CommandReply
	if got.code != 0 || json.Unmarshal([]byte(got.out), &reply) != nil {
		t.Fatalf("%s: peon %s: %s", r.name, strings.Join(in.args, " "), got)
	}
	return reply
}

// TestCommandForms: every way of giving a command's fields reaches the
// decider the same, each way of running the CLI; flags go anywhere.
func TestCommandForms(t *testing.T) {
	s, url := startStack(t)
	for _, r := range runners {
		t.Run(r.name, func(t *testing.T) {
			env := at(url)
			path := "/forms/" + r.name
			// field=value
			p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=forms", "path=" + path}, env: env})
			// --field value and --field=value, -s instead of the environment, flags before and after
			th := send(t, r, invocation{args: []string{"cmd", "-s", url, "thread.create", "--project-id", p.ProjectID, "--title=from flags", "--json"}})
			// a whole body from a file
			body := filepath.Join(t.TempDir(), "turn.json")
			if err := os.WriteFile(body, []byte(`{"thread_id":"`+th.ThreadID+`","text":"from a file"}`), 0o644); err != nil {
				t.Fatal(err)
			}
			tu := send(t, r, invocation{args: []string{"cmd", "turn.start", "@" + body}, env: env})
			if tu.TurnID == "" {
				t.Fatal("no turn id")
			}
			// a body on standard input, a field overriding it
			send(t, r, invocation{args: []string{"cmd", "turn.interrupt", "-", "thread_id=" + th.ThreadID},
				stdin: `{"thread_id":"wrong"}`, env: env})
			// an inline JSON body; typed fields (bool, list)
			send(t, r, invocation{args: []string{"cmd", "checkpoint.create", `{"thread_id":"` + th.ThreadID + `"}`, "turn_id=" + tu.TurnID,
				"ref=refs/x", `files:=[{"path":"a.go","kind":"added","additions":3},{"path":"b.go","kind":"modified","additions":1,"deletions":1}]`}, env: env})
			p2 := send(t, r, invocation{args: []string{"cmd", "project.create", "name=gone", "path=" + path + "/gone"}, env: env})
			del := send(t, r, invocation{args: []string{"cmd", "project.delete", "--project-id", p2.ProjectID, "--force"}, env: env})

			var tr contract.ThreadReply
			s.Query(t, contract.ThreadGet{ThreadID: th.ThreadID, MinSequence: tu.LastSequence + 3}, &tr)
			got := tr.Thread
			if got.Title != "from flags" || len(got.Turns) != 1 || got.Turns[0].Status != domain.TurnStatusInterrupted ||
				len(got.Checkpoints) != 1 || checkpointPaths(got.Checkpoints[0]) != "a.go,b.go" {
				t.Fatalf("thread after the commands: %+v", got)
			}
			var pr contract.ProjectReply
			s.Query(t, contract.ProjectGet{ProjectID: p2.ProjectID, MinSequence: del.LastSequence}, &pr)
			if !pr.Project.Deleted {
				t.Fatal("project.delete --force did not delete")
			}
		})
	}
}

// TestClientCommands: the read side, each way of running the CLI, against a
// real stack: listings under both nouns, JSON everywhere, flags after
// positionals, refusals with their exit codes.
func TestClientCommands(t *testing.T) {
	s, url := startStack(t)
	env := at(url)
	r := runners[0]
	p := send(t, r, invocation{args: []string{"cmd", "project.create", "name=cli", "path=/cli"}, env: env})
	th := send(t, r, invocation{args: []string{"cmd", "thread.create", "project_id=" + p.ProjectID, "title=from the cli"}, env: env})
	tu := send(t, r, invocation{args: []string{"cmd", "turn.start", "thread_id=" + th.ThreadID, "text=hello"}, env: env})
	s.Publish(t, th.ThreadID, tu.TurnID, "1", domain.TextDelta{MessageID: "a", Delta: "Hi from the agent"})
	s.Publish(t, th.ThreadID, tu.TurnID, "2", domain.TurnComplete{StopReason: "end_turn"})
	waitOutput(t, func() string {
		return inProcess(t, invocation{args: []string{"thread", "show", th.ThreadID}, env: env}).out
	}, "status Idle")

	inv := func(args ...string) invocation { return invocation{args: args, env: env} }
	start := time.Now()
	verify(t, []check{
		{invocation: inv("projects"), code: 0, wantOut: []string{"/cli", "NAME"}},
		{invocation: inv("projects", "list"), code: 0, wantOut: []string{"/cli"}},
		{invocation: inv("project", "list", "--json"), code: 0, wantOut: []string{`"path": "/cli"`}},
		{invocation: inv("project", "show", p.ProjectID), code: 0, wantOut: []string{"from the cli", p.ProjectID}},
		{invocation: inv("threads"), code: 0, wantOut: []string{"from the cli"}},
		{invocation: inv("thread", "list", "--project", p.ProjectID), code: 0, wantOut: []string{"from the cli", "Idle"}},
		{invocation: inv("threads", "--project", "nope"), code: 0, not: []string{"from the cli"}},
		{invocation: inv("thread", "show", th.ThreadID), code: 0, wantOut: []string{"status Idle", "[user]\nhello", "[assistant]\nHi from the agent", "completed (end_turn)"}},
		{invocation: inv("thread", "show", th.ThreadID, "--json"), code: 0, wantOut: []string{`"text": "Hi from the agent"`}},
		{invocation: inv("events", "--all", "--limit", "3"), code: 0, wantOut: []string{"ProjectCreated", "ThreadCreated"}},
		{invocation: inv("events", "tail", "--since", "1", "--thread", th.ThreadID, "--json", "--limit", "1"), code: 0, wantOut: []string{`"type":"ThreadCreated"`}},
		{invocation: inv("cmd", "project.create", "name=again", "path=/cli"), code: exitFailed, wantOut: []string{`"code": "duplicate_project_path"`}},
		{invocation: inv("cmd", "turn.start", "thread_id=nope", "text=x"), code: exitFailed, wantOut: []string{"thread_not_found"}},
		{invocation: inv("thread", "show", "nope"), code: exitFailed, want: []string{"thread_not_found"}},
		{invocation: inv("thread", "show", "nope", "--json"), code: exitFailed, wantOut: []string{`"code": "thread_not_found"`}},
		{invocation: inv("thread", "watch", "nope"), code: exitFailed, want: []string{"thread_not_found"}},
		// A thread no event names is refused at once, not waited on.
		{invocation: invocation{args: []string{"events", "tail", "--thread", "bogus"}, env: env, within: 5 * time.Second}, code: exitFailed,
			want: []string{"no thread bogus"}},
	})
	// 34 runs, half of them processes: none waited for anything.
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the checks took %s", d)
	}
}

func checkpointPaths(c *domain.Checkpoint) string {
	var paths []string
	for _, f := range c.Files {
		paths = append(paths, f.Path)
	}
	return strings.Join(paths, ",")
}
