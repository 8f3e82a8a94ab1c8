package snapshot

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	sqlmodels "github.com/gplens/gplens/sql"
)

// What readers get. Record-level and fine-grained data never leave the
// warehouse through a reader: a snapshot of a warehouse with a release
// schema holds only
//   - release.*: the disclosure-controlled tables and views (sql/release),
//     copied as tables;
//   - marts.*: a view over each release table of the same name, so queries
//     written against the marts keep working and see controlled numbers;
//   - analyst.*: the analyst views, rebuilt over the release tables;
//   - the SQL macros of sql/functions.
//
// Nothing of lake, ref, staging, core, disclosure or the build state is
// copied. A warehouse without a release schema (an older build or a test
// fixture) is copied whole except for the lake and staging schemas.

// ReaderSchemas are the schemas a snapshot of a release warehouse holds.
var ReaderSchemas = []string{"release", "marts", "analyst"}

// WithheldSchemas never reach a snapshot or a scoped copy.
var WithheldSchemas = []string{"lake", "staging", "core", "disclosure", "ref", "_gplens"}

// copyForReaders copies what readers may see from the attached database src
// into the attached (empty) database dst, on conn, and describes the
// columns with remarks.
func copyForReaders(ctx context.Context, conn *sql.Conn, src, dst string, remarks Remarks) error {
	if err := copyReaderData(ctx, conn, src, dst); err != nil {
		return err
	}
	return describeColumns(ctx, conn, dst, remarks)
}

func copyReaderData(ctx context.Context, conn *sql.Conn, src, dst string) error {
	exec := execer(ctx, conn)
	tables, err := releaseRelations(ctx, conn, src)
	if err != nil {
		return err
	}
	if len(tables) == 0 {
		// no release layer: the whole database minus record-level schemas
		if err := exec("COPY FROM DATABASE " + quoteIdent(src) + " TO " + quoteIdent(dst)); err != nil {
			return err
		}
		for _, s := range []string{"lake", "staging"} {
			if err := exec("DROP SCHEMA IF EXISTS " + quoteIdent(dst) + "." + quoteIdent(s) + " CASCADE"); err != nil {
				return err
			}
		}
		return nil
	}
	if err := exec("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(dst) + ".release"); err != nil {
		return err
	}
	for _, t := range tables {
		if err := exec(copyRelation(src, dst, t)); err != nil {
			return err
		}
	}
	return readerObjects(ctx, conn, src, dst, tables)
}

// execer runs a statement on conn, naming it in the error.
func execer(ctx context.Context, conn *sql.Conn) func(string) error {
	return func(q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
		return nil
	}
}

// releaseRelations lists the release tables and views of the attached
// database src. A release view (a table without its area names plus the
// current names, sql/release) becomes a table in a snapshot: readers get
// its rows, not the withheld schemas it reads.
func releaseRelations(ctx context.Context, conn *sql.Conn, src string) ([]string, error) {
	return queryStrings(ctx, conn, `SELECT table_name FROM duckdb_tables()
		WHERE database_name = ? AND schema_name = 'release' AND NOT temporary
		UNION ALL SELECT view_name FROM duckdb_views()
		WHERE database_name = ? AND schema_name = 'release' AND NOT temporary AND NOT internal
		ORDER BY 1`, src, src)
}

// copyRelation is the statement copying release relation t of src into dst as a table.
func copyRelation(src, dst, t string) string {
	return fmt.Sprintf("CREATE TABLE %s.release.%s AS SELECT * FROM %s.release.%s",
		quoteIdent(dst), quoteIdent(t), quoteIdent(src), quoteIdent(t))
}

// readerObjects creates what a snapshot holds besides the release tables:
// the marts views over them, the SQL macros and the analyst views.
func readerObjects(ctx context.Context, conn *sql.Conn, src, dst string, tables []string) error {
	exec := execer(ctx, conn)
	for _, s := range ReaderSchemas {
		if err := exec("CREATE SCHEMA IF NOT EXISTS " + quoteIdent(dst) + "." + quoteIdent(s)); err != nil {
			return err
		}
	}
	views, err := queryStrings(ctx, conn, `SELECT sql FROM duckdb_views()
		WHERE database_name = ? AND schema_name = 'analyst' AND NOT internal ORDER BY view_name`, src)
	if err != nil {
		return err
	}
	// Views and macros are created with dst as the default database, so
	// their unqualified names bind there.
	var prev string
	if err := conn.QueryRowContext(ctx, "SELECT current_database()").Scan(&prev); err != nil {
		return err
	}
	if err := exec("USE " + quoteIdent(dst)); err != nil {
		return err
	}
	defer func() { _, _ = conn.ExecContext(context.WithoutCancel(ctx), "USE "+quoteIdent(prev)) }()
	for _, t := range tables {
		if err := exec(fmt.Sprintf("CREATE VIEW marts.%s AS SELECT * FROM release.%s", quoteIdent(t), quoteIdent(t))); err != nil {
			return err
		}
	}
	fns, err := functionSQL()
	if err != nil {
		return err
	}
	for _, f := range fns {
		if err := exec(f); err != nil {
			return err
		}
	}
	for _, v := range views {
		if err := exec(v); err != nil {
			return err
		}
	}
	return nil
}

// functionSQL is the text of sql/functions/*.sql (macros), in path order.
func functionSQL() ([]string, error) {
	fsys := sqlmodels.FS()
	names, err := fs.Glob(fsys, "functions/*.sql")
	if err != nil {
		return nil, err
	}
	sort.Strings(names)
	var out []string
	for _, n := range names {
		b, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		out = append(out, string(b))
	}
	return out, nil
}

func queryStrings(ctx context.Context, conn *sql.Conn, q string, args ...any) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q, args...)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", strings.Fields(q)[0], err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
}
