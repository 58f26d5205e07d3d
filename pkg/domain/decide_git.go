package domain

import "strings"

func decideCreateCheckpoint(c CreateCheckpoint, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := checkID("checkpoint_id", c.CheckpointID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Ref) == "" {
		return nil, Errorf(CodeInvalidCommand, "checkpoint ref is empty")
	}
	if c.Commit != "" && !validObjectID(c.Commit) {
		return nil, Errorf(CodeInvalidCommand, "commit %q is not a git object id (40 or 64 lowercase hex digits)", c.Commit)
	}
	if err := checkFileChanges(c.Files); err != nil {
		return nil, err
	}
	turn, ok := t.Turn(c.TurnID)
	if !ok {
		return nil, Errorf(CodeTurnNotFound, "turn %q not found in thread %s", c.TurnID, t.ID)
	}
	if turn.Status == TurnStatusRunning {
		return nil, Errorf(CodeThreadBusy, "turn %s is still running", turn.ID)
	}
	if _, exists := t.Checkpoint(c.CheckpointID); exists {
		return nil, Errorf(CodeCheckpointExists, "checkpoint %s already exists", c.CheckpointID)
	}
	for _, cp := range t.Checkpoints {
		if cp.TurnID == turn.ID {
			return nil, Errorf(CodeCheckpointExists, "turn %s already has checkpoint %s", turn.ID, cp.ID)
		}
	}
	return []Event{CheckpointCreated{ThreadID: t.ID, CheckpointID: c.CheckpointID, TurnID: turn.ID,
		Ref: c.Ref, Commit: c.Commit, Files: c.Files}}, nil
}

func decideRestoreCheckpoint(c RestoreCheckpoint, m *Model) ([]Event, error) {
	t, err := idleThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	cp, ok := t.Checkpoint(c.CheckpointID)
	if !ok {
		return nil, Errorf(CodeCheckpointNotFound, "checkpoint %q not found in thread %s", c.CheckpointID, t.ID)
	}
	// Restoring the working tree is a git operation a host completes.
	if err := newOperation(t, c.OperationID); err != nil {
		return nil, err
	}
	return []Event{CheckpointRestored{ThreadID: t.ID, CheckpointID: cp.ID, TurnID: cp.TurnID, Ref: cp.Ref,
		Commit: cp.Commit, OperationID: c.OperationID}}, nil
}

func decideCommit(c CommitChanges, m *Model) ([]Event, error) {
	t, err := idleThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := newOperation(t, c.OperationID); err != nil {
		return nil, err
	}
	if strings.TrimSpace(c.Message) == "" {
		return nil, Errorf(CodeInvalidCommand, "commit message is empty")
	}
	return []Event{CommitRequested{ThreadID: t.ID, OperationID: c.OperationID, Message: c.Message}}, nil
}

func decideCreateBranch(c CreateBranch, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := newOperation(t, c.OperationID); err != nil {
		return nil, err
	}
	if !ValidBranchName(c.Name) {
		return nil, Errorf(CodeInvalidCommand, "%q is not a valid git branch name", c.Name)
	}
	if c.Base != "" && !ValidBranchName(c.Base) {
		return nil, Errorf(CodeInvalidCommand, "base %q is not a valid git ref name", c.Base)
	}
	return []Event{BranchCreateRequested{ThreadID: t.ID, OperationID: c.OperationID, Name: c.Name, Base: c.Base}}, nil
}

// DefaultRemote is the remote PushBranch uses when none is given.
const DefaultRemote = "origin"

func decidePush(c PushBranch, m *Model) ([]Event, error) {
	t, err := activeThread(m, c.ThreadID)
	if err != nil {
		return nil, err
	}
	if err := newOperation(t, c.OperationID); err != nil {
		return nil, err
	}
	branch := c.Branch
	if branch == "" {
		branch = t.LastBranch
	}
	if branch == "" {
		return nil, Errorf(CodeInvalidCommand, "no branch given and thread %s has created none", t.ID)
	}
	if !ValidBranchName(branch) {
		return nil, Errorf(CodeInvalidCommand, "%q is not a valid git branch name", branch)
	}
	remote := c.Remote
	if remote == "" {
		remote = DefaultRemote
	}
	if !ValidBranchName(remote) {
		return nil, Errorf(CodeInvalidCommand, "%q is not a valid git remote name", remote)
	}
	return []Event{PushRequested{ThreadID: t.ID, OperationID: c.OperationID, Branch: branch, Remote: remote}}, nil
}

// idleThread returns an active thread with no turn in flight, or thread_busy.
func idleThread(m *Model, id string) (*ThreadState, error) {
	t, err := activeThread(m, id)
	if err != nil {
		return nil, err
	}
	if t.Status.busy() {
		return nil, Errorf(CodeThreadBusy, "thread %s has turn %s in flight", t.ID, t.ActiveTurnID)
	}
	return t, nil
}

// newOperation checks that a git operation id is valid and unused.
func newOperation(t *ThreadState, id string) error {
	if err := checkID("operation_id", id); err != nil {
		return err
	}
	if _, used := t.GitOperation(id); used {
		return Errorf(CodeInvalidCommand, "operation_id %s is already used in thread %s", id, t.ID)
	}
	return nil
}

// ValidBranchName reports whether name is a valid git branch name, following
// the rules of `git check-ref-format --branch`: no empty or dot-leading
// components, no "..", "@{", "//", control characters, space, ~ ^ : ? * [ \,
// no leading "-" or "/", no trailing "/" or ".", no component ending in
// ".lock", and not "@" alone.
func ValidBranchName(name string) bool {
	if name == "" || name == "@" || len(name) > 255 || strings.HasPrefix(name, "-") {
		return false
	}
	if strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/") || strings.HasSuffix(name, ".") {
		return false
	}
	if strings.Contains(name, "..") || strings.Contains(name, "@{") || strings.Contains(name, "//") {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c < 0x20 || c == 0x7f || strings.IndexByte(" ~^:?*[\\", c) >= 0 {
			return false
		}
	}
	for _, part := range strings.Split(name, "/") {
		if strings.HasPrefix(part, ".") || strings.HasSuffix(part, ".lock") {
			return false
		}
	}
	return true
}
