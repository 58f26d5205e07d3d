package main

import (
	"context"
	"errors"
	"fmt"
	"text/tabwriter"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// clientFlags are what a client command needs: where NATS is, and whether
// to print JSON.
type clientFlags struct {
	NATS natsFlags `embed:""`
	JSON bool      `name:"json" help:"print JSON"`
}

// dial checks the flags (and the command's own problems, all at once) and
// connects.
func (c *clientFlags) dial(name string, more ...error) (*client.Client, *nats.Conn, error) {
	if err := problems(append(c.NATS.check(), more...)...); err != nil {
		return nil, nil, err
	}
	nc, err := c.NATS.connect(name, defaultInstance())
	if err != nil {
		return nil, nil, err
	}
	return client.New(nc, domain.JSON), nc, nil
}

// queryTimeout bounds a client query.
const queryTimeout = 10 * time.Second

// projectCmd: peon project list | show ID (also peon projects).
type projectCmd struct {
	List projectListCmd `cmd:"" default:"withargs" help:"List the projects."`
	Show projectShowCmd `cmd:"" help:"Show one project and its threads."`
}

type projectListCmd struct {
	Client clientFlags `embed:""`
}

func (c *projectListCmd) Run(ctx context.Context, env *environment) error {
	cl, nc, err := c.Client.dial("project list")
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var r contract.ProjectsReply
	if r.Projects, err = cl.Projects(ctx, contract.ProjectList{}); err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	if c.Client.JSON {
		return printJSON(env.stdout, r)
	}
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "ID\tNAME\tPATH\tTHREADS\tDELETED")
	for _, p := range r.Projects {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%v\n", p.ID, p.Name, p.Path, len(p.ThreadIDs), p.Deleted)
	}
	return nil
}

type projectShowCmd struct {
	Client clientFlags `embed:""`
	ID     string      `arg:"" help:"the project id"`
}

func (c *projectShowCmd) Run(ctx context.Context, env *environment) error {
	cl, nc, err := c.Client.dial("project show", checkID("project", c.ID))
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var p contract.ProjectReply
	if err := cl.Query(ctx, contract.ProjectGet{ProjectID: c.ID}, &p); err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	var th contract.ThreadsReply
	if th.Threads, err = cl.Threads(ctx, contract.ThreadList{ProjectID: c.ID}); err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	if c.Client.JSON {
		return printJSON(env.stdout, map[string]any{"project": p.Project, "threads": th.Threads})
	}
	fmt.Fprintf(env.stdout, "project %s  %q  %s", p.Project.ID, p.Project.Name, p.Project.Path)
	if p.Project.Deleted {
		fmt.Fprint(env.stdout, "  (deleted)")
	}
	fmt.Fprintf(env.stdout, "\ncreated %s\n\n", p.Project.CreatedAt.Local().Format(time.DateTime))
	printThreads(env, th.Threads)
	return nil
}

// threadListCmd lists threads.
type threadListCmd struct {
	Client  clientFlags `embed:""`
	Project string      `placeholder:"ID" help:"only the threads of this project"`
}

func (c *threadListCmd) Run(ctx context.Context, env *environment) error {
	var idErr error
	if c.Project != "" {
		idErr = checkID("--project", c.Project)
	}
	cl, nc, err := c.Client.dial("thread list", idErr)
	if err != nil {
		return err
	}
	defer nc.Close()
	ctx, cancel := context.WithTimeout(ctx, queryTimeout)
	defer cancel()
	var r contract.ThreadsReply
	if r.Threads, err = cl.Threads(ctx, contract.ThreadList{ProjectID: c.Project}); err != nil {
		return queryFailed(env, err, c.Client.JSON)
	}
	if c.Client.JSON {
		return printJSON(env.stdout, r)
	}
	printThreads(env, r.Threads)
	return nil
}

func printThreads(env *environment, threads []*domain.ThreadState) {
	tw := tabwriter.NewWriter(env.stdout, 2, 4, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "ID\tPROJECT\tTITLE\tSTATUS\tTURNS\tPENDING\tDELETED")
	for _, t := range threads {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%d\t%d\t%v\n", t.ID, t.ProjectID, t.Title, t.Status, len(t.Turns), len(pendingOf(t)), t.Deleted)
	}
}

// checkID refuses what cannot be an id before anything is asked.
func checkID(what, id string) error {
	if !domain.ValidID(id) {
		return fmt.Errorf("%s %q is not a valid id (a UUID, or 1-64 of A-Z a-z 0-9 _ -)", what, id)
	}
	return nil
}

// queryFailed reports a failed query: a refusal (exit 1) as the
// contract's error body with --json, else as one line on stderr; anything
// else as unavailable (exit 3).
func queryFailed(env *environment, err error, asJSON bool) error {
	var ce *client.Error
	if asJSON || !errors.As(err, &ce) {
		return printReply(env.stdout, nil, err)
	}
	fmt.Fprintf(env.stderr, "peon: %s: %s\n", ce.Code, ce.Message)
	if ce.Transient() {
		return errSilentUnavailable
	}
	return errSilent
}
