package loadgen

import (
	"errors"
	"runtime"
	"testing"
	"time"
)

func TestParseProcStatCPU(t *testing.T) {
	// A real line's shape, with a command name that holds ") (" itself.
	line := "4242 (peon ) (x) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 12 0 1000 1000000 2000 18446744073709551615\n"
	got, err := ParseProcStatCPU(line)
	if err != nil {
		t.Fatal(err)
	}
	if got != 3.25 { // (250 + 75) ticks of 1/100 s
		t.Errorf("got %v s, want 3.25", got)
	}
	for _, bad := range []string{"", "4242 peon S 1", "1 (x) S 1 2 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 -5 3", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 5 x"} {
		if _, err := ParseProcStatCPU(bad); !errors.Is(err, ErrProcStat) {
			t.Errorf("%q: got %v, want ErrProcStat", bad, err)
		}
	}
}

// TestCPUSecondsOfThisProcess: the reading of a real /proc grows while
// this process computes.
func TestCPUSecondsOfThisProcess(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("/proc is Linux's")
	}
	before := CPUSeconds(0)
	x := 0
	for start := time.Now(); time.Since(start) < 300*time.Millisecond; {
		for i := range 1000 {
			x += i
		}
	}
	_ = x
	if after := CPUSeconds(0); after <= before {
		t.Errorf("CPU seconds did not grow over 300 ms of computing: %v then %v", before, after)
	}
}

func FuzzParseProcStatCPU(f *testing.F) {
	f.Add("4242 (peon) S 1 4242 4242 0 -1 4194560 1200 0 0 0 250 75 0 0 20 0 12 0")
	f.Add("1 (a) b) R 0 0 0 0 0 0 0 0 0 0 1 1")
	f.Fuzz(func(t *testing.T, line string) {
		s, err := ParseProcStatCPU(line)
		if err != nil && !errors.Is(err, ErrProcStat) {
			t.Fatalf("untyped error %v", err)
		}
		if err == nil && s < 0 {
			t.Fatalf("negative CPU time %v", s)
		}
	})
}
