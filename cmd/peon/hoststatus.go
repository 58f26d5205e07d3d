package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/peonhq/peon/internal/sysstatus"
)

// printHosts is the HOSTS table: one row per host instance, then one per
// turn an instance runs.
func printHosts(w io.Writer, p paint, hosts []sysstatus.Host) {
	if len(hosts) == 0 {
		return
	}
	table(w, "HOST\tINSTANCE\tROLE\tPROVIDERS (DEFAULT)\tSESSIONS", func(row func(...any)) {
		for _, h := range hosts {
			role := "standby"
			if h.Active {
				role = p.green("active")
			}
			row(h.Host, h.Instance, role, fmt.Sprintf("%s (%s)", strings.Join(h.Providers, ","), h.DefaultProvider), len(h.Sessions))
		}
	})
	var running int
	for _, h := range hosts {
		running += len(h.Sessions)
	}
	if running == 0 {
		return
	}
	table(w, "HOST\tTHREAD\tTURN\tPROVIDER", func(row func(...any)) {
		for _, h := range hosts {
			for _, s := range h.Sessions {
				row(h.Host, s.ThreadID, s.TurnID, s.Provider)
			}
		}
	})
}
