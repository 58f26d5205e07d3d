package claude

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// safeID returns id when it is a valid Peon id (Claude's msg_…, toolu_…
// and UUIDs are), else a short hash of it under prefix: the same agent id
// always maps to the same Peon id, so a redelivered event stays a duplicate.
func safeID(prefix, id string) string {
	if domain.ValidID(id) {
		return id
	}
	sum := sha256.Sum256([]byte(id))
	return prefix + "-" + hex.EncodeToString(sum[:12])
}

// blockID names the n-th text (or thinking) block of an API message. The
// first keeps the message's own id; later ones (text after a tool call in
// the same message) get their own, so each reads as its own message
// instead of running into the previous one.
func blockID(messageID string, n int) string {
	if n == 0 {
		return messageID
	}
	return safeID("msg", fmt.Sprintf("%s-%d", messageID, n))
}

// toolKind tells a UI how to render a tool call of Claude Code's tool name.
func toolKind(name string) string {
	switch name {
	case "Bash", "BashOutput", "KillShell", "KillBash":
		return domain.ToolKindCommand
	case "Edit", "Write", "MultiEdit", "NotebookEdit":
		return domain.ToolKindFileChange
	case "Read", "Glob", "Grep", "LS", "NotebookRead":
		return domain.ToolKindFileRead
	case "WebFetch", "WebSearch":
		return domain.ToolKindWeb
	}
	if strings.HasPrefix(name, "mcp__") {
		return domain.ToolKindMCP
	}
	return domain.ToolKindOther
}

// boundedInput returns a tool's input as it fits a provider event: as is
// when its JSON is at most agent.MaxFieldBytes, else one field holding the
// cut JSON text (a UI still shows the start of it).
func boundedInput(in map[string]any) map[string]any {
	b, err := json.Marshal(in)
	if err != nil || len(b) <= agent.MaxFieldBytes {
		return in
	}
	// Escaping can make the cut text longer again, so halve until it fits
	// (a few rounds at most).
	for limit := agent.MaxFieldBytes - 256; limit > 0; limit /= 2 {
		out := map[string]any{"truncated_input": agent.Truncate(string(b), limit)}
		if enc, err := json.Marshal(out); err == nil && len(enc) <= agent.MaxFieldBytes {
			return out
		}
	}
	return map[string]any{"truncated_input": ""}
}

// describe says in one line what a permission request would do, for the
// person who approves it: the command, the file, the address, else the
// tool's input as JSON. The reason Claude Code gives for asking follows.
func describe(r *ControlRequest) string {
	in := r.Input
	str := func(k string) string { s, _ := in[k].(string); return s }
	var what string
	switch {
	case str("command") != "":
		what = r.ToolName + ": " + str("command")
	case str("file_path") != "":
		what = r.ToolName + " " + str("file_path")
	case str("notebook_path") != "":
		what = r.ToolName + " " + str("notebook_path")
	case str("url") != "":
		what = r.ToolName + " " + str("url")
	case str("query") != "":
		what = r.ToolName + ": " + str("query")
	default:
		b, _ := json.Marshal(in)
		what = r.ToolName + " " + string(b)
	}
	if r.DecisionReason != "" {
		what += " (" + string(r.DecisionReason) + ")"
	} else if r.BlockedPath != "" {
		what += " (outside the allowed paths: " + string(r.BlockedPath) + ")"
	}
	return agent.Truncate(what, agent.MaxFieldBytes)
}
