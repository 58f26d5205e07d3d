package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"time"

	"github.com/lmittmann/tint"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// environment is what every subcommand gets: the process environment and
// its output streams.
type environment struct {
	getenv         func(string) string
	stdout, stderr io.Writer
}

// connFlags are the connection and logging settings every role shares.
type connFlags struct {
	url, creds, tlsCert, tlsKey, tlsCA string
	instance, logFormat, logLevel      string
}

func (e *environment) or(name, def string) string {
	if v := e.getenv(name); v != "" {
		return v
	}
	return def
}

// addConnFlags registers the shared flags, with defaults from the environment.
func (e *environment) addConnFlags(fs *flag.FlagSet) *connFlags {
	c := &connFlags{}
	host, _ := os.Hostname()
	fs.StringVar(&c.url, "nats-url", e.or("NATS_URL", nats.DefaultURL), "NATS server URL(s), comma-separated")
	fs.StringVar(&c.creds, "creds", e.getenv("NATS_CREDS"), "NATS credentials file")
	fs.StringVar(&c.tlsCert, "tls-cert", e.getenv("NATS_TLS_CERT"), "client TLS certificate")
	fs.StringVar(&c.tlsKey, "tls-key", e.getenv("NATS_TLS_KEY"), "client TLS key")
	fs.StringVar(&c.tlsCA, "tls-ca", e.getenv("NATS_TLS_CA"), "CA to verify the server with")
	fs.StringVar(&c.instance, "instance", e.or("PEON_INSTANCE", fmt.Sprintf("%s-%d", host, os.Getpid())), "instance name")
	fs.StringVar(&c.logFormat, "log-format", e.or("PEON_LOG_FORMAT", "auto"), "auto, text or json")
	fs.StringVar(&c.logLevel, "log-level", e.or("PEON_LOG_LEVEL", "info"), "debug, info, warn or error")
	return c
}

// validate reports every problem at once.
func (c *connFlags) validate() error {
	var errs []error
	if c.url == "" {
		errs = append(errs, errors.New("--nats-url is empty"))
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	for _, f := range []struct{ flag, path string }{{"--creds", c.creds}, {"--tls-cert", c.tlsCert}, {"--tls-key", c.tlsKey}, {"--tls-ca", c.tlsCA}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
			}
		}
	}
	switch c.logFormat {
	case "auto", "text", "json":
	default:
		errs = append(errs, fmt.Errorf("--log-format %q is not auto, text or json", c.logFormat))
	}
	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(c.logLevel)); err != nil {
		errs = append(errs, fmt.Errorf("--log-level %q is not debug, info, warn or error", c.logLevel))
	}
	if len(errs) > 0 {
		return usageError{errors.Join(errs...).Error()}
	}
	return nil
}

// connect dials NATS with the flags' settings.
func (c *connFlags) connect(name string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("peon " + name + " " + c.instance), nats.MaxReconnects(-1),
		nats.ReconnectWait(500 * time.Millisecond), nats.Timeout(3 * time.Second),
		// Nothing is buffered while reconnecting: a publish then fails at
		// once. A buffered append or command would be sent after the
		// reconnect, possibly long after its sender gave up and retried.
		nats.ReconnectBufSize(-1)}
	if prefix, ok := inboxPrefixes[name]; ok {
		// Each service replies into its own inbox space, which the
		// deploy configs let only that service's user subscribe to.
		opts = append(opts, nats.CustomInboxPrefix(prefix))
	}
	if c.creds != "" {
		opts = append(opts, nats.UserCredentials(c.creds))
	}
	if c.tlsCert != "" {
		opts = append(opts, nats.ClientCert(c.tlsCert, c.tlsKey))
	}
	if c.tlsCA != "" {
		opts = append(opts, nats.RootCAs(c.tlsCA))
	}
	nc, err := nats.Connect(c.url, opts...)
	if err != nil {
		return nil, unavailableError{fmt.Errorf("connect to %s: %w", c.url, err)}
	}
	return nc, nil
}

// connectJS is connect plus the JetStream context most commands need.
func (c *connFlags) connectJS(name string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := c.connect(name)
	if err != nil {
		return nil, nil, err
	}
	js, err := jetstream.New(nc)
	if err != nil {
		nc.Close()
		return nil, nil, err
	}
	return nc, js, nil
}

// inboxPrefixes are the services' own inbox prefixes (see deploy/nats/accounts.conf).
var inboxPrefixes = map[string]string{
	"decider": "_INBOX_decider", "projector": "_INBOX_projector", "query": "_INBOX_query",
	"provider-ingest": "_INBOX_ingest",
}

// logger builds the logger: tint on a terminal, JSON otherwise (or as asked).
func (c *connFlags) logger(w io.Writer) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.logLevel))
	format := c.logFormat
	if format == "auto" {
		format = "json"
		if isTerminal(w) {
			format = "text"
		}
	}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: lvl}))
	}
	return slog.New(tint.NewTextHandler(w, &tint.Options{Level: lvl, TimeFormat: time.TimeOnly, NoColor: !isTerminal(w)}))
}

func isTerminal(w io.Writer) bool {
	if l, ok := w.(*lockedWriter); ok {
		w = l.w
	}
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// parse parses a subcommand's flags; --help prints them and succeeds.
func parse(fs *flag.FlagSet, args []string, stderr io.Writer) error {
	fs.SetOutput(stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return errHelp
		}
		return usageError{err.Error()}
	}
	return nil
}

// errHelp ends a subcommand after printing its help.
var errHelp = errors.New("help")

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("peon "+name, flag.ContinueOnError)
	return fs
}
