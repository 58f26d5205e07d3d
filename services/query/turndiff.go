package query

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/nats-io/nats.go/jetstream"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// maxDiffRecordBytes bounds a stored turn diff this service reads: a
// host's diff limit (512 KiB by default) plus its file list, with room.
const maxDiffRecordBytes = 4 << 20

// turnDiff answers turn.diff from peon_diffs, where the host that ran the
// turn stored it (so it is there while that host is offline). A turn with
// no stored diff — unknown, still running, or run without checkpoints —
// is turn_not_found.
func (s *Service) turnDiff(ctx context.Context, _ request, r contract.TurnDiff) (any, error) {
	if err := checkID("thread_id", r.ThreadID); err != nil {
		return nil, err
	}
	if err := checkID("turn_id", r.TurnID); err != nil {
		return nil, err
	}
	store, err := s.diffStore(ctx)
	if err != nil {
		return nil, err
	}
	key := contract.DiffKey(r.ThreadID, r.TurnID)
	info, err := store.GetInfo(ctx, key)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, domain.Errorf(domain.CodeTurnNotFound, "no diff stored for turn %q of thread %q", r.TurnID, r.ThreadID)
	}
	if err != nil {
		return nil, err
	}
	if info.Size > maxDiffRecordBytes {
		return nil, fmt.Errorf("diff of turn %s is %d bytes, more than %d", r.TurnID, info.Size, maxDiffRecordBytes)
	}
	data, err := store.GetBytes(ctx, key)
	if errors.Is(err, jetstream.ErrObjectNotFound) {
		return nil, domain.Errorf(domain.CodeTurnNotFound, "no diff stored for turn %q of thread %q", r.TurnID, r.ThreadID)
	}
	if err != nil {
		return nil, err
	}
	reply, err := decodeDiffRecord(data)
	if err != nil {
		return nil, fmt.Errorf("diff of turn %s: %w", r.TurnID, err)
	}
	if reply.TurnID != r.TurnID {
		return nil, fmt.Errorf("diff stored under turn %s names turn %s", r.TurnID, reply.TurnID)
	}
	return reply, nil
}

// diffStore opens peon_diffs once, on the first diff asked for (it is made
// by `peon setup`, which may run after this instance started), and keeps
// the handle: a query then costs the object's reads only.
func (s *Service) diffStore(ctx context.Context) (jetstream.ObjectStore, error) {
	s.diffsMu.Lock()
	defer s.diffsMu.Unlock()
	if s.diffs != nil {
		return s.diffs, nil
	}
	store, err := s.js.ObjectStore(ctx, contract.BucketDiffs)
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w (run `peon setup`)", contract.BucketDiffs, err)
	}
	s.diffs = store
	return store, nil
}

// decodeDiffRecord decodes a stored turn diff (JSON, as a host writes it),
// refusing unknown fields and malformed file changes.
func decodeDiffRecord(data []byte) (contract.TurnDiffReply, error) {
	var reply contract.TurnDiffReply
	if len(data) > maxDiffRecordBytes {
		return reply, fmt.Errorf("record of %d bytes is more than %d", len(data), maxDiffRecordBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&reply); err != nil {
		return contract.TurnDiffReply{}, fmt.Errorf("undecodable record: %w", err)
	}
	if reply.Files == nil {
		reply.Files = []domain.FileChange{}
	}
	reply.FilesTotal = max(reply.FilesTotal, len(reply.Files))
	return reply, nil
}
