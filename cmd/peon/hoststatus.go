package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/micro"
	"github.com/peonhq/peon/services/host"
)

// hostStatus is one host instance as `peon status` shows it: its name,
// whether it is the active one, its providers and the turns it runs.
type hostStatus struct {
	Host      string         `json:"host"`
	Instance  string         `json:"instance"`
	Active    bool           `json:"active"`
	Providers string         `json:"providers"`
	Default   string         `json:"default_provider"`
	Sessions  []host.Session `json:"sessions"`
}

// discoverHosts asks every peon-host instance for its stats (the micro
// STATS verb): the status endpoint's data is the instance's host.Status.
func discoverHosts(nc *nats.Conn) []hostStatus {
	out := []hostStatus{}
	inbox := nats.NewInbox()
	replies := make(chan *nats.Msg, 64)
	sub, err := nc.ChanSubscribe(inbox, replies)
	if err != nil {
		return out
	}
	defer func() { _ = sub.Unsubscribe() }()
	subject, _ := micro.ControlSubject(micro.StatsVerb, host.ServiceName, "")
	if err := nc.PublishRequest(subject, inbox, nil); err != nil {
		return out
	}
	timeout := time.After(500 * time.Millisecond)
	for {
		select {
		case m := <-replies:
			var stats micro.Stats
			if json.Unmarshal(m.Data, &stats) != nil {
				continue
			}
			h := hostStatus{Host: stats.Metadata["host"], Instance: stats.Metadata["instance"],
				Providers: stats.Metadata["providers"], Default: stats.Metadata["default_provider"]}
			for _, e := range stats.Endpoints {
				var st host.Status
				if e.Name == "status" && json.Unmarshal(e.Data, &st) == nil {
					h.Active, h.Sessions = st.Active, st.Sessions
				}
			}
			out = append(out, h)
		case <-timeout:
			sort.Slice(out, func(i, j int) bool {
				if out[i].Host != out[j].Host {
					return out[i].Host < out[j].Host
				}
				return out[i].Instance < out[j].Instance
			})
			return out
		}
	}
}

// printHosts is the HOSTS table: one row per instance, then one per turn
// an active instance runs.
func printHosts(w io.Writer, p paint, hosts []hostStatus) {
	if len(hosts) == 0 {
		return
	}
	table(w, "HOST\tINSTANCE\tROLE\tPROVIDERS (DEFAULT)\tSESSIONS", func(row func(...any)) {
		for _, h := range hosts {
			role := "standby"
			if h.Active {
				role = p.green("active")
			}
			row(h.Host, h.Instance, role, fmt.Sprintf("%s (%s)", h.Providers, h.Default), len(h.Sessions))
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
