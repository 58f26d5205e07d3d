// Package contract holds Peon's public wire contract, version 1.1: the NATS
// subjects, stream and bucket names, headers, reply shapes and the mapping
// of error codes to statuses. Services and clients import it so that every
// name is defined once; docs/contract.md describes the same contract.
package contract

import (
	"strings"
	"time"

	"github.com/peonhq/peon/pkg/domain"
)

// Streams.
const (
	// EventStream holds every event, one message per event; its stream
	// sequence is the event's sequence.
	EventStream = "PEON_EVENTS"
	// EventSubjects is the subject space of EventStream.
	EventSubjects = "peon.evt.>"
	// ProviderStream captures what agent adapters report.
	ProviderStream = "PEON_PROVIDER"
	// ProviderSubjects is the subject space of ProviderStream.
	ProviderSubjects = "peon.provider.>"
)

// ProjectToken is the last subject token of a project's own events.
const ProjectToken = "_p"

// ProjectSubject is the subject of the events of project p itself.
func ProjectSubject(projectID string) string { return "peon.evt." + projectID + "." + ProjectToken }

// ThreadSubject is the subject of the events of one thread.
func ThreadSubject(projectID, threadID string) string {
	return "peon.evt." + projectID + "." + threadID
}

// AllProjectsFilter matches the events of every project itself (not their threads).
const AllProjectsFilter = "peon.evt.*." + ProjectToken

// ProjectTreeFilter matches a project's own events and all its threads' events.
func ProjectTreeFilter(projectID string) string { return "peon.evt." + projectID + ".>" }

// ThreadFilter matches one thread's events whatever its project.
func ThreadFilter(threadID string) string { return "peon.evt.*." + threadID }

// ParseEventSubject splits an event subject into project and thread ids;
// thread is empty for a project's own events.
func ParseEventSubject(subject string) (projectID, threadID string, ok bool) {
	rest, found := strings.CutPrefix(subject, "peon.evt.")
	if !found {
		return "", "", false
	}
	projectID, threadID, found = strings.Cut(rest, ".")
	if !found || projectID == "" || threadID == "" || strings.Contains(threadID, ".") {
		return "", "", false
	}
	if threadID == ProjectToken {
		threadID = ""
	}
	return projectID, threadID, true
}

// ProviderThread returns the thread id of a provider subject.
func ProviderThread(subject string) (string, bool) {
	t, ok := strings.CutPrefix(subject, "peon.provider.")
	return t, ok && t != "" && !strings.Contains(t, ".")
}

// ProviderSubject is where adapters publish a thread's provider events.
func ProviderSubject(threadID string) string { return "peon.provider." + threadID }

// BucketIngestRejections records provider events provider-ingest could not
// apply (stale, unknown thread, malformed), keyed <thread_id>.<provider_event_id>.
const BucketIngestRejections = "peon_ingest_rejections"

// BucketCommandIDs holds, for every command_id the decider accepted, the
// aggregate it was used on, keyed by the command id: one id names one
// command across aggregates, also after the event stream's duplicate
// window. Written by the decider only; its entries expire with the bucket's
// TTL (CommandIDTTL).
const BucketCommandIDs = "peon_command_ids"

// CommandIDTTL is how long BucketCommandIDs remembers a command id.
const CommandIDTTL = 7 * 24 * time.Hour

// BucketDiffs is the object store holding each turn's diff (a
// TurnDiffReply as JSON) under DiffKey(thread, turn), written by the host
// that ran the turn and read by the query service.
const BucketDiffs = "peon_diffs"

// DiffKey is the peon_diffs object name of one turn's diff.
func DiffKey(threadID, turnID string) string { return threadID + "/" + turnID }

// Read-model buckets (version 1 names; a rebuild writes <bucket>_v<N>).
const (
	BucketProjects = "peon_projects"
	BucketThreads  = "peon_threads"
	BucketMessages = "peon_messages"
	BucketMeta     = "peon_meta"
)

// Keys of the meta bucket.
const (
	MetaSelectedThread = "selected_thread"
	// MetaCurrentPrefix + bucket names the live version of that bucket.
	MetaCurrentPrefix = "current."
	// MetaProgressPrefix + projection holds how far that projection folded.
	MetaProgressPrefix = "progress."
	// MetaParkedPrefix + projection + "." + sequence records a parked event.
	MetaParkedPrefix = "parked."
)

// MessageKey is the peon_messages key of one transcript entry.
func MessageKey(threadID, messageID string) string { return threadID + "." + messageID }

// Headers.
const (
	HeaderEventType   = "Peon-Event-Type"
	HeaderCommandID   = "Peon-Command-Id"
	HeaderCommandHash = "Peon-Command-Hash"
	HeaderMsgID       = "Nats-Msg-Id"
	HeaderContentType = "Content-Type"
	// HeaderDeadline (RFC 3339, optional) is when the sender stops waiting
	// for a command's reply. The decider does nothing with a request it
	// receives after that, and stops its work there: a request delayed in
	// transit (buffered across a reconnect, say) can then never act after
	// the sender has retried it and taken a later attempt's answer.
	HeaderDeadline = "Peon-Deadline"
)

// Command services and subjects.
const (
	DeciderService = "peon-decider"
	CommandPrefix  = "peon.cmd"
	CommandQueue   = "peon-decider"
	ServiceVersion = "1.1.0"
	QueryService   = "peon-query"
	QueryPrefix    = "peon.query"
	// ProjectorService and IngestService are the micro names of the
	// projector and provider-ingest roles (they serve no requests).
	ProjectorService = "peon-projector"
	IngestService    = "peon-provider-ingest"
)

// StatsSubject is the subject of the stats endpoint of one instance of a
// service that serves no requests of its own (the projector, ingest):
// micro reports an instance's stats per endpoint, so such an instance
// registers this one endpoint to have its counters in `nats micro stats`;
// a request on it is answered with the same counters, as JSON (the
// deploy's permissions let the admin user ask).
func StatsSubject(service, instanceID string) string {
	return "peon.stats." + service + "." + instanceID
}

// CommandEndpoints maps each command subject token (peon.cmd.<token>) to the
// command type it carries. It is built from the domain's command registry
// (domain.Commands), which is where a command's endpoint is named.
var CommandEndpoints = commandEndpoints()

func commandEndpoints() map[string]string {
	m := map[string]string{}
	for _, s := range domain.Commands() {
		m[s.Endpoint] = s.Type
	}
	return m
}

// CommandSubject returns the subject of a command type, or "" if unknown.
func CommandSubject(commandType string) string {
	if s, ok := domain.CommandSpecOf(commandType); ok {
		return CommandPrefix + "." + s.Endpoint
	}
	return ""
}
