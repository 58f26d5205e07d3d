package domain_test

import "github.com/peonhq/peon/pkg/domain"

// sha1 is a git object id (SHA-1 form) for tests.
const sha1 = "0a1b2c3d4e5f60718293a4b5c6d7e8f901234567"

func str(s string) *string { return &s }

func mode(m domain.RuntimeMode) *domain.RuntimeMode { return &m }

// allFileKinds is a checkpoint's file list with every kind and field used.
func allFileKinds() []domain.FileChange {
	return []domain.FileChange{
		{Path: "new.go", Kind: domain.FileAdded, Additions: 10},
		{Path: "main.go", Kind: domain.FileModified, Additions: 2, Deletions: 1},
		{Path: "old.go", Kind: domain.FileDeleted, Deletions: 7},
		{Path: "pkg/b.go", OldPath: "pkg/a.go", Kind: domain.FileRenamed, Additions: 1, Deletions: 1},
		{Path: "logo.png", Kind: domain.FileModified, Binary: true},
	}
}
