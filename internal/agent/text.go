package agent

import (
	"fmt"
	"unicode/utf8"
)

// Truncate cuts s to at most max bytes on a rune boundary, saying how much
// was left out, so a huge tool output still fits a provider event.
func Truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	note := fmt.Sprintf("\n… (%d bytes left out)", len(s)-max)
	cut := max - len(note)
	if cut < 0 {
		cut = 0
	}
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + note
}

// Chunks splits text into pieces of at most max bytes on rune boundaries
// (text deltas of one message), so no delta outgrows a provider event.
func Chunks(text string, max int) []string {
	if len(text) <= max {
		return []string{text}
	}
	var out []string
	for len(text) > max {
		cut := max
		for cut > 0 && !utf8.RuneStart(text[cut]) {
			cut--
		}
		if cut == 0 {
			cut = max // not UTF-8 at all: cut anywhere
		}
		out = append(out, text[:cut])
		text = text[cut:]
	}
	if text != "" {
		out = append(out, text)
	}
	return out
}
