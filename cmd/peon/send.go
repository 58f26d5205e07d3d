package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/alecthomas/kong"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// sendCmd sends one command and prints its reply (JSON, as the contract
// writes it).
type sendCmd struct {
	NATS    natsFlags     `embed:""`
	Name    string        `arg:"" optional:"" help:"the command (project.create, turn.start, ...); without it, the list"`
	Fields  []string      `arg:"" optional:"" help:"field=value, --field value, field:=json, or a whole body: {...}, @FILE, - (standard input)"`
	JSON    bool          `name:"json" help:"print the reply as JSON (the reply is JSON either way)"`
	Timeout time.Duration `default:"15s" help:"how long to wait for the reply"`
	Wait    bool          `help:"after the reply, wait until the read model has folded the command's events, so queries made next see them"`
}

func (c *sendCmd) Run(ctx context.Context, env *environment) error {
	if c.Name == "" {
		printCommandList(env.stdout)
		return nil
	}
	spec, ok := lookupCommand(c.Name)
	if !ok {
		return usageError{msg: fmt.Sprintf("unknown command %q%s", c.Name, didYouMean(c.Name, commandNames())),
			hint: "peon cmd"}
	}
	body, errs := commandBody(spec, c.Fields, env.stdin)
	if err := problemsOf(spec.Name, append(errs, c.NATS.check()...)...); err != nil {
		u := err.(usageError)
		u.hint = "peon cmd " + spec.Name + " --help"
		return u
	}
	nc, err := c.NATS.connect("cmd", defaultInstance())
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, c.Timeout)
	defer cancel()
	cl := client.New(nc, domain.JSON)
	reply, err := cl.SendRaw(ctx, contract.CommandPrefix+"."+spec.Name, body)
	if err := printReply(env.stdout, reply, err); err != nil || !c.Wait {
		return err
	}
	// Status answers once every projection has folded min_sequence.
	var st map[string]any
	if err := cl.Query(ctx, contract.StatusQuery{MinSequence: reply.LastSequence}, &st); err != nil {
		return unavailableError{fmt.Errorf("the command was applied; waiting for the read model: %w", err)}
	}
	return nil
}

// printCommandList prints every command with its required fields.
func printCommandList(w io.Writer) {
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "COMMAND\tREQUIRED FIELDS\tWHAT IT DOES")
	for _, s := range commandSpecs() {
		fmt.Fprintf(tw, "%s\t%s\t%s\n", s.Name, strings.Join(s.required(), " "), s.Summary)
	}
	tw.Flush()
	fmt.Fprintln(w, "\nRun 'peon cmd <command> --help' for a command's fields.")
}

// printCommandHelp lists a command's fields with their types.
func printCommandHelp(w io.Writer, spec commandSpec) {
	fmt.Fprintf(w, "\nCommand %s (%s, subject %s.%s): %s.\n\n", spec.Name, spec.Type, contract.CommandPrefix, spec.Name, spec.Summary)
	if !spec.known {
		fmt.Fprintln(w, "Its fields are not described here; see docs/contract.md.")
		return
	}
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "FIELD\tTYPE\t")
	for _, f := range spec.Fields {
		req := ""
		if f.Required {
			req = "required"
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\n", f.Name, f.Kind, req)
	}
	tw.Flush()
	example := []string{"peon cmd", spec.Name}
	for _, name := range spec.required() {
		example = append(example, name+"=…")
	}
	fmt.Fprintf(w, "\nGive fields as field=value or --field value (a list field once per item), or as JSON\n"+
		"with field:=json; a whole body as {...}, @FILE or - (standard input). For example:\n  %s\n",
		strings.Join(example, " "))
}

// rewriteCommandFlags turns the --field value arguments of `peon cmd NAME`
// into field=value ones, so command fields can be given either way: any
// flag that is not one of cmd's own, after the command's name, is a field.
func rewriteCommandFlags(parser *kong.Kong, args []string) ([]string, error) {
	if len(args) == 0 || args[0] != "cmd" {
		return args, nil
	}
	var node *kong.Node
	for _, child := range parser.Model.Children {
		if child.Name == "cmd" {
			node = child
		}
	}
	own := map[string]*kong.Flag{}
	for _, group := range node.AllFlags(false) {
		for _, f := range group {
			own["--"+f.Name] = f
			for _, a := range f.Aliases {
				own["--"+a] = f
			}
			if f.Short != 0 {
				own["-"+string(f.Short)] = f
			}
		}
	}
	out := []string{args[0]}
	var spec commandSpec
	named := false
	for i := 1; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			return append(out, args[i:]...), nil
		}
		flag, value, hasValue := strings.Cut(a, "=")
		if f, ok := own[flag]; ok || !strings.HasPrefix(a, "--") || !named {
			out = append(out, a)
			if ok && !f.IsBool() && !hasValue && strings.HasPrefix(a, "-") && i+1 < len(args) {
				i++
				out = append(out, args[i])
			}
			if !strings.HasPrefix(a, "-") && !named {
				named = true
				spec, _ = lookupCommand(a)
			}
			continue
		}
		field := strings.ReplaceAll(strings.TrimPrefix(flag, "--"), "-", "_")
		fs, _ := spec.field(field)
		switch {
		case hasValue:
		case fs.Kind == "bool":
			value = "true"
			if i+1 < len(args) && (args[i+1] == "true" || args[i+1] == "false") {
				i++
				value = args[i]
			}
		case i+1 < len(args):
			i++
			value = args[i]
		default:
			return nil, usageError{msg: fmt.Sprintf("%s needs a value", flag), hint: "peon cmd " + spec.Name + " --help"}
		}
		out = append(out, field+"="+value)
	}
	return out, nil
}

// printReply prints a reply, or an error reply, as indented JSON.
func printReply(w io.Writer, reply any, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		_ = printJSON(w, contract.ErrorBody{Error: contract.ErrorDetail{Code: string(ce.Code), Message: ce.Message}})
		if ce.Transient() {
			return unavailableError{ce}
		}
		return errSilent
	}
	if err != nil {
		return unavailableError{err}
	}
	return printJSON(w, reply)
}
