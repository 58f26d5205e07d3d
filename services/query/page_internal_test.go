package query

import (
	"errors"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

func TestPageLimit(t *testing.T) {
	cases := []struct {
		limit, want int
		ok          bool
	}{{0, 100, true}, {1, 1, true}, {1000, 1000, true}, {1001, 0, false}, {-1, 0, false}}
	for _, c := range cases {
		got, err := pageLimit(c.limit, 100)
		if (err == nil) != c.ok || got != c.want {
			t.Errorf("pageLimit(%d) = %d, %v", c.limit, got, err)
		}
	}
}

func TestCutTextEndsOnACharacter(t *testing.T) {
	text := "aé€😀b"
	for n := 0; n <= len(text)+1; n++ {
		got := cutText(text, n)
		tooLong := len(got) > max(n, 1) && utf8.RuneCountInString(got) > 1 // one character is the least a part holds
		if !utf8.ValidString(got) || got == "" || !strings.HasPrefix(text, got) || tooLong {
			t.Errorf("cutText(%q, %d) = %q", text, n, got)
		}
	}
}

// TestMessagesPageCarriesEveryByte is the paging property without a
// server: whatever the budget, limit and texts, reading page after page
// from the cursors returns every message once, in order, each text whole
// once its parts are joined, and no page over its budget.
func TestMessagesPageCarriesEveryByte(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	alphabet := []string{"a", "é", "€", "😀", `"`, "<", "\x01", "\n"}
	for round := range 200 {
		var msgs []contract.MessageRecord
		for i := range 1 + rng.IntN(6) {
			var b strings.Builder
			for range rng.IntN(3000) {
				b.WriteString(alphabet[rng.IntN(len(alphabet))])
			}
			msgs = append(msgs, contract.MessageRecord{MessageID: "m" + string(rune('a'+i)), ThreadID: "th", TurnID: "tu",
				Role: domain.RoleAssistant, Text: b.String(), CreatedSeq: uint64(10 + 3*i), Seq: 99})
		}
		enc := domain.Encoding(round % 2)
		budget := 400 + rng.IntN(4000)
		limit := 1 + rng.IntN(4)
		texts := map[string]*strings.Builder{}
		var order []string
		after, offset := uint64(0), 0
		for pages := 0; ; pages++ {
			if pages > 10_000 {
				t.Fatalf("round %d: paging does not end", round)
			}
			var rest []contract.MessageRecord
			for _, m := range msgs {
				if m.CreatedSeq > after {
					rest = append(rest, m)
				}
			}
			p := &page{enc: enc, budget: budget}
			reply, err := messagesPage(p, rest, after, offset, limit)
			if err != nil {
				t.Fatal(err)
			}
			if size, _ := p.size(reply); size > budget+64 {
				t.Fatalf("round %d: a page of %d bytes, budget %d", round, size, budget)
			}
			for _, m := range reply.Messages {
				b, ok := texts[m.MessageID]
				if !ok {
					b = &strings.Builder{}
					texts[m.MessageID] = b
					order = append(order, m.MessageID)
				}
				if m.TextOffset != b.Len() {
					t.Fatalf("round %d: part of %s at %d, have %d", round, m.MessageID, m.TextOffset, b.Len())
				}
				b.WriteString(m.Text)
			}
			if reply.Next == 0 && reply.NextTextOffset == 0 {
				break
			}
			after, offset = reply.Next, reply.NextTextOffset
		}
		if len(order) != len(msgs) {
			t.Fatalf("round %d: read %d messages of %d", round, len(order), len(msgs))
		}
		for i, m := range msgs {
			if order[i] != m.MessageID || texts[m.MessageID].String() != m.Text {
				t.Fatalf("round %d: message %s read back differently", round, m.MessageID)
			}
		}
	}
}

func TestListCursorRoundTrips(t *testing.T) {
	c := listCursor{at: time.Date(2026, 1, 2, 3, 4, 5, 6, time.UTC), id: "th-1"}
	got, ok, err := parseCursor(c.String())
	if err != nil || !ok || !got.at.Equal(c.at) || got.id != c.id {
		t.Fatalf("parseCursor(%q) = %+v, %v, %v", c.String(), got, ok, err)
	}
	if _, ok, err := parseCursor(""); ok || err != nil {
		t.Fatal("an empty cursor is the start")
	}
}

// FuzzListCursor feeds arbitrary text to the cursor decoder of
// project.list and thread.list: never a panic, every failure an
// invalid_command, every cursor it accepts written back the same.
func FuzzListCursor(f *testing.F) {
	f.Add("1767322800000000000:th-1")
	f.Add("-5:x")
	f.Add("12:a.b")
	f.Add(":")
	f.Fuzz(func(t *testing.T, s string) {
		c, ok, err := parseCursor(s)
		if err != nil {
			var de *domain.DeciderError
			if !errorsAs(err, &de) || de.Code != domain.CodeInvalidCommand {
				t.Fatalf("error %v is not invalid_command", err)
			}
			return
		}
		if ok {
			again, _, err := parseCursor(c.String())
			if err != nil || !again.at.Equal(c.at) || again.id != c.id {
				t.Fatalf("cursor %q does not round-trip: %q", s, c.String())
			}
		}
	})
}

func errorsAs(err error, target any) bool { return errors.As(err, target) }
