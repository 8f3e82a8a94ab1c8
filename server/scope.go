//go:build duckdb_arrow

package server

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
)

// Row-level scoping. A scoped token never reads the snapshot itself: it
// reads a separate database file holding only the rows its scope may see,
// built once per snapshot and scope. Views or search_path tricks would not
// be sound: a client can always name the base table in full. What is not
// copied cannot leak.

// restrictedColumns are emptied (NULL) for scoped tokens wherever they
// appear: referral counts are under disclosure control.
var restrictedColumns = map[string]bool{
	"referrals": true, "referral_rate_per_1000": true, "twoww_rate_per_1000": true,
}

// unfilteredTables are reference tables with no area rows, copied whole.
var unfilteredTables = map[string]bool{"core.indicators": true, "release.indicators": true}

// buildScoped writes the scoped copy of snap for id's scope and opens it
// read-only and confined like the snapshot itself.
func buildScoped(ctx context.Context, snap snapshot.Info, id identity, o snapshot.OpenOptions, log *slog.Logger) (*sql.DB, func() error, error) {
	dir, err := os.MkdirTemp("", "gplens-scope-")
	if err != nil {
		return nil, nil, fmt.Errorf("scope %s: %w", id.scopeKey(), err)
	}
	file := filepath.Join(dir, snapshot.Catalog+".duckdb")
	if err := copyScoped(ctx, snap.Path, file, id, log); err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("scope %s: %w", id.scopeKey(), err)
	}
	db, closeFn, err := snapshot.OpenReadOnly(ctx, file, o)
	if err != nil {
		os.RemoveAll(dir)
		return nil, nil, fmt.Errorf("scope %s: %w", id.scopeKey(), err)
	}
	log.Info("scoped snapshot built", "scope", id.scopeKey(), "snapshot", snap.Name)
	return db, func() error {
		err := closeFn()
		os.RemoveAll(dir)
		return err
	}, nil
}

func copyScoped(ctx context.Context, src, dst string, id identity, log *slog.Logger) error {
	if !codeRE.MatchString(id.code) || (id.level != "icb" && id.level != "sub_icb") {
		return fmt.Errorf("bad scope %q", id.scopeKey())
	}
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		return err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	exec := func(q string) error {
		if _, err := conn.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%w\n%s", err, q)
		}
		return nil
	}
	lit := "'" + id.code + "'" // code checked against codeRE above
	codeCol := id.level + "_code"
	// A snapshot of a release warehouse has no core schema: its practice
	// and indicator dimensions are release.practices and release.indicators.
	dim := "core"
	if err := exec("ATTACH " + sqlString(src) + " AS probe (READ_ONLY)"); err != nil {
		return err
	}
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables() WHERE database_name = 'probe' AND schema_name = 'release' AND table_name = 'practices'`).Scan(&n); err != nil {
		return err
	}
	if err := exec("DETACH probe"); err != nil {
		return err
	}
	if n > 0 {
		dim = "release"
	}
	// The areas in scope: its practices and every PCN, sub-ICB (and, for an
	// ICB token, ICB) they belong to, in any period.
	areas := []string{
		"SELECT 'practice' AS lvl, practice_code AS code FROM src." + dim + ".practices WHERE " + codeCol + " = " + lit,
		"SELECT 'pcn', pcn_code FROM src." + dim + ".practices WHERE " + codeCol + " = " + lit,
		"SELECT 'sub_icb', sub_icb_code FROM src." + dim + ".practices WHERE " + codeCol + " = " + lit,
	}
	if id.level == "icb" {
		areas = append(areas, "SELECT 'icb', icb_code FROM src."+dim+".practices WHERE icb_code = "+lit)
	}
	steps := []string{
		"ATTACH " + sqlString(src) + " AS src (READ_ONLY)",
		"ATTACH " + sqlString(dst) + " AS dst",
		"CREATE TEMP TABLE scope_areas AS " + strings.Join(areas, " UNION "),
		"CREATE TEMP TABLE private_indicators AS SELECT indicator_id FROM src." + dim + ".indicators WHERE NOT coalesce(public, false)",
	}
	for _, s := range steps {
		if err := exec(s); err != nil {
			return err
		}
	}
	cols, err := tableColumns(ctx, conn)
	if err != nil {
		return err
	}
	for _, t := range cols {
		where, ok := scopeFilter(t, codeCol, lit)
		if !ok {
			log.Debug("scope: table withheld", "table", t.name())
			continue
		}
		sel := make([]string, len(t.cols))
		for i, c := range t.cols {
			sel[i] = ident(c.name)
			if restrictedColumns[c.name] {
				sel[i] = "NULL::" + c.typ + " AS " + ident(c.name)
			}
		}
		if err := exec("CREATE SCHEMA IF NOT EXISTS dst." + ident(t.schema)); err != nil {
			return err
		}
		q := fmt.Sprintf("CREATE TABLE dst.%s.%s AS SELECT %s FROM src.%s.%s WHERE %s",
			ident(t.schema), ident(t.table), strings.Join(sel, ", "), ident(t.schema), ident(t.table), where)
		if err := exec(q); err != nil {
			return err
		}
	}
	// Views are recreated over the filtered tables; one that needs a
	// withheld table fails to bind and is left out.
	views, err := stringRows(ctx, conn, 1, `SELECT sql FROM duckdb_views() WHERE database_name = 'src' AND NOT internal`)
	if err != nil {
		return err
	}
	if err := exec("USE dst"); err != nil {
		return err
	}
	for _, v := range views {
		if _, err := conn.ExecContext(ctx, v[0]); err != nil {
			log.Debug("scope: view withheld", "err", err)
		}
	}
	if err := exec("USE memory"); err != nil {
		return err
	}
	return errors.Join(exec("DETACH dst"), exec("DETACH src"))
}

func sqlString(s string) string { return "'" + strings.ReplaceAll(s, "'", "''") + "'" }

type column struct{ name, typ string }

type table struct {
	schema, table string
	cols          []column
}

func (t table) name() string { return t.schema + "." + t.table }

func (t table) has(c string) bool {
	for _, x := range t.cols {
		if x.name == c {
			return true
		}
	}
	return false
}

func tableColumns(ctx context.Context, conn *sql.Conn) ([]table, error) {
	rows, err := stringRows(ctx, conn, 4, `SELECT c.schema_name, c.table_name, c.column_name, c.data_type
		FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
		WHERE c.database_name = 'src' AND NOT t.temporary
		ORDER BY c.schema_name, c.table_name, c.column_index`)
	if err != nil {
		return nil, err
	}
	var out []table
	for _, r := range rows {
		if n := len(out); n == 0 || out[n-1].schema != r[0] || out[n-1].table != r[1] {
			out = append(out, table{schema: r[0], table: r[1]})
		}
		out[len(out)-1].cols = append(out[len(out)-1].cols, column{name: r[2], typ: r[3]})
	}
	return out, nil
}

// scopeFilter is the WHERE clause that keeps t's in-scope rows, or false
// when t has no column to scope by (the table is withheld).
func scopeFilter(t table, codeCol, lit string) (string, bool) {
	var conds []string
	switch {
	case unfilteredTables[t.name()]:
		conds = append(conds, "true")
	case t.has("area_level") && t.has("area_code"):
		// England rows are national comparators, published anyway.
		conds = append(conds, "(area_level = 'england' OR EXISTS (SELECT 1 FROM scope_areas s WHERE s.lvl = area_level AND s.code = area_code))")
	case t.has(codeCol):
		conds = append(conds, codeCol+" = "+lit)
	case t.has("practice_code"):
		conds = append(conds, "practice_code IN (SELECT code FROM scope_areas WHERE lvl = 'practice')")
	default:
		return "", false
	}
	if t.has("indicator_id") && !unfilteredTables[t.name()] {
		conds = append(conds, "indicator_id NOT IN (SELECT indicator_id FROM private_indicators)")
	}
	return strings.Join(conds, " AND "), true
}
