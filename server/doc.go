// Package server is gplens's read-only Arrow Flight SQL endpoint over the
// published warehouse snapshot (`gplens serve`). Results stream as Arrow
// record batches straight from DuckDB's Arrow interface; only single
// SELECT statements run, on a connection that cannot touch files, ATTACH,
// INSTALL, LOAD or change settings; clients authenticate with bearer
// tokens, optionally scoped to one ICB or sub-ICB.
package server
