//go:build duckdb_arrow

package server

// QueryStream exposes the server's streaming reader to the benchmarks, so
// they can time DuckDB's streaming Arrow output without the network.
var QueryStream = queryStream

// ReadRSS is the resident set the memory guard reads, for the benchmarks'
// peak figures.
var ReadRSS = readRSS
