package query

import (
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/peonhq/peon/pkg/domain"
)

// Every reply must fit in one NATS message: a reply over the server's max
// payload is not delivered, and its asker only sees a timeout. So every
// page is bounded by bytes as well as by count: items are measured as they
// are added, in the encoding the reply is sent in, and a page ends at the
// first item that would not fit, with the cursor to continue from it.

// replyHeadroom is what a reply needs besides its items: the headers, the
// page's envelope (field names, the cursors) and one separator per item.
const replyHeadroom = 8 << 10

// page measures the items of one reply against its byte budget.
type page struct {
	enc          domain.Encoding
	budget, used int
}

// add reports whether item, encoded, still fits in the page, and counts it
// when it does.
func (p *page) add(item any) (bool, error) {
	n, err := p.size(item)
	if err != nil {
		return false, err
	}
	if p.used+n > p.budget {
		return false, nil
	}
	p.used += n
	return true, nil
}

// size is item's encoded size.
func (p *page) size(item any) (int, error) {
	b, err := domain.Marshal(p.enc, item)
	return len(b), err
}

// left is how many bytes the page still holds.
func (p *page) left() int { return p.budget - p.used }

// The count limits of a page.
const (
	maxLimit         = 1000
	defaultLimit     = 100
	defaultListLimit = maxLimit // project.list and thread.list answered everything before they were paged
)

// pageLimit validates a request's limit: 0 means the default, anything
// outside 1..maxLimit is refused rather than silently replaced.
func pageLimit(limit, byDefault int) (int, error) {
	switch {
	case limit == 0:
		return byDefault, nil
	case limit < 0 || limit > maxLimit:
		return 0, domain.Errorf(domain.CodeInvalidCommand, "limit %d is not within 1..%d", limit, maxLimit)
	}
	return limit, nil
}

// checkSequence refuses a sequence no stream can reach: above 2^63-1 it is
// a negative number wrapped by its encoding, or the top of the range, where
// the next sequence (after+1) would overflow.
func checkSequence(field string, seq uint64) error {
	if seq > math.MaxInt64 {
		return domain.Errorf(domain.CodeInvalidCommand, "%s %d is out of range (0..%d)", field, seq, int64(math.MaxInt64))
	}
	return nil
}

// listCursor orders projects and threads by creation: created_at, then id
// (two can be created in the same instant). On the wire it is
// "<created_at in Unix nanoseconds>:<id>", opaque to clients.
type listCursor struct {
	at time.Time
	id string
}

func (c listCursor) String() string { return strconv.FormatInt(c.at.UnixNano(), 10) + ":" + c.id }

// before reports whether c sorts before o.
func (c listCursor) before(o listCursor) bool {
	if !c.at.Equal(o.at) {
		return c.at.Before(o.at)
	}
	return c.id < o.id
}

// parseCursor reads the after of a list request; empty is the start.
func parseCursor(s string) (listCursor, bool, error) {
	if s == "" {
		return listCursor{}, false, nil
	}
	nanos, id, ok := strings.Cut(s, ":")
	n, err := strconv.ParseInt(nanos, 10, 64)
	if !ok || err != nil || !domain.ValidID(id) {
		return listCursor{}, false, domain.Errorf(domain.CodeInvalidCommand, "after %q is not a cursor this query returned", s)
	}
	return listCursor{at: time.Unix(0, n).UTC(), id: id}, true, nil
}

// cutText returns the longest prefix of text of at most n bytes that
// ends on a character boundary (at least one character, so a part always
// moves forward).
func cutText(text string, n int) string {
	if n >= len(text) {
		return text
	}
	n = max(n, 1)
	for n > 1 && !utf8.RuneStart(text[n]) {
		n--
	}
	if !utf8.RuneStart(text[n]) { // a first character longer than n
		_, size := utf8.DecodeRuneInString(text)
		n = size
	}
	return text[:n]
}
