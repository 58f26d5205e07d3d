package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/services/gateway"
)

// gatewayFlags configure the HTTP API and console.
type gatewayFlags struct {
	Token       string   `name:"http-token" envvar:"PEON_HTTP_TOKEN" placeholder:"TOKEN" group:"Gateway" help:"a bearer token (16 characters or more) that acts as the gateway's own NATS connection"`
	TokensFile  string   `name:"tokens-file" type:"existingfile" placeholder:"FILE" group:"Gateway" help:"tokens mapped to the NATS users they act as, one per line: TOKEN ROLE [read-only] [creds=FILE] [url=URL]"`
	CORSOrigins []string `name:"cors-origin" placeholder:"ORIGIN" group:"Gateway" help:"an origin (scheme://host[:port]) whose pages may call the API; repeatable; none turns CORS off"`
}

func (f gatewayFlags) config(listen, instance string) gateway.Config {
	c := gateway.DefaultConfig()
	c.Listen, c.Instance, c.CORSOrigins = listen, instance, f.CORSOrigins
	return c
}

// check lists the flags' problems, the tokens file's among them: a bad
// file is a usage error, found before anything connects.
func (f gatewayFlags) check() []error {
	var errs []error
	if f.Token != "" && len(f.Token) < 16 {
		errs = append(errs, errors.New("--http-token must be at least 16 characters"))
	}
	if f.TokensFile != "" {
		if _, err := readTokensFile(f.TokensFile); err != nil {
			errs = append(errs, fmt.Errorf("--tokens-file: %w", err))
		}
	}
	return errs
}

// tokenLine is one identity of a tokens file.
type tokenLine struct {
	token, role   string
	readOnly      bool
	creds, server string
	line          int
	source        string
}

// readTokensFile parses a tokens file: blank lines and lines starting with
// # are skipped; every problem is reported at once.
func readTokensFile(path string) ([]tokenLine, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []tokenLine
	var errs []error
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		text := strings.TrimSpace(sc.Text())
		if text == "" || strings.HasPrefix(text, "#") {
			continue
		}
		words := strings.Fields(text)
		if len(words) < 2 {
			errs = append(errs, fmt.Errorf("%s:%d: want TOKEN ROLE [read-only] [creds=FILE] [url=URL]", path, n))
			continue
		}
		tl := tokenLine{token: words[0], role: words[1], line: n, source: path}
		if len(tl.token) < 16 {
			errs = append(errs, fmt.Errorf("%s:%d: the token of role %q is shorter than 16 characters", path, n, tl.role))
		}
		for _, w := range words[2:] {
			switch {
			case w == "read-only":
				tl.readOnly = true
			case strings.HasPrefix(w, "creds="):
				tl.creds = strings.TrimPrefix(w, "creds=")
			case strings.HasPrefix(w, "url="):
				tl.server = strings.TrimPrefix(w, "url=")
			default:
				errs = append(errs, fmt.Errorf("%s:%d: unknown option %q", path, n, w))
			}
		}
		out = append(out, tl)
	}
	if err := sc.Err(); err != nil {
		errs = append(errs, err)
	}
	return out, errors.Join(errs...)
}

// identities builds the gateway's identities: --http-token acts as own,
// each tokens-file line as its own connection (or own, when it names
// neither creds nor a URL). The returned connections are the caller's to close.
func (f gatewayFlags) identities(own *nats.Conn, nf natsFlags, instance string) (gateway.Identities, []*nats.Conn, error) {
	ids := gateway.Identities{Tokens: map[string]*gateway.Identity{}}
	if f.Token != "" {
		ids.Tokens[f.Token] = &gateway.Identity{Role: "gateway", NC: own}
	}
	if f.TokensFile == "" {
		return ids, nil, nil
	}
	lines, err := readTokensFile(f.TokensFile)
	if err != nil {
		return ids, nil, err
	}
	var conns []*nats.Conn
	for _, tl := range lines {
		nc := own
		if tl.creds != "" || tl.server != "" {
			other := nf
			if tl.creds != "" {
				other.Creds = tl.creds
			}
			if tl.server != "" {
				other.Server = tl.server
			}
			c, err := other.connect("gateway-"+tl.role, instance)
			if err != nil {
				for _, c := range conns {
					c.Close()
				}
				return ids, nil, fmt.Errorf("%s:%d: role %s: %w", tl.source, tl.line, tl.role, err)
			}
			conns = append(conns, c)
			nc = c
		}
		if _, dup := ids.Tokens[tl.token]; dup {
			return ids, conns, fmt.Errorf("%s:%d: a token is given twice", tl.source, tl.line)
		}
		ids.Tokens[tl.token] = &gateway.Identity{Role: tl.role, NC: nc, ReadOnly: tl.readOnly}
	}
	return ids, conns, nil
}

// gatewayCmd serves the HTTP API and the console.
type gatewayCmd struct {
	Role    roleCmd      `embed:""`
	Listen  string       `default:"${gateway_listen}" placeholder:"HOST:PORT" group:"Gateway" help:"the HTTP listen address"`
	Gateway gatewayFlags `embed:""`
}

func (c *gatewayCmd) Run(ctx context.Context, env *environment) error {
	flagProblems := append(c.Gateway.check(), c.Gateway.config(c.Listen, c.Role.Inst.Instance).Validate())
	if c.Gateway.Token == "" && c.Gateway.TokensFile == "" {
		flagProblems = append(flagProblems, errors.New("give --http-token or --tokens-file: the gateway serves no one without a token"))
	}
	return c.Role.serve(ctx, env, "gateway", flagProblems, func(nc *nats.Conn, log *slog.Logger) (service, error) {
		ids, conns, err := c.Gateway.identities(nc, c.Role.NATS, c.Role.Inst.Instance)
		if err != nil {
			return nil, err
		}
		g, err := gateway.New(c.Gateway.config(c.Listen, c.Role.Inst.Instance), ids, log)
		if err != nil {
			return nil, err
		}
		return closingService{g, conns}, nil
	})
}

// closingService closes extra connections once its service has stopped.
type closingService struct {
	*gateway.Service
	conns []*nats.Conn
}

func (s closingService) Run(ctx context.Context) error {
	defer func() {
		for _, nc := range s.conns {
			drain(nc)
		}
	}()
	return s.Service.Run(ctx)
}
