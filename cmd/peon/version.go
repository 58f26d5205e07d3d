package main

import "runtime/debug"

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
