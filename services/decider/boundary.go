package decider

import (
	"context"
	"fmt"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// Consistency boundaries. Each command's registry row (domain.Commands)
// names its boundary; this table says what a boundary means here: the
// in-process locks that serialise its commands, the state they are decided
// on and the expectation that guards their append.
//
//	boundary       locks                       state decided on                          expectation
//	AllProjects    projects                    all projects' own events (peon.evt.*._p)  peon.evt.*._p
//	Project        project:<p>                 the project's own events                  peon.evt.<p>._p
//	ProjectTree    tree:<p>                    the project and all its threads           peon.evt.<p>.>
//	NewThread      thread:<t>, project:<p>     the project's own events + the thread id  peon.evt.<p>.> (read first)
//	Thread         thread:<t>                  the thread's events (peon.evt.*.<t>)      peon.evt.<p>.<t>
//
// Expecting on peon.evt.<p>.> for NewThread and ProjectTree is what keeps a
// thread from being created in a project that is being deleted: whichever
// appends second sees the other's events and decides again.
var boundaries = map[domain.Boundary]boundary{
	domain.BoundaryAllProjects: {
		locks:   func(addressed) []string { return []string{projectsKey} },
		prepare: (*Service).prepareAllProjects,
	},
	domain.BoundaryProject: {
		locks:   func(a addressed) []string { return []string{projectKey(a.project)} },
		prepare: (*Service).prepareProject,
	},
	domain.BoundaryProjectTree: {
		locks:   func(a addressed) []string { return []string{treeKey(a.project)} },
		prepare: (*Service).prepareProjectTree,
	},
	domain.BoundaryNewThread: {
		locks:   func(a addressed) []string { return []string{threadKey(a.thread), projectKey(a.project)} },
		prepare: (*Service).prepareNewThread,
	},
	domain.BoundaryThread: {
		locks:   func(a addressed) []string { return []string{threadKey(a.thread)} },
		prepare: (*Service).prepareThread,
	},
}

// boundary is one row of the table above.
type boundary struct {
	// locks names the aggregates a command works on, in a fixed order.
	locks func(addressed) []string
	// prepare loads (or catches up) the state and states the expectation.
	// After a conflict fresh is true and cached state is caught up first.
	prepare func(s *Service, ctx context.Context, a addressed, fresh bool) (state, error)
}

// addressed holds the ids that name a command's aggregates.
type addressed struct {
	project, thread string
}

// boundaryOf returns a command's registry row, its boundary and the ids
// that name its aggregates, checked: they become subject filters and lock
// keys, so they are checked before any I/O.
func boundaryOf(cmd domain.Command) (domain.CommandSpec, boundary, addressed, error) {
	spec, ok := domain.CommandSpecOf(cmd.CommandType())
	if !ok {
		return spec, boundary{}, addressed{}, fmt.Errorf("command %s is not in the registry", cmd.CommandType())
	}
	b, ok := boundaries[spec.Boundary]
	if !ok {
		return spec, boundary{}, addressed{}, fmt.Errorf("command %s: boundary %d has no implementation", spec.Type, spec.Boundary)
	}
	if id := cmd.CommandIdentity(); !domain.ValidID(id) {
		// It becomes part of every Nats-Msg-Id and a header value.
		return spec, b, addressed{}, invalidID("command_id", id)
	}
	var a addressed
	for _, field := range spec.Boundary.Addressed() {
		id := domain.IDOf(cmd, field)
		if !domain.ValidID(id) {
			return spec, b, addressed{}, invalidID(field, id)
		}
		switch field {
		case "project_id":
			a.project = id
		case "thread_id":
			a.thread = id
		}
	}
	return spec, b, a, nil
}

func invalidID(field, id string) error {
	return domain.Errorf(domain.CodeInvalidCommand, "%s %q is not a valid id (1-64 characters of A-Z a-z 0-9 _ -)", field, id)
}

const projectsKey = "projects"

func projectKey(id string) string { return "project:" + id }
func treeKey(id string) string    { return "tree:" + id }
func threadKey(id string) string  { return "thread:" + id }

func (s *Service) prepareAllProjects(ctx context.Context, _ addressed, fresh bool) (state, error) {
	a, caughtUp, err := s.aggregate(ctx, projectsKey, contract.AllProjectsFilter, fresh)
	return state{model: a.model, primary: a, expectFilter: contract.AllProjectsFilter, expectSeq: a.lastSeq, fresh: caughtUp}, err
}

func (s *Service) prepareProject(ctx context.Context, ad addressed, fresh bool) (state, error) {
	subject := contract.ProjectSubject(ad.project)
	a, caughtUp, err := s.aggregate(ctx, projectKey(ad.project), subject, fresh)
	return state{model: a.model, primary: a, expectFilter: subject, expectSeq: a.lastSeq, fresh: caughtUp}, err
}

// prepareProjectTree reads the whole tree for this command only: it is
// rare (deleting a project) and its state is large.
func (s *Service) prepareProjectTree(ctx context.Context, ad addressed, _ bool) (state, error) {
	tree := contract.ProjectTreeFilter(ad.project)
	a := newAggregate(treeKey(ad.project), tree, s.cfg.Receipts)
	err := a.catchUp(ctx, s.store)
	return state{model: a.model, primary: a, expectFilter: tree, expectSeq: a.lastSeq, fresh: true}, err
}

func (s *Service) prepareThread(ctx context.Context, ad addressed, fresh bool) (state, error) {
	a, caughtUp, err := s.aggregate(ctx, threadKey(ad.thread), contract.ThreadFilter(ad.thread), fresh)
	if err != nil {
		return state{}, err
	}
	expect := contract.ThreadFilter(ad.thread)
	if a.projectID != "" {
		expect = contract.ThreadSubject(a.projectID, ad.thread)
	}
	return state{model: a.model, primary: a, expectFilter: expect, expectSeq: a.lastSeq, fresh: caughtUp}, nil
}

// prepareNewThread reads the project tree's last sequence first (the
// expectation), then catches up the project and the thread id. Each read
// may be served by another replica, so the state is not known to be as new
// as the expectation: a rejection (project_not_found, thread_exists) is
// confirmed against the leader for the project's and the thread's own
// subjects, the reads it was decided on.
func (s *Service) prepareNewThread(ctx context.Context, ad addressed, _ bool) (state, error) {
	tree := contract.ProjectTreeFilter(ad.project)
	last, err := s.store.LastSequence(ctx, tree)
	if err != nil {
		return state{}, err
	}
	project, _, err := s.aggregate(ctx, projectKey(ad.project), contract.ProjectSubject(ad.project), true)
	if err != nil {
		return state{}, err
	}
	thread, _, err := s.aggregate(ctx, threadKey(ad.thread), contract.ThreadFilter(ad.thread), true)
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
	return state{model: m, primary: thread, expectFilter: tree, expectSeq: last, fresh: true,
		reads: []readMark{{contract.ProjectSubject(ad.project), project.lastSeq}, {contract.ThreadFilter(ad.thread), thread.lastSeq}}}, nil
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
