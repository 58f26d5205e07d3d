package workspace_test

import (
	"os"
	"path/filepath"
)

func removeFile(dir, name string) error {
	return os.Remove(filepath.Join(dir, filepath.FromSlash(name)))
}

func readDir(dir, name string) ([]os.DirEntry, error) {
	return os.ReadDir(filepath.Join(dir, filepath.FromSlash(name)))
}
