// Package archtest holds the test that pins the module's package graph:
// dependencies point inward, from cmd to services to internal to pkg.
package archtest
