package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// nowhere is a NATS URL nothing listens on: these checks fail before any
// connection, or must fail to connect.
var nowhere = map[string]string{"NATS_URL": "nats://127.0.0.1:1"}

// TestUsage: exit codes and messages of invocations that need no server,
// in-process and over the binary.
func TestUsage(t *testing.T) {
	inv := func(args ...string) invocation { return invocation{args: args, env: nowhere} }
	verify(t, []check{
		{invocation: inv(), code: exitUsage, want: []string{"no command given", "Usage: peon <command>"}},
		{invocation: inv("frobnicate"), code: exitUsage, want: []string{`unknown command "frobnicate"`}},
		{invocation: inv("thred", "list"), code: exitUsage, want: []string{`unknown command "thred", did you mean "thread"?`}},
		{invocation: inv("thread", "shwo", "x"), code: exitUsage, want: []string{`unknown command "thread shwo", did you mean "show"?`}},
		{invocation: inv("thread", "show", "x", "--jsn"), code: exitUsage, want: []string{`unknown flag --jsn, did you mean "--json"?`, "peon thread show --help"}},
		// A role takes its own flags and no other's.
		{invocation: inv("query", "--workers", "3"), code: exitUsage, want: []string{"unknown flag --workers"}},
		{invocation: inv("decider", "--workers", "3"), code: exitUsage, want: []string{"unknown flag --workers"}},
		{invocation: inv("provider-ingest", "--cache-mb", "3"), code: exitUsage, want: []string{"unknown flag --cache-mb"}},
		{invocation: inv("status", "--workers", "3"), code: exitUsage, want: []string{"unknown flag --workers"}},
		// Every problem at once.
		{invocation: inv("decider", "--log-format", "xml", "--cache-entries", "0", "--concurrency", "0", "--creds", "/no/such/file"), code: exitUsage,
			want: []string{"4 problems", `--log-format "xml" is not auto, text or json`, "--cache-entries 0 must be at least 1",
				"--concurrency 0 must be at least 1", "--creds: stat /no/such/file", "peon decider --help"}},
		{invocation: inv("setup", "--replicas", "2", "--transcript-partitions", "0"), code: exitUsage,
			want: []string{"2 problems", "--replicas 2 is not 1, 3 or 5", "--transcript-partitions 0 is not within 1..64"}},
		{invocation: inv("dev", "--listen", "nonsense", "--demo-threads", "0", "--log-level", "loud"), code: exitUsage,
			want: []string{"3 problems", `--listen "nonsense" is not host:port`, "--demo-threads 0", `--log-level "loud"`}},
		{invocation: inv("simulate", "--threads", "0", "--deltas", "0"), code: exitUsage, want: []string{"2 problems", "threads 0", "deltas 0"}},
		{invocation: inv("projector", "rebuild", "--transcript-partitions", "65", "--version", "1"), code: exitUsage,
			want: []string{"2 problems", "--transcript-partitions 65", "--version 1"}},
		// Commands: help from the command types, all missing fields at once, typos.
		{invocation: inv("cmd", "project.create", "--help"), code: exitOK,
			wantOut: []string{"Command project.create (CreateProject", "name        string  required", "path        string  required", "project_id  string  \n"}},
		{invocation: inv("help", "cmd", "turn.start"), code: exitOK, wantOut: []string{"thread_id   string  required", "text        string  required"}},
		{invocation: inv("cmd", "checkpoint.create", "--help"), code: exitOK, wantOut: []string{"files          list of objects"}},
		{invocation: inv("cmd", "turn.start"), code: exitUsage, want: []string{"turn.start: missing required fields thread_id, text", "peon cmd turn.start --help"}},
		{invocation: inv("cmd", "thread.create", "titel=x"), code: exitUsage,
			want: []string{"thread.create: 2 problems", `unknown field "titel", did you mean "title"?`, "missing required field project_id"}},
		{invocation: inv("cmd", "thread.create", "--titel", "x", "--project-id", "p"), code: exitUsage,
			want: []string{`unknown field "titel", did you mean "title"?`}, not: []string{"project_id"}},
		{invocation: inv("cmd", "project.creat"), code: exitUsage, want: []string{`unknown command "project.creat", did you mean "project.create"?`}},
		{invocation: inv("cmd", "turn.start", "oops"), code: exitUsage, want: []string{`argument "oops" is not field=value`}},
		{invocation: inv("cmd", "project.delete", "project_id=p", "force=maybe"), code: exitUsage, want: []string{`force: "maybe" is not true or false`}},
		{invocation: inv("cmd", "thread.create", "--project-id"), code: exitUsage, want: []string{"--project-id needs a value"}},
		{invocation: inv("cmd", "turn.start", "@/no/such/body.json"), code: exitUsage, want: []string{"/no/such/body.json"}},
		{invocation: invocation{args: []string{"cmd", "turn.start", "-"}, env: nowhere, stdin: "not json"}, code: exitUsage,
			want: []string{"standard input: not a JSON object"}},
		{invocation: inv("cmd"), code: exitOK, wantOut: []string{"project.create      name path", "turn.start          thread_id text"}},
		// Ids are checked before anything is asked.
		{invocation: inv("events", "tail", "--thread", "a.b"), code: exitUsage, want: []string{`--thread "a.b" is not a valid id`}},
		{invocation: inv("thread", "show", "a b"), code: exitUsage, want: []string{`thread "a b" is not a valid id`}},
		{invocation: inv("projects", "-s", "nats://127.0.0.1:1"), code: exitUnavailable, want: []string{"connect to nats://127.0.0.1:1"}},
		{invocation: inv("decider"), code: exitUnavailable, want: []string{"connect to nats://127.0.0.1:1"}},
		{invocation: inv("status", "--help"), code: exitOK, wantOut: []string{"--json", "--max-lag=N", "-s, --server=URL", "$NATS_URL"}},
		{invocation: inv("projector", "--help"), code: exitOK, wantOut: []string{"--cache-entries=N", "peon projector rebuild"}, not: []string{"--workers", "--concurrency"}},
		{invocation: inv("version"), code: exitOK, wantOut: []string{"peon ", "contract 1.1.0", "nats-server v2."}},
		{invocation: inv("help"), code: exitOK, wantOut: []string{"Run Peon:", "dev", "Use it:"}},
		{invocation: inv("completion", "tcsh"), code: exitUsage, want: []string{"bash", "zsh", "fish"}},
	})
}

// TestVersionJSON: version --json is machine-readable.
func TestVersionJSON(t *testing.T) {
	for _, r := range runners {
		got := r.run(t, invocation{args: []string{"version", "--json"}})
		var v versionInfo
		if got.code != 0 || json.Unmarshal([]byte(got.out), &v) != nil || v.Go == "" || v.Server == "" || v.Contract == "" {
			t.Errorf("%s: %s", r.name, got)
		}
	}
}

// TestCompletion: each shell's script calls back into the binary, bash's
// parses, and the callback completes commands, flags, their values,
// command names and command fields.
func TestCompletion(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		got := binary(t, invocation{args: []string{"completion", shell}})
		if got.code != 0 || !strings.Contains(got.out, "peon __complete") {
			t.Errorf("completion %s: %s", shell, got)
		}
		if sh, err := exec.LookPath(shell); err == nil && shell != "fish" {
			script := filepath.Join(t.TempDir(), "peon."+shell)
			if err := os.WriteFile(script, []byte(got.out), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, err := exec.Command(sh, "-n", script).CombinedOutput(); err != nil {
				t.Errorf("%s -n: %v\n%s", shell, err, out)
			}
		}
	}
	cases := []struct {
		words []string
		want  []string
		not   []string
	}{
		{[]string{"thr"}, []string{"thread"}, []string{"status"}},
		{[]string{""}, []string{"dev", "cmd", "status", "completion"}, []string{"__complete"}},
		{[]string{"thread", ""}, []string{"list", "show", "watch"}, nil},
		{[]string{"thread", "show", "x", "--j"}, []string{"--json"}, nil},
		{[]string{"decider", "--"}, []string{"--cache-mb", "--server", "--log-format"}, []string{"--workers"}},
		{[]string{"projector", "--cache"}, []string{"--cache-entries", "--cache-mb"}, nil},
		{[]string{"decider", "--log-format", ""}, []string{"auto", "text", "json"}, nil},
		{[]string{"cmd", "turn.s"}, []string{"turn.start"}, []string{"turn.interrupt"}},
		{[]string{"cmd", "project.create", ""}, []string{"name=", "path=", "project_id="}, nil},
		{[]string{"cmd", "project.create", "name=x", ""}, []string{"path="}, []string{"name="}},
		{[]string{"completion", ""}, []string{"bash", "zsh", "fish"}, nil},
	}
	for _, r := range runners {
		for _, c := range cases {
			got := r.run(t, invocation{args: append([]string{"__complete"}, c.words...)})
			lines := strings.Split(strings.TrimSpace(got.out), "\n")
			for _, w := range c.want {
				if !contains(lines, w) {
					t.Errorf("%s: complete %q lacks %q: %v", r.name, c.words, w, lines)
				}
			}
			for _, w := range c.not {
				if contains(lines, w) {
					t.Errorf("%s: complete %q offers %q: %v", r.name, c.words, w, lines)
				}
			}
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// TestEveryCommandIsDescribed: every command type the domain has is
// described (its fields and help come from its Go type) and served under a
// name; the adapter fails here, not silently, when the domain grows.
func TestEveryCommandIsDescribed(t *testing.T) {
	specs := map[string]commandSpec{}
	for _, s := range commandSpecs() {
		specs[s.Type] = s
	}
	for _, typ := range domainCommandTypes() {
		s, ok := specs[typ]
		switch {
		case !ok:
			t.Errorf("command type %s has no name in contract.CommandEndpoints", typ)
		case !s.known:
			t.Errorf("command type %s (%s) has no zero value in the domain", typ, s.Name)
		case len(s.Fields) == 0 || s.Summary == "":
			t.Errorf("command %s: no fields or summary", s.Name)
		}
	}
}

// TestHelpIsQuick: help needs no server and no wait.
func TestHelpIsQuick(t *testing.T) {
	start := time.Now()
	if got := binary(t, invocation{args: []string{"status", "--help"}, env: nowhere}); got.code != 0 {
		t.Fatal(got)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("help took %s", d)
	}
}
