package domain

import (
	"bytes"
	"strings"

	"github.com/vmihailenco/msgpack/v5"
)

// FileChangeKind says what happened to a file between two checkpoints.
type FileChangeKind string

// File change kinds, as `git diff --name-status` reports them (copies are
// reported as added).
const (
	FileAdded    FileChangeKind = "added"
	FileModified FileChangeKind = "modified"
	FileDeleted  FileChangeKind = "deleted"
	FileRenamed  FileChangeKind = "renamed"
)

// FileChange is one file a checkpoint changed against the previous one:
// Path (OldPath too for a rename) relative to the project's root, and the
// lines added and deleted (both 0 for a binary file).
//
// On the wire a bare string is accepted too and reads as {path, kind:
// modified}: that is how contract 1 listed a checkpoint's files.
type FileChange struct {
	Path      string         `json:"path" required:"true"`
	OldPath   string         `json:"old_path,omitempty"`
	Kind      FileChangeKind `json:"kind" required:"true"`
	Additions int64          `json:"additions"`
	Deletions int64          `json:"deletions"`
	Binary    bool           `json:"binary,omitempty"`
}

// fileChangeFields is FileChange without its decode methods, so decoding
// it strictly does not recurse.
type fileChangeFields FileChange

// UnmarshalJSON decodes a file change strictly, or a bare path. null is
// the zero change, as MessagePack's nil is (Decide refuses its empty path).
func (f *FileChange) UnmarshalJSON(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	if string(trimmed) == "null" {
		*f = FileChange{}
		return nil
	}
	if len(trimmed) > 0 && trimmed[0] == '"' {
		var path string
		if err := unmarshal(JSON, trimmed, &path); err != nil {
			return Errorf(CodeBadRequest, "file change: %v", cleanErr(err))
		}
		*f = pathOnly(path)
		return nil
	}
	return decodeStrict(JSON, data, (*fileChangeFields)(f), "file change", "", false)
}

// DecodeMsgpack decodes a file change strictly, or a bare path.
func (f *FileChange) DecodeMsgpack(dec *msgpack.Decoder) error {
	code, err := dec.PeekCode()
	if err != nil {
		return err
	}
	if isMsgpackString(code) {
		path, err := dec.DecodeString()
		if err != nil {
			return err
		}
		*f = pathOnly(path)
		return nil
	}
	return decodeStructMsgpack(dec, (*fileChangeFields)(f), "file change", "", false)
}

// isMsgpackString reports whether a MessagePack type byte starts a string.
func isMsgpackString(code byte) bool {
	return code >= 0xa0 && code <= 0xbf || code == 0xd9 || code == 0xda || code == 0xdb
}

// pathOnly is what contract 1's bare path means: the file changed, in a way
// it did not say. "modified" claims the least.
func pathOnly(path string) FileChange { return FileChange{Path: path, Kind: FileModified} }

// maxPathBytes bounds a path in a checkpoint (Linux's PATH_MAX).
const maxPathBytes = 4096

// checkFileChanges validates a checkpoint's file list: relative paths, each
// listed once, a known kind, an old path exactly for renames, and counts
// that are not negative.
func checkFileChanges(files []FileChange) error {
	seen := make(map[string]bool, len(files))
	for i, f := range files {
		if err := checkRelPath(f.Path); err != nil {
			return Errorf(CodeInvalidCommand, "files[%d]: path %v", i, err)
		}
		if seen[f.Path] {
			return Errorf(CodeInvalidCommand, "files[%d]: %s is listed twice", i, f.Path)
		}
		seen[f.Path] = true
		switch f.Kind {
		case FileRenamed:
			if err := checkRelPath(f.OldPath); err != nil {
				return Errorf(CodeInvalidCommand, "files[%d]: a rename needs old_path: %v", i, err)
			}
		case FileAdded, FileModified, FileDeleted:
			if f.OldPath != "" {
				return Errorf(CodeInvalidCommand, "files[%d]: old_path is only for kind renamed", i)
			}
		default:
			return Errorf(CodeInvalidCommand, "files[%d]: kind %q is not one of added, modified, deleted, renamed", i, f.Kind)
		}
		if f.Additions < 0 || f.Deletions < 0 {
			return Errorf(CodeInvalidCommand, "files[%d]: negative line counts", i)
		}
	}
	return nil
}

type pathError string

func (e pathError) Error() string { return string(e) }

// checkRelPath accepts a path relative to the project's root, as git names
// files: not empty, not absolute, no NUL, at most maxPathBytes.
func checkRelPath(p string) error {
	switch {
	case p == "":
		return pathError("is empty")
	case strings.HasPrefix(p, "/"):
		return pathError("is absolute: " + p)
	case strings.IndexByte(p, 0) >= 0:
		return pathError("contains NUL")
	case len(p) > maxPathBytes:
		return pathError("is too long")
	}
	return nil
}

// validObjectID reports whether s is a full git object id: 40 (SHA-1) or
// 64 (SHA-256) lowercase hex digits, as git prints them.
func validObjectID(s string) bool {
	if len(s) != 40 && len(s) != 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// upcastCheckpointCreatedV1 brings CheckpointCreated v1 (files: [path]) to
// v2 (files: [{path, kind, additions, deletions}]). v1 did not say how a
// file changed: it becomes "modified" with no line counts, as a bare path
// in a command does.
func upcastCheckpointCreatedV1(d map[string]any) map[string]any {
	files, ok := d["files"].([]any)
	if !ok {
		return d
	}
	out := make([]any, len(files))
	for i, f := range files {
		path, ok := f.(string)
		if !ok {
			out[i] = f // not v1's shape: decoding v2 refuses it
			continue
		}
		out[i] = map[string]any{"path": path, "kind": string(FileModified), "additions": int64(0), "deletions": int64(0)}
	}
	d["files"] = out
	return d
}
