package contract

import (
	"hash/fnv"
	"strconv"
	"strings"

	"github.com/peonhq/peon/pkg/domain"
)

// Routing commands by aggregate (contract 1.1).
//
// Every command may be sent on its plain subject, peon.cmd.<name>, which
// any decider instance serves. A client that knows the command's aggregate
// may send it on the aggregate's partition instead,
// peon.cmd.part.<k>.<name>, with k = CommandPartition(RoutingKey(cmd)):
// the decider instances share the partitions among themselves, so the
// consecutive commands of a thread reach the instance whose cache holds
// that thread, and the common path is the request, one append and the
// reply. When no instance serves the partition at the moment (its owner
// stopped and the others have not taken it over yet) the server answers
// "no responders" at once, and the client sends the command again on the
// plain subject: nothing was received, so nothing happened twice. Where a
// command lands decides only what it costs, never its outcome: the
// decider's optimistic concurrency makes a command correct on any
// instance.

// CommandPartitions is the number of command partitions. It is part of the
// contract (clients and deciders compute the same partition), and larger
// than any sensible number of decider instances so that each instance
// gets several.
const CommandPartitions = 32

// CommandPartitionToken is the subject token after peon.cmd that marks a
// routed command (no command endpoint starts with it).
const CommandPartitionToken = "part"

// CommandPartition is the partition of an aggregate's routing key: FNV-1a
// of the key, modulo CommandPartitions.
func CommandPartition(key string) int {
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	return int(h.Sum32() % CommandPartitions)
}

// CommandPartitionFilter is the subject filter of every command of
// partition k (peon.cmd.part.<k>.>).
func CommandPartitionFilter(k int) string {
	return CommandPrefix + "." + CommandPartitionToken + "." + strconv.Itoa(k) + ".>"
}

// RoutedCommandSubject returns the partitioned subject of a command sent
// with the given routing key: peon.cmd.part.<k>.<endpoint>.
func RoutedCommandSubject(endpoint, key string) string {
	return CommandPrefix + "." + CommandPartitionToken + "." + strconv.Itoa(CommandPartition(key)) + "." + endpoint
}

// RoutedEndpoint returns the command endpoint token (turn.start) of a
// routed subject, and whether subject is one.
func RoutedEndpoint(subject string) (string, bool) {
	rest, ok := strings.CutPrefix(subject, CommandPrefix+"."+CommandPartitionToken+".")
	if !ok {
		return "", false
	}
	k, endpoint, ok := strings.Cut(rest, ".")
	if n, err := strconv.Atoi(k); !ok || err != nil || n < 0 || n >= CommandPartitions || endpoint == "" {
		return "", false
	}
	return endpoint, true
}

// allProjectsKey is the routing key of the commands decided on all
// projects at once (CreateProject): they share one aggregate.
const allProjectsKey = "projects"

// RoutingKey returns the key of the aggregate a command is decided on (and
// cached by): its thread for a thread's commands, its project for a
// project's (CreateThread too: it is decided on its project's events), one
// key for the commands on all projects. "" when the command does not name
// its aggregate (an invalid command, sent on the plain subject to be
// refused there).
func RoutingKey(cmd domain.Command) string {
	spec, ok := domain.CommandSpecOf(cmd.CommandType())
	if !ok {
		return ""
	}
	switch spec.Boundary {
	case domain.BoundaryAllProjects:
		return allProjectsKey
	case domain.BoundaryProject, domain.BoundaryProjectTree, domain.BoundaryNewThread:
		return domain.IDOf(cmd, "project_id")
	case domain.BoundaryThread:
		return domain.IDOf(cmd, "thread_id")
	}
	return ""
}
