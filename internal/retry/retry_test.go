package retry_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/peonhq/peon/internal/retry"
)

func TestDelayDoublesUpToMax(t *testing.T) {
	p := retry.Policy{First: 20 * time.Millisecond, Max: 100 * time.Millisecond}
	want := []time.Duration{20, 20, 40, 80, 100, 100}
	for n, w := range want {
		if got := p.Delay(n); got != w*time.Millisecond {
			t.Errorf("Delay(%d) = %s, want %s", n, got, w*time.Millisecond)
		}
	}
	if got := p.Delay(1 << 30); got != 100*time.Millisecond {
		t.Errorf("a huge retry count: %s", got)
	}
	constant := retry.Policy{First: 20 * time.Millisecond, Max: 20 * time.Millisecond}
	if constant.Delay(1) != constant.Delay(9) {
		t.Error("a constant policy grew")
	}
}

func TestJitterStaysWithinHalfToOneAndAHalf(t *testing.T) {
	p := retry.Policy{First: time.Millisecond, Max: 8 * time.Millisecond, Jitter: true}
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := p.Delay(3) // 4 ms before jitter
		if d < 2*time.Millisecond || d >= 6*time.Millisecond {
			t.Fatalf("jittered delay %s outside [2ms, 6ms)", d)
		}
		seen[d] = true
	}
	if len(seen) < 10 {
		t.Fatalf("jitter produced only %d distinct delays", len(seen))
	}
}

func TestWaitStopsWithTheContext(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := (retry.Policy{First: time.Hour, Max: time.Hour}).Wait(ctx, 1); !errors.Is(err, context.Canceled) {
		t.Fatalf("Wait on a done context: %v", err)
	}
}

// TestUntilRetriesTransientFailuresOnly: a transient failure is retried
// until it succeeds, a final one is returned at once, and patience bounds
// the retries of one that never mends.
func TestUntilRetriesTransientFailuresOnly(t *testing.T) {
	p := retry.Policy{First: time.Millisecond, Max: time.Millisecond}
	transient, final := errors.New("transient"), errors.New("final")
	isFinal := func(err error) bool { return errors.Is(err, final) }
	calls := 0
	err := p.Until(context.Background(), time.Minute, isFinal, func() error {
		if calls++; calls < 3 {
			return transient
		}
		return nil
	})
	if err != nil || calls != 3 {
		t.Fatalf("err %v after %d calls, want success after 3", err, calls)
	}
	calls = 0
	if err := p.Until(context.Background(), time.Minute, isFinal, func() error { calls++; return final }); !errors.Is(err, final) || calls != 1 {
		t.Fatalf("a final error: %v after %d calls, want it after 1", err, calls)
	}
	calls = 0
	if err := p.Until(context.Background(), 20*time.Millisecond, isFinal, func() error { calls++; return transient }); !errors.Is(err, transient) || calls < 2 {
		t.Fatalf("patience: %v after %d calls, want the transient error after several", err, calls)
	}
}
