// Command peon runs any Peon role — the whole system on an embedded NATS
// server (peon dev), one service against a NATS cluster (peon decider,
// projector, query, provider-ingest), the admin step (peon setup) — and is
// the client for it (peon cmd, events, thread, project, status, simulate,
// bench).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"reflect"
	"strings"
	"syscall"
	"time"

	"github.com/alecthomas/kong"
)

func main() {
	stopProfile, err := profileProcess()
	if err != nil {
		os.Exit(exitCode(err, os.Stderr))
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err = run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr)
	stop()
	stopProfile() // before os.Exit, which runs no deferred call
	os.Exit(exitCode(err, os.Stderr))
}

// run is the whole program, testable: args without the program name,
// getenv for the environment, stdout/stderr for output (standard input is
// the process's).
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	return runEnv(ctx, args, newEnvironment(getenv, os.Stdin, stdout, stderr))
}

// runEnv parses args and runs the command they name.
func runEnv(ctx context.Context, args []string, env *environment) error {
	if len(args) == 0 {
		// The overview, on stderr: standard output stays for results.
		_, _ = parse(mustParser(newEnvironment(env.getenv, env.stdin, env.stderr, env.stderr)), []string{"--help"})
		return usagef("no command given")
	}
	parser := mustParser(env)
	if args[0] == "__complete" { // the completion scripts' callback
		complete(parser, args[1:], env.stdout)
		return nil
	}
	args, err := rewriteCommandFlags(parser, args)
	if err != nil {
		return err
	}
	kctx, err := parse(parser, args)
	if err != nil {
		return err
	}
	kctx.BindTo(ctx, (*context.Context)(nil))
	err = kctx.Run(env)
	var u usageError
	if errors.As(err, &u) && u.hint == "" && kctx.Selected() != nil {
		u.hint = commandPath(kctx.Selected()) + " --help"
		return u
	}
	return err
}

// mustParser builds the command tree; an error is a mistake in the tree
// itself, which every test would hit.
func mustParser(env *environment) *kong.Kong {
	parser, err := newParser(&cli{}, env, flagVars(false))
	if err != nil {
		panic(err)
	}
	return parser
}

// exited is how a kong exit (after --help) unwinds out of Parse.
type exited struct{ code int }

// parse parses args, turning kong's exits and errors into run's errors.
func parse(parser *kong.Kong, args []string) (kctx *kong.Context, err error) {
	defer func() {
		if r := recover(); r != nil {
			e, ok := r.(exited)
			if !ok {
				panic(r)
			}
			kctx, err = nil, errHelp
			if e.code != 0 {
				err = usagef("exit %d", e.code)
			}
		}
	}()
	kctx, err = parser.Parse(args)
	if err != nil {
		hint, msg := "peon help", err.Error()
		var pe *kong.ParseError
		if errors.As(err, &pe) && pe.Context != nil {
			node := parser.Model.Node
			if sel := pe.Context.Selected(); sel != nil {
				if sel.Parent != nil && sel.Parent.DefaultCmd == sel {
					sel = sel.Parent // peon thread shwo: thread's word, not list's
				}
				node, hint = sel, commandPath(sel)+" --help"
			}
			msg = unknownCommand(node, msg)
		}
		return nil, usageError{msg: msg, hint: hint}
	}
	return kctx, nil
}

// unknownCommand rewords kong's "unexpected argument X" as an unknown
// command, with the closest one, where the node expects a command.
func unknownCommand(node *kong.Node, msg string) string {
	word, ok := strings.CutPrefix(msg, "unexpected argument ")
	if !ok || len(node.Children) == 0 {
		return msg
	}
	word, _, _ = strings.Cut(word, ",")
	var names []string
	for _, c := range node.Children {
		if !c.Hidden {
			names = append(names, c.Name)
			names = append(names, c.Aliases...)
		}
	}
	return fmt.Sprintf("unknown command %q%s", strings.TrimPrefix(commandPath(node)+" "+word, "peon "), didYouMean(word, names))
}

// commandPath is how a command is typed: peon thread show.
func commandPath(n *kong.Node) string {
	var names []string
	for ; n != nil; n = n.Parent {
		names = append([]string{n.Name}, names...)
	}
	return strings.Join(names, " ")
}

// newParser builds the command tree with the environment's streams and the
// flag defaults in vars.
func newParser(root *cli, env *environment, vars kong.Vars) (*kong.Kong, error) {
	parser, err := kong.New(root,
		kong.Name("peon"),
		kong.Description("Event-sourced orchestration of coding-agent sessions on NATS JetStream."),
		kong.Writers(env.stdout, env.stderr),
		kong.Exit(func(code int) { panic(exited{code}) }),
		kong.Vars(vars),
		kong.Resolvers(envResolver(env.getenv)),
		kong.ValueFormatter(helpValue),
		kong.Help(helpPrinter),
		kong.ConfigureHelp(kong.HelpOptions{Compact: true, NoExpandSubcommands: true, WrapUpperBound: 100}),
		kong.ExplicitGroups([]kong.Group{
			{Key: "run", Title: "Run Peon:"},
			{Key: "use", Title: "Use it:"},
			{Key: "shell", Title: "The binary:"},
		}),
	)
	if err != nil {
		return nil, err
	}
	setPlaceholders(parser.Model.Node)
	return parser, nil
}

// setPlaceholders names every value flag's value by its kind (N, DURATION,
// a|b|c), so help shows each default once, in the flag's description.
func setPlaceholders(node *kong.Node) {
	for _, f := range node.Flags {
		if f.PlaceHolder != "" || f.IsBool() {
			continue
		}
		switch {
		case f.Tag.Get("values") != "":
			f.PlaceHolder = strings.ReplaceAll(f.Tag.Get("values"), ",", "|")
		case f.Target.Type() == reflect.TypeOf(time.Duration(0)):
			f.PlaceHolder = "DURATION"
		case f.Target.Kind() == reflect.String:
			f.PlaceHolder = "VALUE"
		default:
			f.PlaceHolder = "N"
		}
	}
	for _, child := range node.Children {
		setPlaceholders(child)
	}
}
