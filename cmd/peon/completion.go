package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/alecthomas/kong"
)

// completionCmd prints a shell completion script. The scripts ask the
// binary itself for candidates (peon __complete WORDS...), so completion
// follows the command tree and the command fields without regenerating.
type completionCmd struct {
	Shell string `arg:"" enum:"bash,zsh,fish" help:"bash, zsh or fish"`
}

func (c *completionCmd) Run(_ context.Context, env *environment) error {
	fmt.Fprint(env.stdout, completionScripts[c.Shell])
	return nil
}

var completionScripts = map[string]string{
	"bash": `# peon completion for bash. Load it with: source <(peon completion bash)
_peon() {
    local IFS=$'\n'
    COMPREPLY=($(peon __complete "${COMP_WORDS[@]:1:COMP_CWORD-1}" "${COMP_WORDS[COMP_CWORD]}" 2>/dev/null))
    if [[ ${#COMPREPLY[@]} -eq 1 && ${COMPREPLY[0]} == *= ]]; then
        compopt -o nospace
    fi
}
complete -o default -F _peon peon
`,
	"zsh": `#compdef peon
# peon completion for zsh. Load it with: source <(peon completion zsh)
_peon() {
    local -a candidates fields
    candidates=("${(@f)$(peon __complete "${(@)words[2,CURRENT-1]}" "${words[CURRENT]}" 2>/dev/null)}")
    fields=(${(M)candidates:#*=})
    candidates=(${candidates:#*=})
    (( ${#fields} )) && compadd -S '' -a fields
    (( ${#candidates} )) && compadd -a candidates
}
compdef _peon peon
`,
	"fish": `# peon completion for fish. Load it with: peon completion fish | source
complete -c peon -f -a '(peon __complete (commandline -opc)[2..-1] (commandline -ct))'
`,
}

// complete prints the candidates for the last of words (the word being
// typed, possibly empty), given the words before it.
func complete(parser *kong.Kong, words []string, w io.Writer) {
	for _, c := range completions(parser, words) {
		fmt.Fprintln(w, c)
	}
}

func completions(parser *kong.Kong, words []string) []string {
	if len(words) == 0 {
		words = []string{""}
	}
	typed, cur := words[:len(words)-1], words[len(words)-1]
	node := parser.Model.Node
	var positionals []string
	for i := 0; i < len(typed); i++ {
		word := typed[i]
		if strings.HasPrefix(word, "-") {
			if f := findFlag(node, word); f != nil && !f.IsBool() && !strings.Contains(word, "=") {
				i++ // its value
			}
			continue
		}
		if child := findChild(node, word); child != nil && len(positionals) == 0 {
			node = child
			continue
		}
		positionals = append(positionals, word)
	}
	var out []string
	if n := len(typed); n > 0 {
		if f := findFlag(node, typed[n-1]); f != nil && !f.IsBool() && !strings.Contains(typed[n-1], "=") {
			if values := f.Tag.Get("values"); values != "" {
				return withPrefix(strings.Split(values, ","), cur) // the flag's value
			}
			return nil
		}
	}
	if strings.HasPrefix(cur, "-") {
		for _, f := range flagsOf(node) {
			out = append(out, "--"+f.Name)
		}
		return withPrefix(out, cur)
	}
	if len(positionals) == 0 {
		for _, child := range node.Children {
			if !child.Hidden {
				out = append(out, child.Name)
			}
		}
	}
	switch node.Name {
	case "cmd":
		if len(positionals) == 0 {
			out = append(out, commandNames()...)
		} else if spec, ok := lookupCommand(positionals[0]); ok {
			for _, f := range spec.Fields {
				given := slices.ContainsFunc(positionals[1:], func(p string) bool { return strings.HasPrefix(p, f.Name+"=") })
				if !given || f.Kind == "list of strings" {
					out = append(out, f.Name+"=")
				}
			}
		}
	case "completion":
		out = append(out, "bash", "zsh", "fish")
	case "help":
		for _, child := range parser.Model.Children {
			if !child.Hidden {
				out = append(out, child.Name)
			}
		}
	}
	return withPrefix(out, cur)
}

// flagsOf lists the flags a node takes, its default subcommand's included.
func flagsOf(node *kong.Node) []*kong.Flag {
	var out []*kong.Flag
	nodes := []*kong.Node{node}
	if node.DefaultCmd != nil {
		nodes = append(nodes, node.DefaultCmd)
	}
	for _, n := range nodes {
		for _, group := range n.AllFlags(true) {
			out = append(out, group...)
		}
	}
	return out
}

func findFlag(node *kong.Node, word string) *kong.Flag {
	name, _, _ := strings.Cut(word, "=")
	for _, f := range flagsOf(node) {
		if name == "--"+f.Name || (f.Short != 0 && name == "-"+string(f.Short)) || slices.Contains(f.Aliases, strings.TrimPrefix(name, "--")) {
			return f
		}
	}
	return nil
}

func findChild(node *kong.Node, word string) *kong.Node {
	for _, child := range node.Children {
		if child.Name == word || slices.Contains(child.Aliases, word) {
			return child
		}
	}
	return nil
}

func withPrefix(candidates []string, prefix string) []string {
	var out []string
	for _, c := range candidates {
		if strings.HasPrefix(c, prefix) && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
