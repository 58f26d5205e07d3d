package main

import (
	"os"
	"path/filepath"
	"strconv"

	"github.com/alecthomas/kong"
	"github.com/nats-io/nats.go"
	"github.com/peonhq/peon/internal/simulator"
	"github.com/peonhq/peon/pkg/domain"
	"github.com/peonhq/peon/services/decider"
	"github.com/peonhq/peon/services/gateway"
	"github.com/peonhq/peon/services/host"
	"github.com/peonhq/peon/services/ingest"
	"github.com/peonhq/peon/services/projector"
	"github.com/peonhq/peon/services/query"
)

// Every role's flag defaults come from its service's DefaultConfig: the
// defaults are written once, in the service.

func deciderDefaults() decider.Config { return decider.DefaultConfig() }

func projectorDefaults() projector.Config { return projector.DefaultConfig() }

func queryDefaults() query.Config { return query.DefaultConfig() }

// setupDefaults are `peon setup`'s: one replica (one server), one
// transcript partition.
const (
	defaultReplicas   = 1
	defaultPartitions = 1
)

// flagVars are the flag defaults, interpolated into the flag tags as
// ${name}: every default comes from a service's configuration (or the
// bridge above), none is written in a tag. placeholders replaces the
// defaults that depend on the machine, for the generated docs.
func flagVars(placeholders bool) kong.Vars {
	d, p, q, i, s, h := deciderDefaults(), projectorDefaults(), queryDefaults(), ingest.DefaultConfig(), simulator.DefaultConfig(), host.DefaultConfig()
	itoa := strconv.Itoa
	vars := kong.Vars{
		"nats_url":                nats.DefaultURL,
		"decider_cache_entries":   itoa(d.CacheEntries),
		"decider_cache_mb":        itoa(int(d.CacheBytes >> 20)),
		"decider_max_body_kb":     itoa(d.MaxBodyBytes >> 10),
		"decider_concurrency":     itoa(d.Concurrency),
		"projector_cache_entries": itoa(p.CacheEntries),
		"projector_cache_mb":      itoa(int(p.CacheBytes >> 20)),
		"projector_version":       itoa(p.Version),
		"query_version":           itoa(q.Version),
		"ingest_workers":          itoa(i.Workers),
		"sim_threads":             itoa(s.Threads),
		"sim_turns":               itoa(s.Turns),
		"sim_deltas":              itoa(s.Script.Deltas),
		"sim_rate":                strconv.FormatFloat(s.Script.Rate, 'g', -1, 64),
		"sim_approval_every":      itoa(s.Script.ApprovalEvery),
		"sim_error_every":         itoa(s.Script.ErrorEvery),
		"host_name":               domain.DefaultHost,
		"host_default_provider":   h.DefaultProvider,
		"host_idle_timeout":       h.IdleTimeout.String(),
		"host_lease_ttl":          h.LeaseTTL.String(),
		"dev_default_provider":    devDefaultProvider,
		"replicas":                itoa(defaultReplicas),
		"partitions":              itoa(defaultPartitions),
		"dev_listen":              devListen,
		"dev_http":                devHTTP,
		"gateway_listen":          gateway.DefaultConfig().Listen,
		"dev_demo_threads":        itoa(devDemoThreads),
		"dev_max_memory_mb":       itoa(devMaxMemoryMB),
		"dev_max_store_mb":        itoa(devMaxStoreMB),
		"instance":                defaultInstance(),
		"dev_data_dir":            defaultDataDir(),
	}
	if placeholders {
		vars["instance"] = "<host>-<pid>"
		vars["dev_data_dir"] = "<user cache dir>/peon/dev"
	}
	return vars
}

// defaultDataDir is where `peon dev` keeps its data unless told.
func defaultDataDir() string {
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	return filepath.Join(cache, "peon", "dev")
}
