package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// clientSetup parses a client subcommand's flags (the shared ones plus
// extra), validates them and, if check accepts the remaining arguments,
// connects: one connection, for the client and anything else the command
// reads.
func (e *environment) clientSetup(name string, args []string, extra func(*flagSet), check func(rest []string) error) (*client.Client, *nats.Conn, []string, func(), error) {
	fs := newFlags(name)
	c := e.addConnFlags(fs)
	if extra != nil {
		extra(&flagSet{fs})
	}
	if err := parse(fs, args, e.stderr); err != nil {
		return nil, nil, nil, nil, err
	}
	if err := c.validate(); err != nil {
		return nil, nil, nil, nil, err
	}
	if check != nil {
		if err := check(fs.Args()); err != nil {
			return nil, nil, nil, nil, err
		}
	}
	nc, err := c.connect(name)
	if err != nil {
		return nil, nil, nil, nil, err
	}
	return client.New(nc, domain.JSON), nc, fs.Args(), nc.Close, nil
}

// runCommand sends one command: peon cmd <name> [--json BODY] [key=value ...] [key:=json ...].
func runCommand(ctx context.Context, env *environment, args []string) error {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		return usagef("peon cmd <name> [--json BODY] [key=value | key:=json ...]; names: %s", strings.Join(commandNames(), ", "))
	}
	name := args[0]
	if _, ok := contract.CommandEndpoints[name]; !ok {
		return usagef("unknown command %q; names: %s", name, strings.Join(commandNames(), ", "))
	}
	var body string
	var data []byte
	c, _, _, closeConn, err := env.clientSetup("cmd", args[1:], func(fs *flagSet) {
		fs.StringVar(&body, "json", "", "the command body as JSON")
	}, func(rest []string) (err error) {
		data, err = commandBody(body, rest)
		return err
	})
	if err != nil {
		return err
	}
	defer closeConn()
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	reply, err := c.SendRaw(ctx, contract.CommandPrefix+"."+name, data)
	return printReply(env.stdout, reply, err)
}

// commandBody merges --json with key=value (string) and key:=json pairs.
func commandBody(body string, pairs []string) ([]byte, error) {
	fields := map[string]any{}
	if body != "" {
		if err := json.Unmarshal([]byte(body), &fields); err != nil {
			return nil, usagef("--json: %v", err)
		}
	}
	for _, p := range pairs {
		if k, v, ok := strings.Cut(p, ":="); ok {
			var x any
			if err := json.Unmarshal([]byte(v), &x); err != nil {
				return nil, usagef("%s: %v", p, err)
			}
			fields[k] = x
			continue
		}
		k, v, ok := strings.Cut(p, "=")
		if !ok || k == "" {
			return nil, usagef("argument %q is not key=value or key:=json", p)
		}
		fields[k] = v
	}
	return json.Marshal(fields)
}

func commandNames() []string {
	var names []string
	for n := range contract.CommandEndpoints {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// printReply prints a reply (or an error reply) as indented JSON.
func printReply(w io.Writer, reply any, err error) error {
	var ce *client.Error
	if errors.As(err, &ce) {
		out, _ := json.MarshalIndent(contract.ErrorBody{Error: contract.ErrorDetail{Code: string(ce.Code), Message: ce.Message}}, "", "  ")
		fmt.Fprintln(w, string(out))
		if ce.Transient() {
			return unavailableError{ce}
		}
		return errSilent
	}
	if err != nil {
		return unavailableError{err}
	}
	out, err := json.MarshalIndent(reply, "", "  ")
	if err != nil {
		return err
	}
	fmt.Fprintln(w, string(out))
	return nil
}

// runList prints projects or threads.
func runList(ctx context.Context, env *environment, what string, args []string) error {
	if len(args) == 0 || args[0] != "list" {
		return usagef("peon %s list", what)
	}
	var project string
	var asJSON bool
	c, _, _, closeConn, err := env.clientSetup(what+" list", args[1:], func(fs *flagSet) {
		fs.BoolVar(&asJSON, "json", false, "print JSON")
		if what == "threads" {
			fs.StringVar(&project, "project", "", "only the threads of this project")
		}
	}, nil)
	if err != nil {
		return err
	}
	defer closeConn()
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	if what == "projects" {
		var r contract.ProjectsReply
		if err := c.Query(ctx, contract.ProjectList{}, &r); err != nil {
			return printReply(env.stdout, nil, err)
		}
		if asJSON {
			return printReply(env.stdout, r, nil)
		}
		fmt.Fprintln(tw, "ID\tNAME\tPATH\tTHREADS\tDELETED")
		for _, p := range r.Projects {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\n", p.ID, p.Name, p.Path, len(p.ThreadIDs), p.Deleted)
		}
		return nil
	}
	var r contract.ThreadsReply
	if err := c.Query(ctx, contract.ThreadList{ProjectID: project}, &r); err != nil {
		return printReply(env.stdout, nil, err)
	}
	if asJSON {
		return printReply(env.stdout, r, nil)
	}
	fmt.Fprintln(tw, "ID\tPROJECT\tTITLE\tSTATUS\tTURNS\tDELETED")
	for _, t := range r.Threads {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%v\n", t.ID, t.ProjectID, t.Title, t.Status, len(t.Turns), t.Deleted)
	}
	return nil
}
