package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// natsFlags are how a command reaches NATS. Each falls back to the
// environment variable in its envvar tag (see envResolver).
type natsFlags struct {
	Server  string `short:"s" aliases:"nats-url" envvar:"NATS_URL" default:"${nats_url}" placeholder:"URL" group:"NATS connection" help:"NATS server URL(s), comma-separated (--nats-url is the same flag)"`
	Creds   string `envvar:"NATS_CREDS" placeholder:"FILE" group:"NATS connection" help:"credentials file (user JWT and nkey seed)"`
	TLSCert string `name:"tls-cert" envvar:"NATS_TLS_CERT" placeholder:"FILE" group:"NATS connection" help:"client TLS certificate (with --tls-key)"`
	TLSKey  string `name:"tls-key" envvar:"NATS_TLS_KEY" placeholder:"FILE" group:"NATS connection" help:"client TLS key (with --tls-cert)"`
	TLSCA   string `name:"tls-ca" envvar:"NATS_TLS_CA" placeholder:"FILE" group:"NATS connection" help:"CA that signs the server's certificate"`
}

// check lists every problem of the connection flags.
func (c *natsFlags) check() []error {
	var errs []error
	if c.Server == "" {
		errs = append(errs, errors.New("--server is empty"))
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		errs = append(errs, errors.New("--tls-cert and --tls-key go together"))
	}
	for _, f := range []struct{ flag, path string }{{"--creds", c.Creds}, {"--tls-cert", c.TLSCert}, {"--tls-key", c.TLSKey}, {"--tls-ca", c.TLSCA}} {
		if f.path != "" {
			if _, err := os.Stat(f.path); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", f.flag, err))
			}
		}
	}
	return errs
}

// inboxPrefixes are the services' own inbox prefixes (see deploy/nats/accounts.conf).
var inboxPrefixes = map[string]string{
	"decider": "_INBOX_decider", "projector": "_INBOX_projector", "query": "_INBOX_query",
	"provider-ingest": "_INBOX_ingest", "host": "_INBOX_host",
}

// connect dials NATS; name is the role or command (it names the
// connection and picks a service's inbox prefix), instance who runs it.
func (c *natsFlags) connect(name, instance string) (*nats.Conn, error) {
	opts := []nats.Option{nats.Name("peon " + name + " " + instance), nats.MaxReconnects(-1),
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
	if c.Creds != "" {
		opts = append(opts, nats.UserCredentials(c.Creds))
	}
	if c.TLSCert != "" {
		opts = append(opts, nats.ClientCert(c.TLSCert, c.TLSKey))
	}
	if c.TLSCA != "" {
		opts = append(opts, nats.RootCAs(c.TLSCA))
	}
	nc, err := nats.Connect(c.Server, opts...)
	if err != nil {
		return nil, unavailableError{fmt.Errorf("connect to %s: %w", c.Server, err)}
	}
	return nc, nil
}

// connectJS is connect plus the JetStream context most commands need.
func (c *natsFlags) connectJS(name, instance string) (*nats.Conn, jetstream.JetStream, error) {
	nc, err := c.connect(name, instance)
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

// logFlags choose how a long-running command logs.
type logFlags struct {
	LogFormat string `envvar:"PEON_LOG_FORMAT" default:"auto" values:"auto,text,json" group:"Logging" help:"text (tint, coloured on a terminal), json, or auto: text on a terminal, JSON otherwise"`
	LogLevel  string `envvar:"PEON_LOG_LEVEL" default:"info" values:"debug,info,warn,error" group:"Logging" help:"the least severe level logged"`
}

// check lists every problem of the logging flags.
func (l *logFlags) check() []error {
	var errs []error
	if !slices.Contains([]string{"auto", "text", "json"}, l.LogFormat) {
		errs = append(errs, fmt.Errorf("--log-format %q is not auto, text or json", l.LogFormat))
	}
	var lvl slog.Level
	if lvl.UnmarshalText([]byte(l.LogLevel)) != nil {
		errs = append(errs, fmt.Errorf("--log-level %q is not debug, info, warn or error", l.LogLevel))
	}
	return errs
}

// logger builds the logger writing to env's stderr.
func (l *logFlags) logger(env *environment) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(l.LogLevel)) // checked: see check
	return newLogger(env.stderr, l.LogFormat, lvl, env.colour(env.stderr))
}

// instanceFlag names a service instance.
type instanceFlag struct {
	Instance string `envvar:"PEON_INSTANCE" default:"${instance}" placeholder:"NAME" group:"Logging" help:"instance name in logs and service metadata"`
}

func defaultInstance() string {
	host, _ := os.Hostname()
	return fmt.Sprintf("%s-%d", host, os.Getpid())
}

// drain flushes and closes a connection, bounded.
func drain(nc *nats.Conn) {
	done := make(chan struct{})
	nc.SetClosedHandler(func(*nats.Conn) { close(done) })
	if err := nc.Drain(); err != nil {
		nc.Close()
		return
	}
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		nc.Close()
	}
}
