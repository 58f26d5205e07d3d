// Package gateway is Peon's HTTP face: a REST API over the NATS contract
// (commands, queries, status), live updates as Server-Sent Events read from
// the event stream, and the web console, served from files embedded in the
// binary. Every request is translated into the contract's NATS requests,
// acting as the NATS identity its bearer token maps to, so NATS permissions
// are what authorise it. The console uses this API and nothing else.
package gateway
