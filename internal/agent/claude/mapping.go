package claude

import (
	"strings"

	"github.com/peonhq/peon/internal/agent"
	"github.com/peonhq/peon/pkg/domain"
)

// translator turns Claude Code's messages into provider events. It is
// used by one goroutine (the turn's reader).
//
// Claude Code reports each content block twice when partial messages are
// on: as stream_event deltas while it streams, then as an assistant
// message holding the complete block (one assistant message per block,
// sharing the API message's id). Text and thinking are streamed from the
// deltas; a complete block then adds only what the deltas did not deliver
// (all of it when the CLI sent no partials). Tool calls are taken from the
// complete blocks, whose input is whole.
type translator struct {
	emit func(domain.ProviderEvent)

	sessionStarted bool
	// messages is what was streamed of each API message, by its id.
	messages map[string]*streamed
	// current is the API message being streamed, from its message_start.
	current string
	// blocks maps a content block index of the current stream to the
	// text or thinking block it streams.
	blocks map[int]blockRef
	// toolCalls holds the tool calls reported and not yet finished, by
	// Claude's tool_use id, with the Peon id they were reported under.
	toolCalls map[string]string
	// reported holds every tool_use id reported, finished or not.
	reported map[string]bool
}

// streamed is what was reported of one API message.
type streamed struct {
	// text and thinking hold each block's text so far, in block order.
	text, thinking []string
	// completeText and completeThinking count the complete blocks seen.
	completeText, completeThinking int
}

type blockRef struct {
	thinking bool
	n        int
}

func newTranslator(emit func(domain.ProviderEvent)) *translator {
	return &translator{
		emit:      emit,
		messages:  map[string]*streamed{},
		blocks:    map[int]blockRef{},
		toolCalls: map[string]string{},
		reported:  map[string]bool{},
	}
}

func (t *translator) message(id string) *streamed {
	s := t.messages[id]
	if s == nil {
		s = &streamed{}
		t.messages[id] = s
	}
	return s
}

// handle maps one non-control, non-result message.
func (t *translator) handle(m *Message) {
	if m.ParentToolUseID != "" {
		// A subagent's own work: its Task tool call and result stand for it.
		return
	}
	switch m.Type {
	case TypeSystem:
		if m.Subtype == "init" && !t.sessionStarted && m.SessionID != "" {
			t.sessionStarted = true
			t.emit(domain.SessionStarted{SessionID: m.SessionID, Model: m.Model})
		}
	case TypeStreamEvent:
		t.streamEvent(m)
	case TypeAssistant:
		t.assistant(m)
	case TypeUser:
		t.user(m)
	}
}

func (t *translator) streamEvent(m *Message) {
	ev := m.Event
	switch ev.Type {
	case "message_start":
		id := ""
		if ev.Message != nil {
			id = ev.Message.ID
		}
		t.current = safeID("msg", orDerived(id, m.UUID))
		t.message(t.current)
		clear(t.blocks)
	case "content_block_start":
		if ev.ContentBlock == nil {
			return
		}
		switch ev.ContentBlock.Type {
		case "text":
			t.startBlock(ev.Index, false, ev.ContentBlock.Text)
		case "thinking":
			t.startBlock(ev.Index, true, ev.ContentBlock.Thinking)
		}
	case "content_block_delta":
		if ev.Delta == nil {
			return
		}
		switch ev.Delta.Type {
		case "text_delta":
			t.streamDelta(ev.Index, false, ev.Delta.Text)
		case "thinking_delta":
			t.streamDelta(ev.Index, true, ev.Delta.Thinking)
		}
	}
}

// startBlock opens the next text or thinking block of the current message.
func (t *translator) startBlock(index int, thinking bool, initial string) {
	if t.current == "" {
		return
	}
	s := t.message(t.current)
	list := &s.text
	if thinking {
		list = &s.thinking
	}
	t.blocks[index] = blockRef{thinking: thinking, n: len(*list)}
	*list = append(*list, "")
	t.streamDelta(index, thinking, initial)
}

func (t *translator) streamDelta(index int, thinking bool, delta string) {
	if t.current == "" || delta == "" {
		return
	}
	ref, ok := t.blocks[index]
	if !ok || ref.thinking != thinking {
		// A delta without its block start: open the block now.
		t.startBlock(index, thinking, "")
		ref = t.blocks[index]
	}
	s := t.message(t.current)
	if thinking {
		s.thinking[ref.n] += delta
	} else {
		s.text[ref.n] += delta
	}
	t.deltas(blockID(t.current, ref.n), thinking, delta)
}

// deltas emits text as deltas of at most agent.MaxTextChunk.
func (t *translator) deltas(id string, thinking bool, text string) {
	if text == "" {
		return
	}
	for _, c := range agent.Chunks(text, agent.MaxTextChunk) {
		if thinking {
			t.emit(domain.ThinkingDelta{MessageID: id, Delta: c})
		} else {
			t.emit(domain.TextDelta{MessageID: id, Delta: c})
		}
	}
}

func (t *translator) assistant(m *Message) {
	if m.Error != "" {
		// The text of a failed API call repeats the error the result reports.
		return
	}
	id := safeID("msg", orDerived(m.Message.ID, m.UUID))
	s := t.message(id)
	for i := range m.Message.Content {
		b := &m.Message.Content[i]
		switch b.Type {
		case "text":
			t.complete(id, &s.text, &s.completeText, false, b.Text)
		case "thinking":
			t.complete(id, &s.thinking, &s.completeThinking, true, b.Thinking)
		case "tool_use":
			t.toolUse(b)
		}
	}
}

// complete reconciles a complete text or thinking block with what was
// streamed of it: nothing when the deltas delivered it all, the rest when
// they delivered a beginning, all of it when nothing was streamed.
func (t *translator) complete(msgID string, list *[]string, seen *int, thinking bool, full string) {
	n := *seen
	*seen++
	if n >= len(*list) {
		*list = append(*list, full)
		t.deltas(blockID(msgID, n), thinking, full)
		return
	}
	got := (*list)[n]
	if len(full) > len(got) && strings.HasPrefix(full, got) {
		(*list)[n] = full
		t.deltas(blockID(msgID, n), thinking, full[len(got):])
	}
}

func (t *translator) toolUse(b *Block) {
	if b.ID == "" || b.Name == "" {
		return
	}
	if t.reported[b.ID] {
		return
	}
	id := safeID("tool", b.ID)
	t.reported[b.ID] = true
	t.toolCalls[b.ID] = id
	t.emit(domain.ToolCall{ToolCallID: id, Name: b.Name, Kind: toolKind(b.Name), Input: boundedInput(b.Input)})
}

func (t *translator) user(m *Message) {
	for i := range m.Message.Content {
		b := &m.Message.Content[i]
		if b.Type != "tool_result" {
			continue
		}
		id, open := t.toolCalls[b.ToolUseID]
		if !open {
			continue
		}
		delete(t.toolCalls, b.ToolUseID)
		t.emit(domain.ToolResult{ToolCallID: id, Output: agent.Truncate(string(b.Content), agent.MaxFieldBytes), IsError: b.IsError})
	}
}

// orDerived returns id, or when it is empty an id made from the line's
// uuid, so that a message without an id still gets a stable one.
func orDerived(id, uuid string) string {
	if id != "" {
		return id
	}
	return "uuid:" + uuid
}
