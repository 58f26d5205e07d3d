package main

// cli is the command tree. Every command's flags are its own: a role takes
// its service's flags and no other's, a client command the connection
// flags it needs. Flags go anywhere after the command's name.
type cli struct {
	Dev            devCmd        `cmd:"" group:"run" help:"Run everything in one process on an embedded NATS server."`
	Setup          setupCmd      `cmd:"" group:"run" help:"Create or update the streams, buckets and consumers (admin)."`
	Decider        deciderCmd    `cmd:"" group:"run" help:"Serve commands (peon.cmd.>)."`
	Projector      projectorCmd  `cmd:"" group:"run" help:"Fold events into the read-model buckets; 'projector rebuild' replays them into fresh ones."`
	Query          queryCmd      `cmd:"" group:"run" help:"Serve queries (peon.query.>)."`
	ProviderIngest ingestCmd     `cmd:"" name:"provider-ingest" group:"run" help:"Turn what agents report into commands."`
	Gateway        gatewayCmd    `cmd:"" group:"run" help:"Serve the HTTP API and the web console."`
	Host           hostCmd       `cmd:"" group:"run" help:"Run the coding agents of the projects of one host name."`
	Simulate       simulateCmd   `cmd:"" group:"run" help:"Play simulated agents and users on a few threads."`
	Health         healthCmd     `cmd:"" group:"run" help:"Exit 0 when an HTTP endpoint answers 200 (container health checks)."`
	Cmd            sendCmd       `cmd:"" name:"cmd" group:"use" help:"Send a command: peon cmd project.create name=demo path=/tmp/demo."`
	Project        projectCmd    `cmd:"" aliases:"projects" group:"use" help:"List or show projects."`
	Thread         threadCmd     `cmd:"" aliases:"threads" group:"use" help:"List, show or watch threads."`
	Events         eventsCmd     `cmd:"" aliases:"event" group:"use" help:"Follow the event stream."`
	Status         statusCmd     `cmd:"" group:"use" help:"Streams, projections, services: is Peon healthy?"`
	Bench          benchCmd      `cmd:"" group:"use" help:"Load generator, each figure beside raw JetStream's."`
	Version        versionCmd    `cmd:"" group:"shell" help:"Print the version of peon and what it embeds."`
	Completion     completionCmd `cmd:"" group:"shell" help:"Print a shell completion script: bash, zsh or fish."`
	Help           helpCmd       `cmd:"" group:"shell" help:"Show help for a command."`
	BenchNode      benchNodeCmd  `cmd:"" name:"bench-node" hidden:"" help:"One nats-server of peon bench --cluster."`
}
