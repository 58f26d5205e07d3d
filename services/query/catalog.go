package query

import (
	"context"
	"errors"
	"sort"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func (s *Service) projectGet(ctx context.Context, _ request, r contract.ProjectGet) (any, error) {
	if err := checkID("project_id", r.ProjectID); err != nil {
		return nil, err
	}
	var p domain.ProjectState
	_, b, _ := s.reading()
	if err := s.get(ctx, b.Projects, r.ProjectID, &p); err != nil {
		return nil, notFound(err, domain.CodeProjectNotFound, "project", r.ProjectID)
	}
	return contract.ProjectReply{Project: &p}, nil
}

func (s *Service) threadGet(ctx context.Context, _ request, r contract.ThreadGet) (any, error) {
	if err := checkID("thread_id", r.ThreadID); err != nil {
		return nil, err
	}
	var t domain.ThreadState
	_, b, _ := s.reading()
	if err := s.get(ctx, b.Threads, r.ThreadID, &t); err != nil {
		return nil, notFound(err, domain.CodeThreadNotFound, "thread", r.ThreadID)
	}
	return contract.ThreadReply{Thread: &t}, nil
}

func (s *Service) threadToolCall(ctx context.Context, _ request, r contract.ThreadToolCall) (any, error) {
	if err := checkID("thread_id", r.ThreadID); err != nil {
		return nil, err
	}
	if err := checkID("tool_call_id", r.ToolCallID); err != nil {
		return nil, err
	}
	var c domain.ToolCallState
	_, b, _ := s.reading()
	if err := s.get(ctx, b.Threads, contract.ToolCallKey(r.ThreadID, r.ToolCallID), &c); err != nil {
		return nil, notFound(err, domain.CodeToolCallNotFound, "tool call", r.ThreadID+"/"+r.ToolCallID)
	}
	return contract.ToolCallReply{ToolCall: &c}, nil
}

// checkID refuses an id that is not one: invalid_command, answered before
// any read.
func checkID(field, id string) error {
	if !domain.ValidID(id) {
		return domain.Errorf(domain.CodeInvalidCommand, "%s %q is not a valid id", field, id)
	}
	return nil
}

func (s *Service) projectList(ctx context.Context, rq request, r contract.ProjectList) (any, error) {
	limit, err := pageLimit(r.Limit, defaultListLimit)
	if err != nil {
		return nil, err
	}
	after, paged, err := parseCursor(r.After)
	if err != nil {
		return nil, err
	}
	var all []*domain.ProjectState
	_, b, _ := s.reading()
	err = s.each(ctx, b.Projects, ">", func(_ string, data []byte) error {
		var p domain.ProjectState
		if err := domain.Unmarshal(domain.MessagePack, data, &p); err != nil {
			return err
		}
		if !paged || after.before(listCursor{p.CreatedAt, p.ID}) {
			all = append(all, &p)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	items, next, err := listPage(s.newPage(rq), all, limit, "project",
		func(p *domain.ProjectState) listCursor { return listCursor{p.CreatedAt, p.ID} })
	return contract.ProjectsReply{Projects: items, Next: next}, err
}

func (s *Service) threadList(ctx context.Context, rq request, r contract.ThreadList) (any, error) {
	if r.ProjectID != "" { // optional: all projects
		if err := checkID("project_id", r.ProjectID); err != nil {
			return nil, err
		}
	}
	limit, err := pageLimit(r.Limit, defaultListLimit)
	if err != nil {
		return nil, err
	}
	after, paged, err := parseCursor(r.After)
	if err != nil {
		return nil, err
	}
	var all []*domain.ThreadState
	_, b, _ := s.reading()
	// "*": thread records only, one token; a thread's tool calls are
	// under <thread_id>.tool.<id>.
	err = s.each(ctx, b.Threads, "*", func(_ string, data []byte) error {
		var t domain.ThreadState
		if err := domain.Unmarshal(domain.MessagePack, data, &t); err != nil {
			return err
		}
		if (r.ProjectID == "" || t.ProjectID == r.ProjectID) && (!paged || after.before(listCursor{t.CreatedAt, t.ID})) {
			all = append(all, &t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	items, next, err := listPage(s.newPage(rq), all, limit, "thread",
		func(t *domain.ThreadState) listCursor { return listCursor{t.CreatedAt, t.ID} })
	return contract.ThreadsReply{Threads: items, Next: next}, err
}

// listPage sorts items by creation and returns the first page of them:
// at most limit, and no more than fit in p. next is the cursor after the
// page's last item, empty when nothing follows. An item that does not fit
// even alone is refused with reply_too_large, as no page could carry it.
func listPage[T any](p *page, items []T, limit int, what string, cursor func(T) listCursor) ([]T, string, error) {
	sort.Slice(items, func(i, j int) bool { return cursor(items[i]).before(cursor(items[j])) })
	out := make([]T, 0, min(len(items), limit))
	for _, item := range items {
		fits := len(out) < limit
		if fits {
			var err error
			if fits, err = p.add(item); err != nil {
				return nil, "", err
			}
		}
		if !fits {
			if len(out) == 0 {
				return nil, "", domain.Errorf(contract.CodeReplyTooLarge, "%s %s does not fit in one reply (at most %d bytes)",
					what, cursor(item).id, p.budget)
			}
			return out, cursor(out[len(out)-1]).String(), nil
		}
		out = append(out, item)
	}
	return out, "", nil
}

func notFound(err error, code domain.Code, what, id string) error {
	if errors.Is(err, jetstream.ErrKeyNotFound) {
		return domain.Errorf(code, "%s %q not found", what, id)
	}
	return err
}
