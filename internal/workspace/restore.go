package workspace

import (
	"context"
	"os"
	"path/filepath"
)

// Restore puts the working tree back to a snapshot (a ref or commit):
//
//   - every file in the snapshot is written as it is there (content and
//     executable bit), whatever the working tree holds now;
//   - every file the working tree holds that the snapshot lacks — tracked,
//     or untracked and not ignored — is removed, and directories left
//     empty by that are removed too;
//   - ignored files are not touched, nor are the user's index, HEAD and
//     branches: afterwards `git status` shows the restored tree's
//     differences from HEAD as unstaged changes.
//
// It returns the snapshot's commit. A name that resolves to no commit (a
// checkpoint whose ref was deleted) is a *GitError and changes nothing.
func (r *Repo) Restore(ctx context.Context, snapshot string) (string, error) {
	commit, err := r.Resolve(ctx, snapshot)
	if err != nil {
		return "", err
	}
	ti, err := r.newTempIndex(ctx)
	if err != nil {
		return "", err
	}
	defer ti.close()
	// What the tree holds now that git would snapshot, against the target.
	current, err := r.workingTree(ctx, ti)
	if err != nil {
		return "", err
	}
	out, err := r.git(ctx, "diff-tree", "-r", "-z", "--no-renames", "--name-only", "--diff-filter=A", commit, current)
	if err != nil {
		return "", err
	}
	for _, path := range splitNUL(out) {
		full := filepath.Join(r.root, filepath.FromSlash(path))
		if err := os.Remove(full); err != nil && !os.IsNotExist(err) {
			return "", err
		}
		removeEmptyParents(r.root, filepath.Dir(full))
	}
	if _, err := r.gitEnv(ctx, ti.env(), "read-tree", commit); err != nil {
		return "", err
	}
	if _, err := r.gitEnv(ctx, ti.env(), "checkout-index", "--all", "--force"); err != nil {
		return "", err
	}
	return commit, nil
}

// removeEmptyParents removes dir and its parents up to root while they are
// empty (os.Remove refuses a directory that is not).
func removeEmptyParents(root, dir string) {
	for dir != root && len(dir) > len(root) {
		if os.Remove(dir) != nil {
			return
		}
		dir = filepath.Dir(dir)
	}
}
