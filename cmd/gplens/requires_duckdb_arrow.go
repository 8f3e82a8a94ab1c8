//go:build !duckdb_arrow

package main

// gplens serve streams results through duckdb-go's Arrow interface, which
// duckdb-go v2 compiles only with the duckdb_arrow build tag. A binary
// without it would lack the SQL endpoint, so a build without the tag stops
// here, with the fix in the name of the missing identifier:
//
//	go build -tags duckdb_arrow ./cmd/gplens      (or: make build)
//	go install -tags duckdb_arrow ./cmd/gplens
var _ = gplens_must_be_built_with_tags_duckdb_arrow__see_README_Install
