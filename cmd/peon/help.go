package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"

	"github.com/alecthomas/kong"
)

// helpPrinter is kong's help, plus, for `peon cmd NAME --help`, the
// command's fields with their types and which are required.
func helpPrinter(options kong.HelpOptions, ctx *kong.Context) error {
	if sel := ctx.Selected(); sel != nil && sel.DefaultCmd != nil && sel.DefaultCmd.Hidden {
		return roleWithSubcommandsHelp(options, ctx, sel)
	}
	if err := kong.DefaultHelpPrinter(options, ctx); err != nil {
		return err
	}
	if sel := ctx.Selected(); sel == nil || sel.Name != "cmd" {
		return nil
	}
	for _, p := range ctx.Path {
		if p.Positional == nil || p.Positional.Name != "name" {
			continue
		}
		v := ctx.Value(p)
		if !v.IsValid() || v.String() == "" {
			break
		}
		spec, ok := lookupCommand(v.String())
		if !ok {
			fmt.Fprintf(ctx.Stdout, "\nUnknown command %q%s\n", v.String(), didYouMean(v.String(), commandNames()))
			return nil
		}
		printCommandHelp(ctx.Stdout, spec)
		return nil
	}
	fmt.Fprintln(ctx.Stdout, "\nRun 'peon cmd' for the list of commands, 'peon cmd <command> --help' for its fields.")
	return nil
}

// roleWithSubcommandsHelp is the help of a role that also has
// subcommands (peon projector, peon projector rebuild): the role's own
// flags, which its hidden default command holds, then the subcommands.
func roleWithSubcommandsHelp(options kong.HelpOptions, ctx *kong.Context, sel *kong.Node) error {
	var buf bytes.Buffer
	k := *ctx.Kong
	k.Stdout = &buf
	c := *ctx
	c.Kong = &k
	c.Path = append(slices.Clone(ctx.Path), &kong.Path{Parent: sel, Command: sel.DefaultCmd})
	if err := kong.DefaultHelpPrinter(options, &c); err != nil {
		return err
	}
	text := strings.Replace(buf.String(), sel.DefaultCmd.FullPath(), sel.FullPath(), 1)
	fmt.Fprint(ctx.Stdout, text)
	fmt.Fprintln(ctx.Stdout, "\nCommands:")
	for _, child := range sel.Children {
		if !child.Hidden {
			fmt.Fprintf(ctx.Stdout, "  %s    %s\n", child.FullPath(), child.Help)
		}
	}
	return nil
}

// helpCmd is `peon help [COMMAND...]`: the help of that command.
type helpCmd struct {
	Command []string `arg:"" optional:"" help:"the command, as typed: thread show, cmd turn.start, ..."`
}

func (c *helpCmd) Run(ctx context.Context, env *environment) error {
	return runEnv(ctx, append(append([]string{}, c.Command...), "--help"), env)
}

// printJSON writes v as indented JSON.
func printJSON(w io.Writer, v any) error {
	out, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintln(w, string(out))
	return err
}

// jsonEncoder writes JSON lines as the contract writes text: <, > and &
// as they are.
func jsonEncoder(w io.Writer) *json.Encoder {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	return enc
}

// sortedKeys returns a map's keys in order.
func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
