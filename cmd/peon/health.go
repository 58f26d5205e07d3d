package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// healthCmd is a health probe for images without a shell: it exits 0 when
// an HTTP endpoint (nats-server's /healthz) answers 200, 1 otherwise.
type healthCmd struct {
	HTTP string `name:"http" default:"http://127.0.0.1:8222/healthz" placeholder:"URL" help:"URL that must answer 200"`
}

func (c *healthCmd) Run(ctx context.Context, env *environment) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.HTTP, nil)
	if err != nil {
		return usagef("--http: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return unavailableError{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", c.HTTP, resp.Status)
	}
	return nil
}
