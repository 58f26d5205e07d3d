package gitwork

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/internal/eventstore"
	"github.com/peonhq/peon/internal/lifecycle"
	"github.com/peonhq/peon/pkg/client"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// PriorityGroup is the pinned group executor instances of one host pull in.
const PriorityGroup = "peon"

// ConsumerName is the durable consumer of a host's executors.
func ConsumerName(host string) string { return "peon_git_" + host }

// ConsumerConfig is the durable consumer the executors of one host share:
// every event, in a pinned priority group, so only one instance of the
// host receives at a time and one operation is never run by two.
func ConsumerConfig(cfg Config) jetstream.ConsumerConfig {
	cfg = cfg.withDefaults()
	return jetstream.ConsumerConfig{
		Durable:        ConsumerName(cfg.Host),
		Description:    "git operations of the projects on host " + cfg.Host,
		DeliverPolicy:  jetstream.DeliverAllPolicy,
		AckPolicy:      jetstream.AckExplicitPolicy,
		AckWait:        cfg.AckWait,
		MaxAckPending:  maxInFlight,
		MaxDeliver:     -1,
		FilterSubject:  contract.EventSubjects,
		PriorityPolicy: jetstream.PriorityPolicyPinned,
		PriorityGroups: []string{PriorityGroup},
		PinnedTTL:      cfg.PinnedTTL,
	}
}

// maxInFlight bounds the events delivered and not yet acknowledged.
const maxInFlight = 1024

// Executor runs the git operations of the projects on one host: commit,
// branch, push and restore, in the project's path with internal/workspace,
// one at a time per project and projects in parallel, and records each
// outcome with CompleteGitOperation.
//
// Exactly once in effect: before running an operation it folds the
// thread's events and skips an operation that already has its outcome (a
// redelivery after the outcome was recorded); an operation run before but
// not recorded (the host died in between) finds its own result in the
// repository — the commit by its trailer, the branch by its operation ref,
// the push because the remote already has it — and records that.
type Executor struct {
	cfg    Config
	js     jetstream.JetStream
	store  *eventstore.Store
	client *client.Client
	log    *slog.Logger
	ready  lifecycle.Ready

	mu       sync.Mutex
	projects map[string]string // project id -> path, for the projects on this host

	// beforeRecord, when set (tests), runs after an operation is executed
	// and before its outcome is recorded; returning false stops the
	// executor there, as a crash would.
	beforeRecord func(domain.GitOperationKind) bool
}

// New returns an executor over nc; it validates cfg and connects nothing.
func New(nc *nats.Conn, cfg Config, log *slog.Logger) (*Executor, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		return nil, err
	}
	return &Executor{cfg: cfg.withDefaults(), js: js, store: eventstore.New(js),
		client: client.New(nc, domain.MessagePack), log: log, projects: map[string]string{}}, nil
}

// Ready is closed once the executor receives operations.
func (e *Executor) Ready() <-chan struct{} { return e.ready.Done() }

// Run executes operations until ctx is done. An operation being run is
// finished and recorded first; what was delivered and not run stays
// unacknowledged and is delivered again (to this host's next instance).
func (e *Executor) Run(ctx context.Context) error {
	if _, err := eventstore.CheckStream(ctx, e.js); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return err
	}
	// The projects created before the consumer's position: their events
	// are not delivered again.
	if _, err := e.store.Load(ctx, contract.AllProjectsFilter, 0, func(r eventstore.Record) error {
		e.trackProject(r.Event)
		return nil
	}); err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("load projects: %w", err)
	}
	cons, err := e.js.CreateOrUpdateConsumer(ctx, contract.EventStream, ConsumerConfig(e.cfg))
	if err != nil {
		if ctx.Err() != nil {
			return nil
		}
		return fmt.Errorf("consumer %s: %w", ConsumerName(e.cfg.Host), err)
	}

	runCtx, crash := context.WithCancelCause(ctx)
	defer crash(nil)
	queues := newProjectQueues(runCtx, func(q chan delivery) { e.work(runCtx, crash, q) })
	cc, err := cons.Consume(func(m jetstream.Msg) { e.receive(m, queues.dispatch) },
		jetstream.PullPriorityGroup(PriorityGroup), jetstream.PullMaxMessages(256))
	if err != nil {
		crash(nil)
		queues.wait()
		return fmt.Errorf("consume %s: %w", ConsumerName(e.cfg.Host), err)
	}
	e.log.Info("git executor running", "host", e.cfg.Host, "instance", e.cfg.Instance)
	e.ready.Signal()
	<-runCtx.Done()
	cc.Stop()
	<-cc.Closed()
	queues.wait()
	// The pin is left to expire: what is still unacknowledged here must be
	// due again before another instance receives anything newer.
	if cause := context.Cause(runCtx); cause != nil && !errors.Is(cause, context.Canceled) {
		return cause
	}
	return nil
}

// delivery is one git operation to run, in its project.
type delivery struct {
	msg       jetstream.Msg
	projectID string
	threadID  string
	event     domain.Event
}

// receive routes one event: project events update the host's projects;
// git operations of a project on this host go to that project's queue;
// everything else is acknowledged at once.
func (e *Executor) receive(m jetstream.Msg, dispatch func(delivery)) {
	projectID, threadID, ok := contract.ParseEventSubject(m.Subject())
	if !ok {
		_ = m.Ack()
		return
	}
	// Most of the stream is streamed text and other events no executor
	// acts on: the type header says so without decoding the payload.
	if typ := m.Headers().Get(contract.HeaderEventType); typ != "" && !acted[typ] {
		_ = m.Ack()
		return
	}
	meta, _ := m.Metadata()
	var seq uint64
	var stored time.Time
	if meta != nil {
		seq, stored = meta.Sequence.Stream, meta.Timestamp
	}
	r, err := eventstore.DecodeRecord(m.Subject(), seq, stored, m.Headers(), m.Data())
	if err != nil {
		e.log.Warn("skipping an undecodable event", "subject", m.Subject(), "seq", seq, "err", err)
		_ = m.Ack()
		return
	}
	if threadID == "" {
		e.trackProject(r.Event)
		_ = m.Ack()
		return
	}
	if _, isOp := operationOf(r.Event); !isOp || e.projectPath(projectID) == "" {
		_ = m.Ack()
		return
	}
	dispatch(delivery{msg: m, projectID: projectID, threadID: threadID, event: r.Event})
}

func (e *Executor) trackProject(ev domain.Event) {
	e.mu.Lock()
	defer e.mu.Unlock()
	switch p := ev.(type) {
	case domain.ProjectCreated:
		host := p.Host
		if host == "" {
			host = domain.DefaultHost
		}
		if host == e.cfg.Host {
			e.projects[p.ProjectID] = p.Path
		}
	case domain.ProjectDeleted:
		delete(e.projects, p.ProjectID)
	}
}

func (e *Executor) projectPath(id string) string {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.projects[id]
}

// operationOf returns the operation id an event requests, if any. A
// CheckpointRestored recorded before contract 1.1 requested none.
// acted are the event types an executor decodes: its projects' creation
// and deletion (trackProject) and the git operations (operationOf).
var acted = map[string]bool{
	domain.TypeProjectCreated: true, domain.TypeProjectDeleted: true,
	domain.TypeCommitRequested: true, domain.TypeBranchCreateRequested: true, domain.TypePushRequested: true,
	domain.TypeCheckpointRestored: true,
}

func operationOf(ev domain.Event) (string, bool) {
	switch o := ev.(type) {
	case domain.CommitRequested:
		return o.OperationID, true
	case domain.BranchCreateRequested:
		return o.OperationID, true
	case domain.PushRequested:
		return o.OperationID, true
	case domain.CheckpointRestored:
		return o.OperationID, o.OperationID != ""
	}
	return "", false
}

// work runs one project's operations, in order.
func (e *Executor) work(ctx context.Context, crash context.CancelCauseFunc, q chan delivery) {
	for {
		var d delivery
		select {
		case d = <-q:
		case <-ctx.Done():
			return // what is queued stays unacknowledged: delivered again
		}
		// A failure to read the thread or record the outcome is retried
		// here, in place, so the project's later operations wait for this
		// one (a push must not overtake the commit before it). Each try
		// starts again from the thread's events, so a retry never runs git
		// for an operation whose outcome was recorded meanwhile.
		for attempt := 1; ; attempt++ {
			err := e.handle(ctx, d)
			if err == nil {
				_ = d.msg.Ack()
				break
			}
			if errors.Is(err, errCrashed) {
				crash(err)
				return
			}
			e.log.Warn("git operation retried", "thread", d.threadID, "attempt", attempt, "err", err)
			select {
			case <-ctx.Done():
				return // left unacknowledged: delivered again
			case <-time.After(min(time.Duration(attempt)*200*time.Millisecond, 2*time.Second)):
			}
		}
	}
}

// errCrashed is what the test hook stops the executor with.
var errCrashed = errors.New("stopped between running a git operation and recording it")

// handle runs one operation and records its outcome. It returns an error
// only when the operation should be delivered again.
func (e *Executor) handle(ctx context.Context, d delivery) error {
	opID, _ := operationOf(d.event)
	op, err := e.pending(ctx, d.projectID, d.threadID, opID)
	if err != nil || op == nil {
		return err // nil, nil: recorded before, or the thread is gone
	}
	// Keep the delivery ours while git runs (a push may be slow).
	stop := keepAlive(d.msg, e.cfg.AckWait/3)
	defer stop()
	// Git runs to its end even when the executor is stopping (a killed
	// git can leave a lock file behind in the user's repository), bounded
	// by GitTimeout only.
	gitCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), e.cfg.GitTimeout)
	defer cancel()
	outcome := e.execute(gitCtx, e.projectPath(d.projectID), d.threadID, d.event)
	if e.beforeRecord != nil && !e.beforeRecord(op.Kind) {
		return errCrashed
	}
	return e.record(ctx, d.threadID, opID, outcome)
}

// pending folds the thread's events and returns the operation when it is
// still requested; nil when it has an outcome already or the thread is
// gone.
func (e *Executor) pending(ctx context.Context, projectID, threadID, opID string) (*domain.GitOperation, error) {
	m := domain.NewModel()
	if _, err := e.store.Load(ctx, contract.ThreadSubject(projectID, threadID), 0, func(r eventstore.Record) error {
		if r.Event != nil {
			domain.Project(m, r.StoredEvent)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("load thread %s: %w", threadID, err)
	}
	t, ok := m.Threads[threadID]
	if !ok || t.Deleted {
		return nil, nil
	}
	op, ok := t.GitOperation(opID)
	if !ok || op.Status != domain.GitOperationRequested {
		return nil, nil
	}
	return op, nil
}
