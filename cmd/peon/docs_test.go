package main

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/alecthomas/kong"
)

// The flag reference in docs/configuration.md is generated from the command
// tree, so it cannot drift from the binary: this test fails when it
// differs, and PEON_UPDATE_DOCS=1 go test ./cmd/peon -run TestConfigurationDoc
// rewrites it.
const (
	docPath  = "../../docs/configuration.md"
	docBegin = "<!-- flags: generated from the command tree by TestConfigurationDoc; do not edit by hand -->"
	docEnd   = "<!-- flags: end -->"
)

// sharedGroups are the flag groups documented once, not under every command.
var sharedGroups = []string{"NATS connection", "Logging"}

func TestConfigurationDoc(t *testing.T) {
	parser, err := newParser(&cli{}, newEnvironment(func(string) string { return "" }, nil, nil, nil), flagVars(true))
	if err != nil {
		t.Fatal(err)
	}
	want := flagReference(parser)
	doc, err := os.ReadFile(docPath)
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	begin, end := strings.Index(text, docBegin), strings.Index(text, docEnd)
	if begin < 0 || end < begin {
		t.Fatalf("%s has no %q ... %q section", docPath, docBegin, docEnd)
	}
	current := text[begin+len(docBegin) : end]
	if current == want {
		return
	}
	if os.Getenv("PEON_UPDATE_DOCS") != "" {
		if err := os.WriteFile(docPath, []byte(text[:begin+len(docBegin)]+want+text[end:]), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's flag reference differs from the binary's flags; run PEON_UPDATE_DOCS=1 go test ./cmd/peon -run TestConfigurationDoc", docPath)
}

// flagReference renders the shared flag groups once, then every command
// with its own flags.
func flagReference(parser *kong.Kong) string {
	var b strings.Builder
	b.WriteString("\n")
	shared := map[string][]*kong.Flag{}
	var commands []*kong.Node
	var walk func(n *kong.Node)
	walk = func(n *kong.Node) {
		if len(n.Children) == 0 || n.DefaultCmd != nil && n.DefaultCmd.Hidden {
			commands = append(commands, n)
		}
		for _, c := range n.Children {
			if !c.Hidden {
				walk(c)
			}
		}
	}
	for _, c := range parser.Model.Children {
		if !c.Hidden {
			walk(c)
		}
	}
	for _, n := range commands {
		for _, f := range ownFlags(n) {
			if f.Group != nil && slices.Contains(sharedGroups, f.Group.Title) && !containsFlag(shared[f.Group.Title], f) {
				shared[f.Group.Title] = append(shared[f.Group.Title], f)
			}
		}
	}
	for _, g := range sharedGroups {
		fmt.Fprintf(&b, "\n### %s\n\n", g)
		flagTable(&b, shared[g])
	}
	for _, n := range commands {
		fmt.Fprintf(&b, "\n### `peon %s`\n\n%s\n", usageOf(n), n.Help)
		var own []*kong.Flag
		var groups []string
		for _, f := range ownFlags(n) {
			if f.Group != nil && slices.Contains(sharedGroups, f.Group.Title) {
				if !slices.Contains(groups, f.Group.Title) {
					groups = append(groups, f.Group.Title)
				}
				continue
			}
			own = append(own, f)
		}
		if len(groups) > 0 {
			fmt.Fprintf(&b, "\nTakes the %s flags.\n", strings.Join(groups, " and "))
		}
		if len(own) > 0 {
			b.WriteString("\n")
			flagTable(&b, own)
		}
	}
	return b.String()
}

// ownFlags are a command's flags, its hidden default subcommand's included,
// without --help.
func ownFlags(n *kong.Node) []*kong.Flag {
	var out []*kong.Flag
	for _, f := range flagsOf(n) {
		if f.Name != "help" && !containsFlag(out, f) {
			out = append(out, f)
		}
	}
	return out
}

func containsFlag(list []*kong.Flag, f *kong.Flag) bool {
	return slices.ContainsFunc(list, func(g *kong.Flag) bool { return g.Name == f.Name })
}

// usageOf is how the command is typed, with its arguments.
func usageOf(n *kong.Node) string {
	path := strings.TrimPrefix(commandPath(n), "peon ")
	var args []string
	for _, p := range n.Positional {
		a := "<" + p.Name + ">"
		if p.IsSlice() {
			a += " ..."
		}
		if !p.Required {
			a = "[" + a + "]"
		}
		args = append(args, a)
	}
	return strings.TrimSpace(path + " " + strings.Join(args, " "))
}

func flagTable(b *strings.Builder, flags []*kong.Flag) {
	b.WriteString("| flag | environment | default | meaning |\n|---|---|---|---|\n")
	for _, f := range flags {
		name := "`--" + f.Name + "`"
		if f.Short != 0 {
			name = "`-" + string(f.Short) + "`, " + name
		}
		for _, a := range f.Aliases {
			name += ", `--" + a + "`"
		}
		env, def := "", ""
		if e := f.Tag.Get("envvar"); e != "" {
			env = "`" + e + "`"
		}
		if f.HasDefault && f.Default != "" && !f.IsBool() {
			def = "`" + f.Default + "`"
		}
		fmt.Fprintf(b, "| %s | %s | %s | %s |\n", name, env, def, strings.ReplaceAll(f.Help, "|", "\\|"))
	}
}
