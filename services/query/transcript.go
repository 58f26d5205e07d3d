package query

import (
	"context"
	"sort"
	"strings"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func (s *Service) threadMessages(ctx context.Context, rq request, r contract.ThreadMessages) (any, error) {
	if err := checkID("thread_id", r.ThreadID); err != nil {
		return nil, err
	}
	limit, err := pageLimit(r.Limit, defaultLimit)
	if err != nil {
		return nil, err
	}
	if err := checkSequence("after", r.After); err != nil {
		return nil, err
	}
	if r.TextOffset < 0 {
		return nil, domain.Errorf(domain.CodeInvalidCommand, "text_offset %d is negative", r.TextOffset)
	}
	all, err := s.transcript(ctx, r.ThreadID, r.After)
	if err != nil {
		return nil, err
	}
	if len(all) > 0 && r.TextOffset > len(all[0].Text) {
		return nil, domain.Errorf(domain.CodeInvalidCommand, "text_offset %d is past the end of message %s (%d bytes)",
			r.TextOffset, all[0].MessageID, len(all[0].Text))
	}
	return messagesPage(s.newPage(rq), all, r.After, r.TextOffset, limit)
}

// transcript reads a thread's messages created after the cursor after,
// each assembled from its segments, in order.
func (s *Service) transcript(ctx context.Context, threadID string, after uint64) ([]contract.MessageRecord, error) {
	var all []contract.MessageRecord
	segments := map[string][]contract.MessageSegment{}
	_, b, _ := s.reading()
	err := s.each(ctx, b.Messages, threadID+".>", func(key string, data []byte) error {
		if isSegmentKey(key) {
			var seg contract.MessageSegment
			if err := domain.Unmarshal(domain.MessagePack, data, &seg); err != nil {
				return err
			}
			segments[seg.MessageID] = append(segments[seg.MessageID], seg)
			return nil
		}
		var m contract.MessageRecord
		if err := domain.Unmarshal(domain.MessagePack, data, &m); err != nil {
			return err
		}
		if m.CreatedSeq > after {
			all = append(all, m)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for i := range all {
		all[i] = assemble(all[i], segments[all[i].MessageID])
	}
	sort.Slice(all, func(i, j int) bool { return all[i].CreatedSeq < all[j].CreatedSeq })
	return all, nil
}

// messagesPage returns the page of msgs (sorted, all after the cursor
// after) that fits in p: at most limit messages, whole while they fit. A
// message that does not fit even in an empty page is given in parts: the
// page carries as much of its text as fits, from offset (for the first
// message; 0 for the others), and says where the rest starts.
func messagesPage(p *page, msgs []contract.MessageRecord, after uint64, offset, limit int) (contract.MessagesReply, error) {
	reply := contract.MessagesReply{Messages: []contract.MessageRecord{}}
	for i, m := range msgs {
		if len(reply.Messages) == limit {
			reply.Next = reply.Messages[len(reply.Messages)-1].CreatedSeq
			return reply, nil
		}
		from := 0
		if i == 0 {
			from = offset
		}
		whole := m
		if from > 0 {
			whole.Text, whole.TextOffset, whole.TextLength = m.Text[from:], from, len(m.Text)
		}
		fits, err := p.add(whole)
		if err != nil {
			return reply, err
		}
		if fits {
			reply.Messages = append(reply.Messages, whole)
			continue
		}
		if len(reply.Messages) > 0 {
			// The next page starts with it, and may hold it whole.
			reply.Next = reply.Messages[len(reply.Messages)-1].CreatedSeq
			return reply, nil
		}
		part, err := textPart(p, m, from)
		if err != nil {
			return reply, err
		}
		reply.Messages = append(reply.Messages, part)
		// Continue this message: the same cursor, further into its text.
		reply.Next, reply.NextTextOffset = after, from+len(part.Text)
		return reply, nil
	}
	return reply, nil
}

// textPart is the longest part of m's text from byte from that fits in
// p, cut on a character boundary. Encoding can make text longer (JSON
// escapes), so the cut is measured, and shortened until it fits.
func textPart(p *page, m contract.MessageRecord, from int) (contract.MessageRecord, error) {
	rest := m.Text[from:]
	head := m
	head.Text = ""
	overhead, err := p.size(head)
	if err != nil {
		return m, err
	}
	n := p.left() - overhead - 64 // room for the offset fields
	for {
		part := m
		part.Text, part.TextOffset, part.TextLength = cutText(rest, n), from, len(m.Text)
		size, err := p.size(part)
		if err != nil {
			return m, err
		}
		if size <= p.left() || len(part.Text) <= 1 {
			p.used += size
			return part, nil
		}
		// Shrink by what it is over, and a little more, in proportion.
		n = len(part.Text) - (size-p.left())*len(part.Text)/size - 1
	}
}

// isSegmentKey reports whether a peon_messages key holds a text segment
// (<thread>.<message>/<n>) rather than a message's head record.
func isSegmentKey(key string) bool {
	i := strings.LastIndexByte(key, '/')
	if i < 0 || i == len(key)-1 {
		return false
	}
	for _, c := range key[i+1:] {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// assemble appends a message's further segments to its first, in order,
// as far as they are contiguous and as new as the head record.
func assemble(m contract.MessageRecord, segs []contract.MessageSegment) contract.MessageRecord {
	if m.Segments == 0 {
		return m
	}
	sort.Slice(segs, func(i, j int) bool { return segs[i].Index < segs[j].Index })
	var text strings.Builder
	text.WriteString(m.Text)
	for i, seg := range segs {
		if seg.Index != i+1 || seg.Index > m.Segments {
			break
		}
		text.WriteString(seg.Text)
	}
	m.Text, m.Segments = text.String(), 0
	return m
}
