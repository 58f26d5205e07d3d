package sysstatus

import (
	"context"
	"encoding/json"
	"sort"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/pkg/contract"
)

// Host is one host instance: its name, whether it is the active instance
// of that name or stands by, its providers and the turns it runs.
type Host struct {
	Host            string                 `json:"host"`
	Instance        string                 `json:"instance"`
	Active          bool                   `json:"active"`
	Providers       []string               `json:"providers"`
	DefaultProvider string                 `json:"default_provider"`
	Sessions        []contract.HostSession `json:"sessions"`
}

// DiscoverHosts asks every host instance for its stats (the micro STATS
// verb); the status endpoint's data is its contract.HostStatus.
func DiscoverHosts(ctx context.Context, nc *nats.Conn) []Host {
	out := []Host{}
	subject, _ := micro.ControlSubject(micro.StatsVerb, contract.HostService, "")
	gather(ctx, nc, subject, func(data []byte) {
		var stats micro.Stats
		if json.Unmarshal(data, &stats) != nil {
			return
		}
		h := Host{Host: stats.Metadata["host"], Instance: stats.Metadata["instance"],
			DefaultProvider: stats.Metadata["default_provider"], Sessions: []contract.HostSession{}}
		if p := stats.Metadata["providers"]; p != "" {
			h.Providers = strings.Split(p, ",")
		}
		for _, e := range stats.Endpoints {
			var st contract.HostStatus
			if e.Name == "status" && json.Unmarshal(e.Data, &st) == nil {
				h.Active = st.Active
				if st.Sessions != nil {
					h.Sessions = st.Sessions
				}
			}
		}
		out = append(out, h)
	})
	return sortHosts(out)
}

func sortHosts(hs []Host) []Host {
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Host != hs[j].Host {
			return hs[i].Host < hs[j].Host
		}
		return hs[i].Instance < hs[j].Instance
	})
	return hs
}
