package loadgen

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
)

// userHZ is the unit of the times in /proc/<pid>/stat: clock ticks of
// 1/100 s on every Linux architecture Go supports (USER_HZ is part of the
// kernel's user ABI, whatever HZ the kernel runs at).
const userHZ = 100

// ErrProcStat is a /proc/<pid>/stat line that does not have the fields
// the kernel documents (proc(5)).
var ErrProcStat = errors.New("malformed /proc stat line")

// CPUSeconds is the CPU time (user plus system) process pid has used so
// far; pid 0 is this process. It is 0 where /proc cannot be read (not
// Linux, or the process is gone).
func CPUSeconds(pid int) float64 {
	path := "/proc/self/stat"
	if pid > 0 {
		path = "/proc/" + strconv.Itoa(pid) + "/stat"
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return 0
	}
	s, err := ParseProcStatCPU(string(b))
	if err != nil {
		return 0
	}
	return s
}

// ParseProcStatCPU reads utime and stime (fields 14 and 15) of a
// /proc/<pid>/stat line and returns their sum in seconds. The second field
// is the command name in parentheses, which may itself hold spaces and
// parentheses, so the fields are counted from after its last ")".
func ParseProcStatCPU(stat string) (float64, error) {
	end := strings.LastIndexByte(stat, ')')
	if end < 0 {
		return 0, fmt.Errorf("%w: no command name", ErrProcStat)
	}
	// After the name: field 3 (state) onwards; utime is field 14.
	fields := strings.Fields(stat[end+1:])
	const utime, stime = 14 - 3, 15 - 3
	if len(fields) <= stime {
		return 0, fmt.Errorf("%w: %d fields after the command name, want at least %d", ErrProcStat, len(fields), stime+1)
	}
	u, err := strconv.ParseUint(fields[utime], 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: utime %q", ErrProcStat, fields[utime])
	}
	s, err := strconv.ParseUint(fields[stime], 10, 63)
	if err != nil {
		return 0, fmt.Errorf("%w: stime %q", ErrProcStat, fields[stime])
	}
	return float64(u+s) / userHZ, nil
}
