package domain

// Type tags and aggregate references of the events. Kept apart from the
// event definitions so those read as a catalogue.

func (ProjectCreated) EventType() string         { return TypeProjectCreated }
func (ProjectRenamed) EventType() string         { return TypeProjectRenamed }
func (ProjectDeleted) EventType() string         { return TypeProjectDeleted }
func (ThreadCreated) EventType() string          { return TypeThreadCreated }
func (ThreadDeleted) EventType() string          { return TypeThreadDeleted }
func (ThreadSelected) EventType() string         { return TypeThreadSelected }
func (ThreadStatusChanged) EventType() string    { return TypeThreadStatusChanged }
func (TurnStarted) EventType() string            { return TypeTurnStarted }
func (TurnCompleted) EventType() string          { return TypeTurnCompleted }
func (TurnInterrupted) EventType() string        { return TypeTurnInterrupted }
func (TurnFailed) EventType() string             { return TypeTurnFailed }
func (MessageAppended) EventType() string        { return TypeMessageAppended }
func (MessageChunkReceived) EventType() string   { return TypeMessageChunkReceived }
func (MessageCompleted) EventType() string       { return TypeMessageCompleted }
func (ThinkingChunkReceived) EventType() string  { return TypeThinkingChunkReceived }
func (ToolCallStarted) EventType() string        { return TypeToolCallStarted }
func (ToolCallCompleted) EventType() string      { return TypeToolCallCompleted }
func (PendingActionRequested) EventType() string { return TypePendingActionRequested }
func (PendingActionResolved) EventType() string  { return TypePendingActionResolved }
func (CheckpointCreated) EventType() string      { return TypeCheckpointCreated }
func (CheckpointRestored) EventType() string     { return TypeCheckpointRestored }
func (CommitRequested) EventType() string        { return TypeCommitRequested }
func (BranchCreateRequested) EventType() string  { return TypeBranchCreateRequested }
func (PushRequested) EventType() string          { return TypePushRequested }

func (e ProjectCreated) EventProjectID() string { return e.ProjectID }
func (e ProjectRenamed) EventProjectID() string { return e.ProjectID }
func (e ProjectDeleted) EventProjectID() string { return e.ProjectID }

func (e ThreadCreated) EventThreadID() string          { return e.ThreadID }
func (e ThreadDeleted) EventThreadID() string          { return e.ThreadID }
func (e ThreadSelected) EventThreadID() string         { return e.ThreadID }
func (e ThreadStatusChanged) EventThreadID() string    { return e.ThreadID }
func (e TurnStarted) EventThreadID() string            { return e.ThreadID }
func (e TurnCompleted) EventThreadID() string          { return e.ThreadID }
func (e TurnInterrupted) EventThreadID() string        { return e.ThreadID }
func (e TurnFailed) EventThreadID() string             { return e.ThreadID }
func (e MessageAppended) EventThreadID() string        { return e.ThreadID }
func (e MessageChunkReceived) EventThreadID() string   { return e.ThreadID }
func (e MessageCompleted) EventThreadID() string       { return e.ThreadID }
func (e ThinkingChunkReceived) EventThreadID() string  { return e.ThreadID }
func (e ToolCallStarted) EventThreadID() string        { return e.ThreadID }
func (e ToolCallCompleted) EventThreadID() string      { return e.ThreadID }
func (e PendingActionRequested) EventThreadID() string { return e.ThreadID }
func (e PendingActionResolved) EventThreadID() string  { return e.ThreadID }
func (e CheckpointCreated) EventThreadID() string      { return e.ThreadID }
func (e CheckpointRestored) EventThreadID() string     { return e.ThreadID }
func (e CommitRequested) EventThreadID() string        { return e.ThreadID }
func (e BranchCreateRequested) EventThreadID() string  { return e.ThreadID }
func (e PushRequested) EventThreadID() string          { return e.ThreadID }
