package archtest

import (
	"os/exec"
	"strings"
	"testing"
)

const module = "github.com/peonhq/peon"

// harnesses are the internal packages that drive whole services (test
// stacks, the load generator): they may import services, nothing under
// pkg/ or the rest of internal/ may.
var harnesses = map[string]bool{
	module + "/internal/peontest": true,
	module + "/internal/loadgen":  true,
}

// TestDependenciesPointInward fails when a package imports one further out:
// pkg/ (the public API: domain, contract, client) imports neither internal/
// nor services/; internal/ imports no service but in its harnesses; no
// service imports cmd/.
func TestDependenciesPointInward(t *testing.T) {
	out, err := exec.Command("go", "list", "-f", `{{.ImportPath}} {{join .Imports " "}}`, module+"/...").CombinedOutput()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, out)
	}
	checked := 0
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		fields := strings.Fields(line)
		pkg, imports := fields[0], fields[1:]
		checked++
		for _, imp := range imports {
			if !strings.HasPrefix(imp, module+"/") {
				continue
			}
			if why := forbidden(pkg, imp); why != "" {
				t.Errorf("%s imports %s: %s", strings.TrimPrefix(pkg, module+"/"), strings.TrimPrefix(imp, module+"/"), why)
			}
		}
	}
	if checked < 20 {
		t.Fatalf("checked only %d packages", checked)
	}
}

func forbidden(pkg, imp string) string {
	in := func(p, dir string) bool { return strings.HasPrefix(p, module+"/"+dir+"/") }
	switch {
	case in(pkg, "pkg") && (in(imp, "internal") || in(imp, "services") || in(imp, "cmd")):
		return "the public API must not depend on internals"
	case in(pkg, "internal") && !harnesses[pkg] && (in(imp, "services") || in(imp, "cmd")):
		return "internal packages serve the services, not the other way round"
	case in(pkg, "services") && in(imp, "cmd"):
		return "services do not depend on the binary"
	}
	return ""
}
