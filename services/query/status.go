package query

import (
	"context"
	"fmt"

	"github.com/peonhq/peon/internal/readmodel"
	"github.com/peonhq/peon/pkg/contract"
)

func (s *Service) status(ctx context.Context, _ request, _ contract.StatusQuery) (any, error) {
	last, err := s.streamLast(ctx)
	if err != nil {
		return nil, err
	}
	reply := contract.StatusReply{Projections: map[string]contract.ProjectionStatus{}}
	v, _, _ := s.reading()
	layout, known := s.progress.layout(v)
	if !known {
		layout = readmodel.All
	}
	for _, p := range layout {
		rec, _ := s.progress.get(p.Key(v))
		st := contract.ProjectionStatus{LastFolded: rec.LastFolded, StreamLast: last, Parked: rec.Parked}
		if st.StreamLast > st.LastFolded {
			st.Lag = st.StreamLast - st.LastFolded
		}
		st.Reason = degradedReason(rec, last)
		st.Degraded = st.Reason != ""
		reply.Projections[p.Name] = st
	}
	return reply, nil
}

// degradedReason says why a projection needs an operator, or "" when it
// does not: it recorded progress past the stream's end (its read model
// does not come from this stream), cannot write, or parked events.
func degradedReason(rec contract.ProgressRecord, streamLast uint64) string {
	switch {
	case rec.LastFolded > streamLast:
		return pastStreamEnd(rec, streamLast)
	case rec.Degraded != "":
		return rec.Degraded
	case rec.Parked > 0:
		return fmt.Sprintf("%d events parked: they could not be folded (see peon_meta parked.*)", rec.Parked)
	}
	return ""
}

func pastStreamEnd(rec contract.ProgressRecord, streamLast uint64) string {
	return fmt.Sprintf("progress %d is past the stream's end %d: the read model was not folded from this stream; rebuild it",
		rec.LastFolded, streamLast)
}

// streamLast is the event stream's last sequence: one stream info
// request (js.Stream fetches the info; CachedInfo is that answer).
func (s *Service) streamLast(ctx context.Context) (uint64, error) {
	stream, err := s.js.Stream(ctx, contract.EventStream)
	if err != nil {
		return 0, err
	}
	return stream.CachedInfo().State.LastSeq, nil
}
