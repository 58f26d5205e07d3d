package decider

import (
	"errors"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/microreply"
	"github.com/peonhq/peon/pkg/domain"
)

func TestRequestDeadline(t *testing.T) {
	now := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	if d, err := requestDeadline("", now); err != nil || !d.IsZero() {
		t.Errorf("no header: %v %v", d, err)
	}
	if d, err := requestDeadline(now.Add(time.Second).Format(time.RFC3339Nano), now); err != nil || !d.Equal(now.Add(time.Second)) {
		t.Errorf("future deadline: %v %v", d, err)
	}
	if _, err := requestDeadline(now.Add(-time.Millisecond).Format(time.RFC3339Nano), now); !errors.Is(err, microreply.ErrDeadlinePassed) {
		t.Errorf("past deadline: %v", err)
	}
	var de *domain.DeciderError
	if _, err := requestDeadline("tomorrow", now); !errors.As(err, &de) || de.Code != domain.CodeBadRequest {
		t.Errorf("bad header: %v", err)
	}
}
