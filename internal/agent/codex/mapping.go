package codex

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// toolCall maps an item that uses a tool to the ToolCall it starts. Items
// that are not tool uses (messages, reasoning, the user's input, context
// compaction, review markers) report false.
func toolCall(it threadItem) (domain.ToolCall, bool) {
	c := domain.ToolCall{ToolCallID: safeID(it.ID), Kind: domain.ToolKindOther}
	in := map[string]any{}
	switch it.Type {
	case "commandExecution":
		c.Name, c.Kind = "shell", commandKind(it.CommandActions)
		in["command"] = it.Command
		if it.Cwd != "" {
			in["cwd"] = it.Cwd
		}
		if a := rawValue(it.CommandActions); a != nil {
			in["actions"] = a
		}
	case "fileChange":
		c.Name, c.Kind = "apply_patch", domain.ToolKindFileChange
		changes := make([]any, 0, len(it.Changes))
		for _, ch := range it.Changes {
			m := map[string]any{"path": ch.Path, "kind": ch.Kind.Type, "diff": ch.Diff}
			if ch.Kind.MovePath != nil {
				m["move_path"] = *ch.Kind.MovePath
			}
			changes = append(changes, m)
		}
		in["changes"] = changes
	case "mcpToolCall":
		c.Name, c.Kind = it.Server+"/"+it.Tool, domain.ToolKindMCP
		in["server"], in["tool"] = it.Server, it.Tool
		if a := rawValue(it.Arguments); a != nil {
			in["arguments"] = a
		}
	case "webSearch":
		c.Name, c.Kind = "web_search", domain.ToolKindWeb
		in["query"] = it.Query
		if a := rawValue(it.Action); a != nil {
			in["action"] = a
		}
	case "dynamicToolCall":
		c.Name = it.Tool
		if it.Namespace != nil && *it.Namespace != "" {
			c.Name = *it.Namespace + "/" + it.Tool
		}
		if a := rawValue(it.Arguments); a != nil {
			in["arguments"] = a
		}
	case "collabAgentToolCall":
		c.Name = it.Tool
		if it.Prompt != nil {
			in["prompt"] = *it.Prompt
		}
	case "imageView":
		c.Name, c.Kind = "view_image", domain.ToolKindFileRead
		in["path"] = it.Path
	case "imageGeneration":
		c.Name = "image_generation"
	default:
		return domain.ToolCall{}, false
	}
	if c.Name == "" {
		c.Name = it.Type
	}
	if len(in) > 0 {
		c.Input = boundInput(in)
	}
	return c, true
}

// commandKind is file_read for a command Codex parsed as reads only (cat,
// sed -n, …): Codex reads files through the shell, so this is how a read
// looks. Anything else is a command.
func commandKind(actions json.RawMessage) string {
	var as []struct {
		Type string `json:"type"`
	}
	if json.Unmarshal(actions, &as) != nil || len(as) == 0 {
		return domain.ToolKindCommand
	}
	for _, a := range as {
		if a.Type != "read" {
			return domain.ToolKindCommand
		}
	}
	return domain.ToolKindFileRead
}

// toolResult maps a finished tool item to its ToolResult. streamed is the
// command output seen in deltas, used when the item carries none.
func toolResult(it threadItem, streamed string) domain.ToolResult {
	r := domain.ToolResult{ToolCallID: safeID(it.ID), IsError: it.Status == "failed" || it.Status == "declined"}
	var out string
	switch it.Type {
	case "commandExecution":
		out = streamed
		if it.AggregatedOutput != nil {
			out = *it.AggregatedOutput
		}
		if it.ExitCode != nil && *it.ExitCode != 0 {
			r.IsError = true
			out = joinNote(out, fmt.Sprintf("exit code %d", *it.ExitCode))
		}
	case "fileChange":
		lines := make([]string, 0, len(it.Changes))
		for _, ch := range it.Changes {
			lines = append(lines, ch.Kind.Type+" "+ch.Path)
		}
		out = strings.Join(lines, "\n")
	case "mcpToolCall":
		out = mcpOutput(it.Result)
		if it.ItemError != nil {
			r.IsError = true
			out = joinNote(out, it.ItemError.Message)
		}
	case "dynamicToolCall":
		out = dynamicOutput(it.ContentItems)
		if it.Success != nil && !*it.Success {
			r.IsError = true
		}
	case "webSearch":
		if a := rawValue(it.Action); a != nil {
			raw, _ := json.Marshal(a)
			out = string(raw)
		}
	}
	if it.Status != "" && it.Status != "completed" {
		out = joinNote(out, it.Status)
	}
	r.Output = agent.Truncate(out, agent.MaxFieldBytes)
	return r
}

func joinNote(out, note string) string {
	if out == "" {
		return note
	}
	return strings.TrimRight(out, "\n") + "\n(" + note + ")"
}

// mcpOutput renders an MCP CallToolResult: its text blocks as text, other
// blocks and structured content as JSON.
func mcpOutput(raw json.RawMessage) string {
	var res struct {
		Content           []json.RawMessage `json:"content"`
		StructuredContent json.RawMessage   `json:"structuredContent"`
	}
	if isNull(raw) || json.Unmarshal(raw, &res) != nil {
		return ""
	}
	var parts []string
	for _, block := range res.Content {
		var text struct {
			Type string `json:"type"`
			Text string `json:"text"`
		}
		if json.Unmarshal(block, &text) == nil && text.Type == "text" {
			parts = append(parts, text.Text)
		} else {
			parts = append(parts, string(block))
		}
	}
	if len(parts) == 0 && !isNull(res.StructuredContent) {
		parts = append(parts, string(res.StructuredContent))
	}
	return strings.Join(parts, "\n")
}

func dynamicOutput(raw json.RawMessage) string {
	var items []struct {
		Type string `json:"type"`
		Text string `json:"text"`
	}
	if json.Unmarshal(raw, &items) != nil {
		return ""
	}
	var parts []string
	for _, it := range items {
		if it.Type == "inputText" {
			parts = append(parts, it.Text)
		}
	}
	return strings.Join(parts, "\n")
}

// approvalDescription says what an approval request asks, for a person.
// item is the started item the request is about, when it was seen.
func approvalDescription(method string, p approvalParams, item *threadItem) string {
	var b strings.Builder
	switch method {
	case requestCommandApproval:
		cmd, cwd := "", ""
		if item != nil {
			cmd, cwd = item.Command, item.Cwd
		}
		if p.Command != nil {
			cmd = *p.Command
		}
		if p.Cwd != nil {
			cwd = *p.Cwd
		}
		b.WriteString("Run " + cmd)
		if cwd != "" {
			b.WriteString(" in " + cwd)
		}
	case requestFileApproval:
		b.WriteString("Apply file changes")
		if item != nil && len(item.Changes) > 0 {
			paths := make([]string, 0, len(item.Changes))
			for _, ch := range item.Changes {
				paths = append(paths, ch.Path)
			}
			b.WriteString(" to " + strings.Join(paths, ", "))
		}
		if p.GrantRoot != nil {
			b.WriteString(" (write access under " + *p.GrantRoot + " for the session)")
		}
	}
	if p.Reason != nil && *p.Reason != "" {
		b.WriteString(": " + *p.Reason)
	}
	return agent.Truncate(b.String(), agent.MaxTextChunk)
}

// usageTracker turns thread/tokenUsage/updated notifications into the
// turn's usage. Each carries the thread's running total and the last model
// call's usage; the total before the turn is the first notification's
// total less its last call, so a resumed thread's earlier turns are not
// counted again and a repeated notification changes nothing.
type usageTracker struct {
	seen        bool
	base, total tokenBreakdown
}

func (u *usageTracker) update(total, last tokenBreakdown) {
	if !u.seen {
		u.seen = true
		u.base = tokenBreakdown{
			InputTokens:           total.InputTokens - last.InputTokens,
			CachedInputTokens:     total.CachedInputTokens - last.CachedInputTokens,
			OutputTokens:          total.OutputTokens - last.OutputTokens,
			ReasoningOutputTokens: total.ReasoningOutputTokens - last.ReasoningOutputTokens,
		}
	}
	u.total = total
}

// usage is the turn's consumption. Codex counts cached input inside its
// input tokens; Peon's input_tokens is the input not read from cache, so
// input_tokens + cache_read_tokens is all the input, as for other agents.
// Reasoning tokens are part of the output tokens.
func (u *usageTracker) usage() domain.Usage {
	if !u.seen {
		return domain.Usage{}
	}
	in := max(u.total.InputTokens-u.base.InputTokens, 0)
	cached := min(max(u.total.CachedInputTokens-u.base.CachedInputTokens, 0), in)
	return domain.Usage{
		InputTokens:     in - cached,
		CacheReadTokens: cached,
		OutputTokens:    max(u.total.OutputTokens-u.base.OutputTokens, 0),
		ReasoningTokens: max(u.total.ReasoningOutputTokens-u.base.ReasoningOutputTokens, 0),
	}
}

// retryable reports whether a Codex error is worth trying again: the
// transient upstream failures of CodexErrorInfo (server overloaded,
// connection or stream failures, internal errors). Limits, auth, bad
// requests and a full context window are not.
func retryable(info json.RawMessage) bool {
	var name string
	if json.Unmarshal(info, &name) != nil {
		var tagged map[string]json.RawMessage
		if json.Unmarshal(info, &tagged) != nil || len(tagged) != 1 {
			return false
		}
		for k := range tagged {
			name = k
		}
	}
	switch strings.ToLower(name) {
	case "serveroverloaded", "httpconnectionfailed", "responsestreamconnectionfailed",
		"responsestreamdisconnected", "responsetoomanyfailedattempts", "internalservererror":
		return true
	}
	return false
}
