package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress reports a long task's advance: redrawn in place (\r) on a
// terminal; elsewhere (a log file, CI) a plain line now and then, so a
// file never fills with frames.
type progress struct {
	w        io.Writer
	what     string
	terminal bool

	mu      sync.Mutex
	drawn   bool      // a frame is on the terminal's current line
	printed time.Time // last plain line
}

// plainEvery is how often a plain line is written off a terminal.
const plainEvery = 5 * time.Second

func newProgress(env *environment, what string) *progress {
	return &progress{w: env.stderr, what: what, terminal: isTerminal(env.stderr)}
}

// fraction reports f in [0, 1] with a note.
func (p *progress) fraction(f float64, note string) {
	p.update(bar(f)+" "+note, f >= 1)
}

// say starts a new step: its own line off a terminal, a fresh frame on one.
func (p *progress) say(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	line := fmt.Sprintf(format, args...)
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s", line)
		p.drawn = true
		return
	}
	fmt.Fprintln(p.w, line)
}

func (p *progress) update(line string, final bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.terminal {
		fmt.Fprintf(p.w, "\r\033[K%s %s", p.what, line)
		p.drawn = true
		return
	}
	if final || time.Since(p.printed) >= plainEvery {
		fmt.Fprintf(p.w, "%s %s\n", p.what, line)
		p.printed = time.Now()
	}
}

// done ends the frame line, if one was drawn.
func (p *progress) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.drawn {
		fmt.Fprintln(p.w)
		p.drawn = false
	}
}

// bar draws a progress bar for a fraction in [0, 1].
func bar(f float64) string {
	const width = 30
	n := min(max(int(f*width), 0), width)
	return "[" + strings.Repeat("#", n) + strings.Repeat(".", width-n) + "]"
}
