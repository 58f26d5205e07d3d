package main

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// runHealth is a health probe for images without a shell: it exits 0 when
// an HTTP endpoint (nats-server's /healthz) answers 200, 1 otherwise.
func runHealth(ctx context.Context, env *environment, args []string) error {
	fs := newFlags("health")
	url := fs.String("http", "http://127.0.0.1:8222/healthz", "URL that must answer 200")
	if err := parse(fs, args, env.stderr); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, *url, nil)
	if err != nil {
		return usagef("--http: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return unavailableError{err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%s answered %s", *url, resp.Status)
	}
	return nil
}
