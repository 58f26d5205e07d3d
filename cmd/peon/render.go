package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"

	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
)

// printThread prints a thread for people: its header, then each turn's
// transcript, tool calls and approvals, with the command that answers a
// pending approval.
func printThread(w io.Writer, p paint, t *domain.ThreadState, msgs []contract.MessageRecord) {
	fmt.Fprintf(w, "%s %s  %q  project %s  model %s\n", p.bold("thread"), t.ID, t.Title, t.ProjectID, t.Model)
	fmt.Fprintf(w, "status %s", statusColour(p, t.Status))
	if t.LastError != "" {
		fmt.Fprintf(w, " (%s)", t.LastError)
	}
	fmt.Fprintf(w, "  turns %d  pending %d  checkpoints %d  git operations %d\n",
		len(t.Turns), len(pendingOf(t)), len(t.Checkpoints), len(t.GitOperations))
	byTurn := map[string][]contract.MessageRecord{}
	for _, m := range msgs {
		byTurn[m.TurnID] = append(byTurn[m.TurnID], m)
	}
	known := map[string]bool{}
	for _, tu := range t.Turns {
		known[tu.ID] = true
	}
	for _, m := range msgs { // messages of no known turn first
		if !known[m.TurnID] {
			printMessage(w, p, m)
		}
	}
	for _, tu := range t.Turns {
		fmt.Fprintf(w, "\n%s\n", turnLine(p, tu))
		for _, m := range byTurn[tu.ID] {
			printMessage(w, p, m)
		}
		for _, c := range t.ToolCalls {
			if c.TurnID == tu.ID {
				printToolCall(w, p, c)
			}
		}
		for _, a := range t.PendingActions {
			if a.TurnID == tu.ID {
				printApproval(w, p, t.ID, a)
			}
		}
		printCheckpoint(w, p, t, tu.ID)
	}
	printGitOperations(w, p, t)
}

func turnLine(p paint, tu *domain.Turn) string {
	line := fmt.Sprintf("── turn %s %s", tu.ID, tu.Status)
	if tu.StopReason != "" {
		line += " (" + tu.StopReason + ")"
	}
	if tu.Error != "" {
		line += ": " + tu.Error
	}
	if tu.Usage.InputTokens+tu.Usage.OutputTokens > 0 {
		line += fmt.Sprintf(" · %d in / %d out tokens", tu.Usage.InputTokens, tu.Usage.OutputTokens)
	}
	return p.dim(line)
}

func statusColour(p paint, s domain.ThreadStatus) string {
	switch s {
	case domain.StatusError:
		return p.red(string(s))
	case domain.StatusAwaitingApproval:
		return p.yellow(string(s))
	case domain.StatusRunning:
		return p.green(string(s))
	}
	return string(s)
}

func printMessage(w io.Writer, p paint, m contract.MessageRecord) {
	marker := ""
	if m.Streaming {
		marker = " …"
	}
	fmt.Fprintf(w, "%s%s\n%s\n", roleHeader(p, m.Role), marker, roleText(p, m.Role, strings.TrimRight(m.Text, "\n")))
}

func roleHeader(p paint, r domain.Role) string {
	h := "[" + string(r) + "]"
	switch r {
	case domain.RoleUser:
		return p.cyan(h)
	case domain.RoleThinking:
		return p.dim(h)
	}
	return p.bold(h)
}

func roleText(p paint, r domain.Role, text string) string {
	if r == domain.RoleThinking {
		return p.dim(text)
	}
	return text
}

// printToolCall prints a tool call: its name, its input, how it ended and
// the start of its output.
func printToolCall(w io.Writer, p paint, c *domain.ToolCallState) {
	fmt.Fprintf(w, "  %s %s %s  %s\n", p.yellow("▸ tool"), p.bold(c.Name), inputSummary(c.Input), toolStatus(p, c.Status))
	if out := firstLines(c.Output, 3); out != "" {
		fmt.Fprintf(w, "%s\n", indent(p.dim(out), "    "))
	}
}

func toolStatus(p paint, s domain.ToolCallStatus) string {
	switch s {
	case domain.ToolCallErrored:
		return p.red(string(s))
	case domain.ToolCallSucceeded:
		return p.green(string(s))
	}
	return string(s)
}

// printApproval prints an approval the agent asked for; a pending one with
// the commands that answer it.
func printApproval(w io.Writer, p paint, threadID string, a *domain.PendingAction) {
	what := a.Description
	if a.Kind != "" {
		what += " (" + a.Kind + ")"
	}
	if a.Resolution != domain.ResolutionPending {
		line := fmt.Sprintf("  approval %s: %s  request_id %s", a.Resolution, what, a.RequestID)
		if a.Reason != "" {
			line += " — " + a.Reason
		}
		fmt.Fprintln(w, p.dim(line))
		return
	}
	fmt.Fprintf(w, "  %s %s  request_id %s\n", p.yellow("! approval needed:"), what, a.RequestID)
	fmt.Fprintf(w, "    approve: peon cmd action.approve thread_id=%s request_id=%s\n", threadID, a.RequestID)
	fmt.Fprintf(w, "    reject:  peon cmd action.reject thread_id=%s request_id=%s reason=…\n", threadID, a.RequestID)
}

func pendingOf(t *domain.ThreadState) []*domain.PendingAction {
	var out []*domain.PendingAction
	for _, a := range t.PendingActions {
		if a.Resolution == domain.ResolutionPending {
			out = append(out, a)
		}
	}
	return out
}

// inputSummary renders a tool's input as key=value pairs, short.
func inputSummary(in map[string]any) string {
	keys := make([]string, 0, len(in))
	for k := range in {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		v, _ := json.Marshal(in[k])
		parts = append(parts, k+"="+clip(string(v), 60))
	}
	return strings.Join(parts, " ")
}

func clip(s string, n int) string {
	s = strings.ReplaceAll(s, "\n", `\n`)
	if len(s) > n {
		return s[:n-1] + "…"
	}
	return s
}

func firstLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n], fmt.Sprintf("… %d more lines", len(lines)-n))
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	if s == "" {
		return s
	}
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}
