package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// benchProfiles is `peon bench --cluster --profile DIR`: every process of
// the run writes a CPU profile of its whole life to DIR, the bench itself
// to bench.pprof and each child to the file profileName gives it (the
// children through cpuProfileEnv, flushed as they stop on SIGTERM).
type benchProfiles struct {
	path      string // absolute: the children and the hint name it so
	stopBench func()
	cluster   *benchCluster
}

// startBenchProfiles makes the directory and starts the bench's own profile.
func startBenchProfiles(dir string) (*benchProfiles, error) {
	path, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(path, 0o755); err != nil {
		return nil, err
	}
	stop, err := startCPUProfile(filepath.Join(path, "bench.pprof"))
	if err != nil {
		return nil, fmt.Errorf("--profile: %w", err)
	}
	return &benchProfiles{path: path, stopBench: stop}, nil
}

// dir is where the children write their profiles; "" without --profile.
func (p *benchProfiles) dir() string {
	if p == nil {
		return ""
	}
	return p.path
}

// expect names the cluster whose children's profiles finish lists.
func (p *benchProfiles) expect(cl *benchCluster) {
	if p != nil {
		p.cluster = cl
	}
}

// finish stops the bench's profile and says where every profile is, and
// which are missing. It runs once the cluster has stopped: a child writes
// its profile as it exits, and one killed after childStopGrace writes none.
func (p *benchProfiles) finish(w io.Writer) {
	p.stopBench()
	files := []string{"bench.pprof"}
	if p.cluster != nil {
		for _, proc := range p.cluster.processes() {
			files = append(files, profileName(proc.Name, proc.Role))
		}
	}
	var written, missing []string
	for _, f := range files {
		if st, err := os.Stat(filepath.Join(p.path, f)); err == nil && st.Size() > 0 {
			written = append(written, f)
		} else {
			missing = append(missing, f)
		}
	}
	fmt.Fprintf(w, "CPU profiles in %s: %s\n", p.path, strings.Join(written, " "))
	if len(missing) > 0 {
		fmt.Fprintf(w, "not written (the process did not stop cleanly): %s\n", strings.Join(missing, " "))
	}
	hint := "bench.pprof"
	for _, f := range written {
		if strings.HasPrefix(f, "decider-") {
			hint = f
			break
		}
	}
	fmt.Fprintf(w, "read one with: go tool pprof -top %s\n", filepath.Join(p.path, hint))
}
