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
	if !domain.ValidID(r.ThreadID) || !domain.ValidID(r.TurnID) {
		return nil, domain.Errorf(domain.CodeBadRequest, "thread_id and turn_id must be ids (1-64 characters of A-Z a-z 0-9 _ -)")
	}
	store, err := s.js.ObjectStore(ctx, contract.BucketDiffs)
	if err != nil {
		return nil, fmt.Errorf("object store %s: %w (run `peon setup`)", contract.BucketDiffs, err)
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
