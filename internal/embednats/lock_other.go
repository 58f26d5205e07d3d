//go:build !unix

package embednats

import "os"

// tryLock does not lock where flock is not available: the data directory
// is then not protected from a second server (documented in
// docs/configuration.md).
func tryLock(*os.File) (held bool, err error) { return false, nil }
