package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/embednats"
	"github.com/peonhq/peon/internal/provision"
	"github.com/peonhq/peon/internal/simulator"
	"github.com/peonhq/peon/pkg/contract"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/gateway"
	"github.com/peonhq/peon/services/gitwork"
	"github.com/peonhq/peon/services/host"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
	"golang.org/x/sync/errgroup"
)

// The embedded server's defaults.
const (
	devListen      = "127.0.0.1:4222"
	devHTTP        = "127.0.0.1:8080"
	devDemoThreads = 3
	devMaxMemoryMB = 256
	devMaxStoreMB  = 4096
	// devDefaultProvider answers every thread a newcomer creates.
	devDefaultProvider = "simulator"
	// devLeaseTTL is short for the same reason as the ingest timing below:
	// one process hands over to nobody, and after a crash the lease its
	// last run left behind is only waited out before the orphaned turns
	// are ended.
	devLeaseTTL = 2 * time.Second
)

// devCmd runs everything in one process on an embedded NATS server. In one
// process the cache flags size both the decider's and the projector's cache.
type devCmd struct {
	Log         logFlags     `embed:""`
	Inst        instanceFlag `embed:""`
	Listen      string       `default:"${dev_listen}" placeholder:"HOST:PORT" help:"the embedded server's client listener (port -1: any free port)"`
	DataDir     string       `default:"${dev_data_dir}" placeholder:"DIR" help:"where JetStream keeps its files; locked while peon dev runs, and a restart on it resumes"`
	Demo        bool         `help:"also run simulated agents on a few threads"`
	DemoThreads int          `default:"${dev_demo_threads}" help:"threads the demo plays"`
	SyncAlways  bool         `help:"fsync every write before acknowledging it (as production does)"`
	MaxMemoryMB int64        `name:"max-memory-mb" default:"${dev_max_memory_mb}" help:"JetStream memory storage limit, MiB"`
	MaxStoreMB  int64        `name:"max-store-mb" default:"${dev_max_store_mb}" help:"JetStream file storage limit, MiB"`
	HTTP        string       `name:"http" default:"${dev_http}" placeholder:"HOST:PORT" help:"the web console and HTTP API (token-less from loopback); off turns them off"`
	Gateway     gatewayFlags `embed:""`
	Decider     deciderFlags `embed:""`
	Ingest      ingestFlags  `embed:""`
	Host        devHostFlags `embed:""`
}

// listenAddr splits --listen.
func (c *devCmd) listenAddr() (string, int, error) {
	host, portText, err := net.SplitHostPort(c.Listen)
	port, perr := strconv.Atoi(portText)
	if err != nil || perr != nil || port < -1 || port > 65535 {
		return "", 0, fmt.Errorf("--listen %q is not host:port", c.Listen)
	}
	return host, port, nil
}

func (c *devCmd) check() []error {
	errs := c.Log.check()
	if _, _, err := c.listenAddr(); err != nil {
		errs = append(errs, err)
	}
	if c.DataDir == "" {
		errs = append(errs, errors.New("--data-dir is empty"))
	}
	if c.DemoThreads < 1 {
		errs = append(errs, fmt.Errorf("--demo-threads %d must be at least 1", c.DemoThreads))
	}
	if c.MaxMemoryMB < 1 {
		errs = append(errs, fmt.Errorf("--max-memory-mb %d must be at least 1", c.MaxMemoryMB))
	}
	if c.MaxStoreMB < 1 {
		errs = append(errs, fmt.Errorf("--max-store-mb %d must be at least 1", c.MaxStoreMB))
	}
	if c.HTTP != "off" {
		errs = append(errs, c.Gateway.check()...)
		errs = append(errs, c.Gateway.config(c.HTTP, "").Validate())
	}
	errs = append(errs, c.Decider.check()...)
	_, hostErrs := c.hostConfig()
	errs = append(errs, hostErrs...)
	return append(errs, c.Ingest.check()...)
}

// hostConfig is the in-process host's: name local, the dev providers.
func (c *devCmd) hostConfig() (host.Config, []error) {
	f := c.Host.hostFlags()
	specs, errs := devProviders(f, exec.LookPath)
	cfg := f.config(domain.DefaultHost, c.Inst.Instance, specs)
	cfg.LeaseTTL = devLeaseTTL
	return cfg, append(errs, f.check(domain.DefaultHost, specs)...)
}

func (c *devCmd) Run(ctx context.Context, env *environment) error {
	if err := problems(c.check()...); err != nil {
		return err
	}
	listenHost, port, _ := c.listenAddr()
	if err := os.MkdirAll(c.DataDir, 0o755); err != nil {
		return fmt.Errorf("data dir: %w", err)
	}
	unlock, err := embednats.LockDir(c.DataDir)
	var held *embednats.HeldError
	if errors.As(err, &held) {
		return fmt.Errorf("%w: is another peon dev running? Stop it, or give this one another --data-dir", err)
	}
	if err != nil {
		return err
	}
	defer unlock()
	log := c.Log.logger(env)
	srv, err := embednats.Start(embednats.Config{Host: listenHost, Port: port, StoreDir: c.DataDir, Name: "peon-dev",
		SyncAlways: c.SyncAlways, MaxMemory: c.MaxMemoryMB << 20, MaxStore: c.MaxStoreMB << 20})
	if err != nil {
		return err
	}
	defer func() {
		srv.Shutdown()
		srv.WaitForShutdown()
		log.Info("embedded NATS server stopped; data kept", "data_dir", c.DataDir)
	}()
	local := natsFlags{Server: srv.ClientURL()}

	admin, js, err := local.connectJS("setup", c.Inst.Instance)
	if err != nil {
		return err
	}
	defer admin.Close()
	// One process hands over to nobody: a short ack wait keeps the wait
	// for a previous run's unacked provider events (see provision.IngestTiming) short.
	err = provision.Run(ctx, js, provision.Options{IngestTiming: provision.IngestTiming{AckWait: time.Second, PinnedTTL: 1500 * time.Millisecond}})
	if err != nil {
		return err
	}

	g, gctx := errgroup.WithContext(ctx)
	var conns []*nats.Conn
	defer func() {
		for _, nc := range conns {
			drain(nc)
		}
	}()
	var services []started
	start := func(role, name string, build func(*nats.Conn, *slog.Logger) (service, error)) error {
		nc, err := local.connect(role, c.Inst.Instance)
		if err != nil {
			return err
		}
		conns = append(conns, nc)
		svc, err := build(nc, log.With("role", role))
		if err != nil {
			return err
		}
		services = append(services, started{name: name, svc: svc})
		g.Go(func() error { return svc.Run(gctx) })
		return nil
	}
	instance := c.Inst.Instance
	projectorFlags := projectorFlags{CacheEntries: c.Decider.CacheEntries, CacheMB: c.Decider.CacheMB}
	for _, s := range []struct {
		role, name string
		build      func(*nats.Conn, *slog.Logger) (service, error)
	}{
		{"decider", "peon-decider", func(nc *nats.Conn, l *slog.Logger) (service, error) {
			return decider.New(nc, c.Decider.config(instance), l)
		}},
		{"projector", contract.ProjectorService, func(nc *nats.Conn, l *slog.Logger) (service, error) {
			return projector.New(nc, projectorFlags.config(instance), l)
		}},
		{"query", "peon-query", func(nc *nats.Conn, l *slog.Logger) (service, error) {
			return query.New(nc, queryFlags{}.config(instance), l)
		}},
		{"provider-ingest", contract.IngestService, func(nc *nats.Conn, l *slog.Logger) (service, error) {
			return ingest.New(nc, c.Ingest.config(instance), l)
		}},
		// The host "local": its agents, the checkpoints around their turns
		// and the git operations of its projects, with a short handover
		// for the same reason as ingest's.
		{"host", host.ServiceName, func(nc *nats.Conn, l *slog.Logger) (service, error) {
			cfg, _ := c.hostConfig() // checked above
			return newHostRole(ctx, nc, cfg, gitwork.Config{Instance: instance, AckWait: 2 * time.Second, PinnedTTL: 3 * time.Second}, l)
		}},
	} {
		if err := start(s.role, s.name, s.build); err != nil {
			return err
		}
	}
	var console *gateway.Service
	if c.HTTP != "off" {
		err := start("gateway", "gateway", func(nc *nats.Conn, l *slog.Logger) (service, error) {
			ids, extra, err := c.Gateway.identities(nc, local, instance)
			conns = append(conns, extra...)
			if err != nil {
				return nil, err
			}
			// On one machine, the person at it needs no token: requests
			// from loopback act as the local connection.
			ids.Loopback = &gateway.Identity{Role: "local", NC: nc}
			cfg := c.Gateway.config(c.HTTP, instance)
			cfg.LoopbackWithoutToken = true
			console, err = gateway.New(cfg, ids, l)
			return console, err
		})
		if err != nil {
			return err
		}
	}
	if c.Demo {
		sim, err := simulator.New(admin, simulator.Config{Threads: c.DemoThreads,
			Script:       simulator.Script{Deltas: 60, Rate: 15, ApprovalEvery: 3, ErrorEvery: 7},
			ApproveAfter: 2 * time.Second, ProjectPath: fmt.Sprintf("/demo/%d", time.Now().Unix())})
		if err != nil {
			return err
		}
		// The demo starts turns, so it waits for the services it drives.
		drives := slices.Clone(services)
		g.Go(func() error {
			if err := waitServing(gctx, admin, gctx.Done(), drives...); err != nil {
				return nil // reported below
			}
			err := sim.Run(gctx)
			if gctx.Err() != nil {
				return nil
			}
			return err
		})
		services = append(services, started{name: "demo", svc: sim})
	}
	stopped := make(chan struct{})
	go func() { <-gctx.Done(); close(stopped) }()
	if err := waitServing(gctx, admin, stopped, services...); err != nil {
		if ctx.Err() != nil {
			return g.Wait() // interrupted while starting
		}
		if werr := g.Wait(); werr != nil {
			return werr
		}
		return err
	}
	consoleURL := ""
	if console != nil {
		consoleURL = "http://" + console.Addr() + "/"
	}
	hostCfg, _ := c.hostConfig()
	fmt.Fprint(env.stderr, devBanner(srv.ClientURL(), c.DataDir, consoleURL, hostCfg))
	return g.Wait()
}

// devBanner is what a newcomer reads once everything serves: where it
// runs and what to type, with the -s flag when the server is not where
// the client looks by default.
func devBanner(url, dataDir, consoleURL string, h host.Config) string {
	peon := selfCommand()
	server := ""
	if url != nats.DefaultURL {
		server = " -s " + url
	}
	web := ""
	if consoleURL != "" {
		web = "\n  Open the console: " + consoleURL + " (the HTTP API is under /v1/)."
	}
	return fmt.Sprintf(`
  Peon is running on an embedded NATS server at %s (data in %s).%s
  Try, in another terminal:
    %s cmd project.create%s name=demo path=/tmp/demo
    %s projects%s
    %s events tail%s
  Host %s answers threads with %s (providers: %s; thread.create provider=NAME picks one).
  Ctrl-C stops it; run it again to resume with the same state.

`, url, dataDir, web, peon, server, peon, server, peon, server, h.Name, h.DefaultProvider, strings.Join(providerList(h.Providers), ", "))
}

// selfCommand is how the user ran this binary: "go run ./cmd/peon" from a
// go run build, else the program's name.
func selfCommand() string {
	if strings.Contains(os.Args[0], "go-build") {
		return "go run ./cmd/peon"
	}
	return filepath.Base(os.Args[0])
}

// providerList names the host's providers, external included.
func providerList(specs []host.ProviderSpec) []string {
	names := []string{host.External}
	for _, p := range specs {
		if p.Name != host.External {
			names = append(names, p.Name)
		}
	}
	slices.Sort(names)
	return names
}
