// Package readmodel is the layout of Peon's read model, shared by the
// projector that writes it, the query service that reads it, the admin
// step that creates it and the tools that watch it: the buckets of each
// read-model version, the projections (the catalog and the transcript's
// partitions) with their durable consumers, and the live version named in
// peon_meta.
package readmodel
