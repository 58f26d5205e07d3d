package workspace_test

import (
	"testing"

	"github.com/peonhq/peon/internal/workspace"
)

// FuzzParseChanges feeds git's diff listings, real and mangled, to the
// parser: it either returns changes whose every path came from the input
// and whose counts are not negative, or an error; it never panics.
func FuzzParseChanges(f *testing.F) {
	f.Add([]byte("M\x00a.txt\x00R100\x00old\x00new\x00A\x00bin\x00D\x00gone\x00"),
		[]byte("2\t1\ta.txt\x000\t0\t\x00old\x00new\x00-\t-\tbin\x000\t4\tgone\x00"))
	f.Add([]byte("A\x00x\x00"), []byte("1\t0\tx\x00"))
	f.Add([]byte("Q\x00x\x00"), []byte("1\t0\ty\x00"))
	f.Add([]byte("R90\x00a\x00"), []byte(""))
	f.Fuzz(func(t *testing.T, status, numstat []byte) {
		files, err := workspace.ParseChanges(status, numstat)
		if err != nil {
			return
		}
		seen := map[string]bool{}
		for _, c := range files {
			if c.Path == "" || seen[c.Path] || c.Additions < 0 || c.Deletions < 0 {
				t.Fatalf("bad change %+v in %+v", c, files)
			}
			seen[c.Path] = true
		}
	})
}
