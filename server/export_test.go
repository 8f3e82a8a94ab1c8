//go:build duckdb_arrow

package server

// ReadRSS is the resident set the memory guard reads, for the benchmarks'
// peak figures.
var ReadRSS = readRSS
