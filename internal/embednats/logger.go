package embednats

import (
	"fmt"
	"sync"
)

// fatalLogger is the embedded server's logger: it keeps the first fatal
// error (nats-server's own logger would exit the process there) and drops
// the rest, which Peon's services report in their own words.
type fatalLogger struct {
	mu    sync.Mutex
	fatal error
}

func (l *fatalLogger) Fatalf(format string, v ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.fatal != nil {
		return
	}
	// The listener's failure comes as ("... %s, %q", address, err): keep
	// the error itself, which says what the operating system said.
	for _, a := range v {
		if err, ok := a.(error); ok {
			l.fatal = err
			return
		}
	}
	l.fatal = fmt.Errorf(format, v...)
}

func (l *fatalLogger) err() error {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.fatal
}

func (*fatalLogger) Noticef(string, ...any) {}
func (*fatalLogger) Warnf(string, ...any)   {}
func (*fatalLogger) Errorf(string, ...any)  {}
func (*fatalLogger) Debugf(string, ...any)  {}
func (*fatalLogger) Tracef(string, ...any)  {}
