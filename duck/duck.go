// Package duck opens DuckDB databases the way every part of gplens needs them:
// with the metrics functions registered, so the models, `gplens sql` and the
// Flight SQL server all see the same SQL surface.
package duck

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/gplens/gplens/metrics"
)

// Options control how a database is opened.
type Options struct {
	// ReadOnly opens the file read-only (access_mode=READ_ONLY).
	ReadOnly bool
	// MemoryLimit such as "2GB"; empty leaves DuckDB's default.
	MemoryLimit string
	// Threads; 0 leaves DuckDB's default.
	Threads int
	// Init statements run on every new connection, after the defaults.
	Init []string
}

// Open opens (or creates) the DuckDB database at path ("" for in-memory)
// and registers the metrics SQL functions.
func Open(ctx context.Context, path string, o Options) (*sql.DB, error) {
	dsn := path
	if o.ReadOnly {
		dsn += "?access_mode=READ_ONLY"
	}
	var init []string
	if o.MemoryLimit != "" {
		init = append(init, fmt.Sprintf("SET memory_limit='%s'", o.MemoryLimit))
	}
	if o.Threads > 0 {
		init = append(init, fmt.Sprintf("SET threads=%d", o.Threads))
	}
	init = append(init, o.Init...)
	connector, err := duckdb.NewConnector(dsn, nil)
	if err != nil {
		return nil, fmt.Errorf("open duckdb %q: %w", path, err)
	}
	db := sql.OpenDB(connector)
	conn, err := db.Conn(ctx)
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("connect duckdb %q: %w", path, err)
	}
	defer conn.Close()
	// Functions registered through the C API live in the database's system
	// catalog, so one registration serves every connection of this *sql.DB.
	if err := metrics.RegisterSQL(conn); err != nil {
		db.Close()
		return nil, fmt.Errorf("register metrics functions: %w", err)
	}
	for _, s := range init {
		if _, err := conn.ExecContext(ctx, s); err != nil {
			db.Close()
			return nil, fmt.Errorf("duckdb init %q: %w", s, err)
		}
	}
	return db, nil
}
