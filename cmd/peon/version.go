package main

import (
	"context"
	"fmt"
	"runtime"
	"runtime/debug"

	"github.com/peonhq/peon/pkg/contract"
)

// versionInfo is what `peon version` reports.
type versionInfo struct {
	Version  string `json:"version"`
	Commit   string `json:"commit,omitempty"`
	Go       string `json:"go"`
	Contract string `json:"contract"`
	Server   string `json:"nats_server"`
}

// buildVersion reads the binary's build information: the module version
// (a tag for `go install …@vX`, "(devel)" from a checkout) and the commit
// when the build recorded it.
func buildVersion() versionInfo {
	v := versionInfo{Version: "(devel)", Go: runtime.Version(), Contract: contract.ServiceVersion, Server: serverModuleVersion}
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return v
	}
	if info.Main.Version != "" {
		v.Version = info.Main.Version
	}
	for _, s := range info.Settings {
		if s.Key == "vcs.revision" {
			v.Commit = s.Value
		}
	}
	return v
}

// serverModuleVersion is the nats-server module this binary embeds.
var serverModuleVersion = func() string {
	if info, ok := debug.ReadBuildInfo(); ok {
		for _, d := range info.Deps {
			if d.Path == "github.com/nats-io/nats-server/v2" {
				return d.Version
			}
		}
	}
	return "(unknown version)"
}()

// versionCmd prints the version.
type versionCmd struct {
	JSON bool `name:"json" help:"print JSON"`
}

func (c *versionCmd) Run(_ context.Context, env *environment) error {
	v := buildVersion()
	if c.JSON {
		return printJSON(env.stdout, v)
	}
	commit := ""
	if v.Commit != "" {
		commit = " (" + v.Commit[:min(12, len(v.Commit))] + ")"
	}
	fmt.Fprintf(env.stdout, "peon %s%s, %s, contract %s, embedded nats-server %s\n", v.Version, commit, v.Go, v.Contract, v.Server)
	return nil
}
