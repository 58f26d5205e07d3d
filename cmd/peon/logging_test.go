package main

import (
	"bytes"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestTextLogsRenderFields: a struct or map value in a text log is written
// as its fields, nested ones as dotted names; errors and times as they are.
func TestTextLogsRenderFields(t *testing.T) {
	type inner struct {
		Held int `json:"held"`
	}
	type stats struct {
		Applied int   `json:"applied"`
		Queue   inner `json:"queue"`
	}
	var b bytes.Buffer
	log := newLogger(&b, "text", slog.LevelInfo, false).With("at", stats{Applied: 1})
	log.Info("stopped", "stats", stats{Applied: 3, Queue: inner{Held: 2}}, "ptr", &stats{Applied: 4},
		"limits", map[string]int{"max": 9}, "err", errors.New("boom"), "when", time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	got := b.String()
	for _, want := range []string{"stats.applied=3", "stats.queue.held=2", "ptr.applied=4", "limits.max=9", "at.applied=1", "err=boom", "2026-01-02"} {
		if !strings.Contains(got, want) {
			t.Errorf("log lacks %q: %s", want, got)
		}
	}
	if strings.Contains(got, "{") {
		t.Errorf("a Go value in a text log: %s", got)
	}
}
