package decider

import (
	"context"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Which events a command needs, and which expectation guards its append:
//
//	CreateProject     all projects' own events (peon.evt.*._p)  expect on peon.evt.*._p
//	RenameProject     the project's own events                  expect on its subject
//	DeleteProject     the project and all its threads           expect on peon.evt.<p>.>
//	CreateThread      the project's own events + the thread id  expect on peon.evt.<p>.>
//	thread commands   the thread's events (peon.evt.*.<t>)      expect on its subject
//
// Expecting on peon.evt.<p>.> for CreateThread and DeleteProject is what
// keeps a thread from being created in a project that is being deleted:
// whichever appends second sees the other's events and decides again.

// lockKeys returns the aggregates a command works on, in a fixed order.
func lockKeys(cmd domain.Command) []string {
	switch c := cmd.(type) {
	case domain.CreateProject:
		return []string{projectsKey}
	case domain.RenameProject:
		return []string{projectKey(c.ProjectID)}
	case domain.DeleteProject:
		return []string{treeKey(c.ProjectID)}
	case domain.CreateThread:
		return []string{threadKey(c.ThreadID), projectKey(c.ProjectID)}
	}
	return []string{threadKey(threadOf(cmd))}
}

const projectsKey = "projects"

func projectKey(id string) string { return "project:" + id }
func treeKey(id string) string    { return "tree:" + id }
func threadKey(id string) string  { return "thread:" + id }

// prepare loads (or catches up) what cmd needs and states the expectation.
// After a conflict, fresh is true and cached state is caught up first.
func (s *Service) prepare(ctx context.Context, cmd domain.Command, fresh bool) (state, error) {
	switch c := cmd.(type) {
	case domain.CreateProject:
		a, caughtUp, err := s.aggregate(ctx, projectsKey, contract.AllProjectsFilter, fresh)
		return state{model: a.model, primary: a, expectFilter: contract.AllProjectsFilter, expectSeq: a.lastSeq, fresh: caughtUp}, err
	case domain.RenameProject:
		subject := contract.ProjectSubject(c.ProjectID)
		a, caughtUp, err := s.aggregate(ctx, projectKey(c.ProjectID), subject, fresh)
		return state{model: a.model, primary: a, expectFilter: subject, expectSeq: a.lastSeq, fresh: caughtUp}, err
	case domain.DeleteProject:
		tree := contract.ProjectTreeFilter(c.ProjectID)
		a := newAggregate(treeKey(c.ProjectID), tree, s.cfg.Receipts)
		err := a.catchUp(ctx, s.store)
		return state{model: a.model, primary: a, expectFilter: tree, expectSeq: a.lastSeq, fresh: true}, err
	case domain.CreateThread:
		return s.prepareCreateThread(ctx, c)
	}
	threadID := threadOf(cmd)
	a, caughtUp, err := s.aggregate(ctx, threadKey(threadID), contract.ThreadFilter(threadID), fresh)
	if err != nil {
		return state{}, err
	}
	expect := contract.ThreadFilter(threadID)
	if a.projectID != "" {
		expect = contract.ThreadSubject(a.projectID, threadID)
	}
	return state{model: a.model, primary: a, expectFilter: expect, expectSeq: a.lastSeq, fresh: caughtUp}, nil
}

// prepareCreateThread reads the project tree's last sequence first, then
// catches up the project and the thread id: the state decided on is then at
// least as new as the expectation.
func (s *Service) prepareCreateThread(ctx context.Context, c domain.CreateThread) (state, error) {
	tree := contract.ProjectTreeFilter(c.ProjectID)
	last, err := s.store.LastSequence(ctx, tree)
	if err != nil {
		return state{}, err
	}
	project, _, err := s.aggregate(ctx, projectKey(c.ProjectID), contract.ProjectSubject(c.ProjectID), true)
	if err != nil {
		return state{}, err
	}
	thread, _, err := s.aggregate(ctx, threadKey(c.ThreadID), contract.ThreadFilter(c.ThreadID), true)
	if err != nil {
		return state{}, err
	}
	// Decide reads only; the composed model shares the aggregates' entries.
	m := domain.NewModel()
	for id, p := range project.model.Projects {
		m.Projects[id] = p
	}
	for id, t := range thread.model.Threads {
		m.Threads[id] = t
	}
	return state{model: m, primary: thread, expectFilter: tree, expectSeq: last, fresh: true}, nil
}

// aggregate returns the cached aggregate for key, loading it on a miss and
// catching it up when fresh is asked for. caughtUp reports whether it was
// read from the stream just now (loaded or caught up), rather than served
// from the cache as it was.
func (s *Service) aggregate(ctx context.Context, key, filter string, fresh bool) (a *aggregate, caughtUp bool, err error) {
	if a, ok := s.cache.Get(key); ok {
		if !fresh {
			return a, false, nil
		}
		err := a.catchUp(ctx, s.store)
		s.cache.Put(a.key, a)
		return a, true, err
	}
	a = newAggregate(key, filter, s.cfg.Receipts)
	a.cached = true
	s.loads.Add(1)
	if err := a.catchUp(ctx, s.store); err != nil {
		return a, true, err
	}
	s.cache.Put(a.key, a)
	return a, true, nil
}

// threadOf returns the thread a thread command addresses.
func threadOf(cmd domain.Command) string {
	switch c := cmd.(type) {
	case domain.DeleteThread:
		return c.ThreadID
	case domain.SelectThread:
		return c.ThreadID
	case domain.StartTurn:
		return c.ThreadID
	case domain.InterruptTurn:
		return c.ThreadID
	case domain.ApprovePendingAction:
		return c.ThreadID
	case domain.RejectPendingAction:
		return c.ThreadID
	case domain.IngestProviderEvent:
		return c.ThreadID
	case domain.CreateCheckpoint:
		return c.ThreadID
	case domain.RestoreCheckpoint:
		return c.ThreadID
	case domain.CommitChanges:
		return c.ThreadID
	case domain.CreateBranch:
		return c.ThreadID
	case domain.PushBranch:
		return c.ThreadID
	case domain.ConfigureThread:
		return c.ThreadID
	case domain.CompleteGitOperation:
		return c.ThreadID
	}
	return ""
}

// addressedIDs returns the ids that name the aggregates a command works on.
// They become subject filters, so they are checked before any I/O.
func addressedIDs(cmd domain.Command) map[string]string {
	switch c := cmd.(type) {
	case domain.CreateProject:
		return map[string]string{"project_id": c.ProjectID}
	case domain.RenameProject:
		return map[string]string{"project_id": c.ProjectID}
	case domain.DeleteProject:
		return map[string]string{"project_id": c.ProjectID}
	case domain.CreateThread:
		return map[string]string{"project_id": c.ProjectID, "thread_id": c.ThreadID}
	}
	return map[string]string{"thread_id": threadOf(cmd)}
}

func checkAddressedIDs(cmd domain.Command) error {
	if id := cmd.CommandIdentity(); !domain.ValidID(id) {
		// It becomes part of every Nats-Msg-Id and a header value.
		return domain.Errorf(domain.CodeInvalidCommand, "command_id %q is not a valid id (1-64 characters of A-Z a-z 0-9 _ -)", id)
	}
	for field, id := range addressedIDs(cmd) {
		if !domain.ValidID(id) {
			return domain.Errorf(domain.CodeInvalidCommand, "%s %q is not a valid id (1-64 characters of A-Z a-z 0-9 _ -)", field, id)
		}
	}
	return nil
}
