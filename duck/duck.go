// Package duck opens DuckDB databases the way every part of gplens needs them:
// with the metrics functions registered, so the models, `gplens sql` and the
// Flight SQL server all see the same SQL surface.
package duck

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"

	"github.com/gplens/gplens/disclosure"
	"github.com/gplens/gplens/metrics"
)

// duckdb-go opens every file through one process-wide DuckDB instance
// cache, which spins for ever on a path whose previous instance has not
// been destroyed. A query cancelled at an unlucky moment (a Ctrl-C, a
// failed snapshot stopping the packs, a dashboard dropping its query) can
// leave its connection's context alive inside DuckDB, and with it the
// instance: the next open of that file in the process then never returns
// (seen in the publish tests, about one run in ten on a busy machine;
// duckdb/duckdb#25965). gplens never shares an instance between two
// opens, so each open gets a cache of its own, as go-duckdb did before
// the cache: a leaked instance then costs its memory, never a hang.
func init() {
	duckdb.GetInstanceCache = mapping.CreateInstanceCache
}

// StorageVersion is the on-disk format of the database files gplens
// creates through DuckDB (a new warehouse, a snapshot copied afresh: any
// file opened or ATTACHed new). DuckDB writes v0.10.2's by default, for
// older readers; gplens's files are read by gplens, and the current format
// writes England's big tables in about a quarter less time (a copy of
// core.indicator_values, 12.2 M rows: 33-35 s -> 22-27 s, a 2% smaller
// file) and reads them as fast. A file keeps the format it was created
// in, so a warehouse built before still opens and is changed in place in
// its own. DuckDB before 1.5 cannot open these files. Not on read-only
// opens (see Open).
const StorageVersion = "v1.5.0"

// Options control how a database is opened.
type Options struct {
	// ReadOnly opens the file read-only (access_mode=READ_ONLY).
	ReadOnly bool
	// MemoryLimit such as "2GB"; empty leaves DuckDB's default.
	MemoryLimit string
	// Threads; 0 leaves DuckDB's default.
	Threads int
	// Init statements run on every new connection of the pool (after the
	// memory and thread settings), so they must be safe to repeat: SET,
	// CREATE OR REPLACE TEMP ..., ATTACH IF NOT EXISTS.
	Init []string
	// NoMetrics skips registering the metrics SQL functions.
	NoMetrics bool
}

// Open opens (or creates) the DuckDB database at path ("" for in-memory)
// and registers the metrics SQL functions.
//
// DuckDB keeps functions registered through its C API in the database's
// system catalog, so registering once makes them visible on every connection
// of the returned *sql.DB (tested with concurrent connections). Memory and
// thread limits are database-wide settings, set once by the first
// connection; Init statements, which may be connection-scoped, then run on
// every new connection through the connector's init hook.
func Open(ctx context.Context, path string, o Options) (*sql.DB, error) {
	// Read-only opens create no files, and keep DuckDB's default: the
	// setting also moves json_serialize_sql's parse trees to the newer
	// serialization (a cast's type becomes an expression of its own),
	// and the SQL endpoint's allow-list reads those trees.
	dsn := path + "?storage_compatibility_version=" + StorageVersion
	if o.ReadOnly {
		dsn = path + "?access_mode=READ_ONLY"
	}
	var global []string
	if o.MemoryLimit != "" {
		global = append(global, fmt.Sprintf("SET GLOBAL memory_limit = '%s'", strings.ReplaceAll(o.MemoryLimit, "'", "''")))
	}
	if o.Threads > 0 {
		global = append(global, fmt.Sprintf("SET GLOBAL threads = %d", o.Threads))
	}
	init := o.Init
	var mu sync.Mutex
	globalDone := len(global) == 0
	connector, err := duckdb.NewConnector(dsn, func(execer driver.ExecerContext) error {
		// Not Open's ctx: the pool opens connections long after Open returns.
		bg := context.Background()
		mu.Lock()
		defer mu.Unlock()
		if !globalDone {
			for _, s := range global {
				if _, err := execer.ExecContext(bg, s, nil); err != nil {
					return fmt.Errorf("duckdb %q: %w", s, err)
				}
			}
			globalDone = true
		}
		for _, s := range init {
			if _, err := execer.ExecContext(bg, s, nil); err != nil {
				return fmt.Errorf("duckdb init %q: %w", s, err)
			}
		}
		return nil
	})
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
	if !o.NoMetrics {
		if err := metrics.RegisterSQL(conn); err != nil {
			db.Close()
			return nil, fmt.Errorf("register metrics functions on %q: %w", path, err)
		}
		// sdc_suppress: the release models' disclosure control
		if err := disclosure.RegisterSQL(conn); err != nil {
			db.Close()
			return nil, fmt.Errorf("register disclosure functions on %q: %w", path, err)
		}
	}
	return db, nil
}

// ParseBytes reads a DuckDB-style size such as "2GB", "512MB", "1.5GiB" or
// what current_setting('memory_limit') shows ("2.7 GiB"): KB, MB, GB, TB
// are powers of 1000, KiB to TiB of 1024, as DuckDB reads them.
func ParseBytes(s string) (int64, error) {
	s = strings.TrimSpace(strings.ToUpper(s))
	units := []struct {
		suffix string
		mult   float64
	}{
		{"TIB", 1 << 40}, {"GIB", 1 << 30}, {"MIB", 1 << 20}, {"KIB", 1 << 10},
		{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
	}
	mult := 1.0
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			mult = u.mult
			s = strings.TrimSpace(strings.TrimSuffix(s, u.suffix))
			break
		}
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || v < 0 {
		return 0, errors.New("want a size such as 2GB or 512MB")
	}
	return int64(v * mult), nil
}
