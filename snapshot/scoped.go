package snapshot

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"github.com/gplens/gplens/duck"
)

// Row-level scoping. A scoped reader never reads the snapshot itself: it
// reads a separate database file holding only the rows its scope may see,
// built when the snapshot is published. Views or search_path tricks would
// not be sound: a client can always name a base table in full. What is not
// copied cannot leak.

// Scope is an area a scoped reader sees: Level "icb" or "sub_icb" and the
// area's ODS code.
type Scope struct{ Level, Code string }

// Key names the scope, e.g. "icb:QWE".
func (s Scope) Key() string { return s.Level + ":" + s.Code }

var scopeCodeRE = regexp.MustCompile(`^[A-Z0-9]{3,9}$`)

func (s Scope) check() error {
	if (s.Level != "icb" && s.Level != "sub_icb") || !scopeCodeRE.MatchString(s.Code) {
		return fmt.Errorf("bad scope %q", s.Key())
	}
	return nil
}

// scopedDir holds the scoped copies of snapshot name.
func scopedDir(dir, name string) string {
	return filepath.Join(dir, ".scoped", strings.TrimSuffix(name, suffix))
}

// ScopedPath is where the scoped copy of snap for s is kept.
func ScopedPath(snap Info, s Scope) string {
	return filepath.Join(scopedDir(filepath.Dir(snap.Path), snap.Name), s.Level+"-"+s.Code, Catalog+suffix)
}

// restrictedColumns are emptied (NULL) in scoped copies wherever they
// appear: referral counts are under disclosure control.
var restrictedColumns = map[string]bool{
	"referrals": true, "referral_rate_per_1000": true, "twoww_rate_per_1000": true,
}

// unfilteredTables are reference tables with no area rows, copied whole.
var unfilteredTables = map[string]bool{"core.indicators": true, "release.indicators": true}

// practiceRelations are where the practice → PCN/sub-ICB/ICB mapping may
// be found in a snapshot, in order of preference.
// (A release snapshot has release.practices and no core schema.)
var practiceRelations = []string{"release.practices", "core.practices", "marts.practices", "analyst.practices"}

// AreaCodes returns the codes of level ("icb" or "sub_icb") present in the
// snapshot at path, for checking token scopes.
func AreaCodes(ctx context.Context, path, level string) (map[string]bool, error) {
	if level != "icb" && level != "sub_icb" {
		return nil, fmt.Errorf("area level %q", level)
	}
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "ATTACH "+quote(path)+" AS src (READ_ONLY)"); err != nil {
		return nil, fmt.Errorf("area codes: %w", err)
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), "DETACH src") //nolint:errcheck // best effort on a throwaway database
	rel, err := practiceRelation(ctx, conn)
	if err != nil {
		return nil, err
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf("SELECT DISTINCT %s_code FROM src.%s WHERE %s_code IS NOT NULL", level, rel, level))
	if err != nil {
		return nil, fmt.Errorf("area codes: %w", err)
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, fmt.Errorf("area codes: %w", err)
		}
		out[c] = true
	}
	return out, rows.Err()
}

func practiceRelation(ctx context.Context, conn *sql.Conn) (string, error) {
	for _, r := range practiceRelations {
		sch, tbl, _ := strings.Cut(r, ".")
		var n int
		err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_columns() WHERE database_name = 'src' AND schema_name = ? AND table_name = ?
			AND column_name IN ('practice_code', 'pcn_code', 'sub_icb_code', 'icb_code')`, sch, tbl).Scan(&n)
		if err != nil {
			return "", fmt.Errorf("find practices: %w", err)
		}
		if n == 4 {
			return r, nil
		}
	}
	return "", fmt.Errorf("the snapshot has no practice table (looked for %s)", strings.Join(practiceRelations, ", "))
}

// BuildScopes writes the scoped copy of the snapshot at path (file name
// name, in dir) for every scope. A scope whose code the snapshot does not
// have fails the build, naming it.
func BuildScopes(ctx context.Context, dir, name string, scopes []Scope, log *slog.Logger) error {
	if len(scopes) == 0 {
		return nil
	}
	info := Info{Name: name, Path: filepath.Join(dir, name)}
	var errs []error
	for _, s := range scopes {
		if err := BuildScoped(ctx, info.Path, ScopedPath(info, s), s, log); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		os.RemoveAll(scopedDir(dir, name))
		return err
	}
	return nil
}

// BuildScoped writes the copy of the snapshot src that scope s may read to
// dst (written under a temporary name, then renamed).
func BuildScoped(ctx context.Context, src, dst string, s Scope, log *slog.Logger) error {
	if log == nil {
		log = slog.Default()
	}
	if err := s.check(); err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		return fmt.Errorf("scope %s: %w", s.Key(), err)
	}
	tmp := dst + ".tmp"
	os.Remove(tmp)
	if err := copyScoped(ctx, src, tmp, s, log); err != nil {
		os.Remove(tmp)
		os.Remove(tmp + ".wal")
		return fmt.Errorf("scope %s: %w", s.Key(), err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("scope %s: %w", s.Key(), err)
	}
	return nil
}

func copyScoped(ctx context.Context, src, dst string, s Scope, log *slog.Logger) error {
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
	if err := exec("ATTACH " + quote(src) + " AS src (READ_ONLY)"); err != nil {
		return err
	}
	rel, err := practiceRelation(ctx, conn)
	if err != nil {
		return err
	}
	lit := quote(s.Code) // checked against scopeCodeRE
	codeCol := s.Level + "_code"
	var known int
	if err := conn.QueryRowContext(ctx, "SELECT count(*) FROM src."+rel+" WHERE "+codeCol+" = "+lit).Scan(&known); err != nil {
		return err
	}
	if known == 0 {
		return fmt.Errorf("no practice in the snapshot has %s %s", codeCol, s.Code)
	}
	// The areas in scope: its practices and every PCN, sub-ICB (and, for an
	// ICB scope, ICB) they belong to, in any period.
	areas := []string{
		"SELECT 'practice' AS lvl, practice_code AS code FROM src." + rel + " WHERE " + codeCol + " = " + lit,
		"SELECT 'pcn', pcn_code FROM src." + rel + " WHERE " + codeCol + " = " + lit,
		"SELECT 'sub_icb', sub_icb_code FROM src." + rel + " WHERE " + codeCol + " = " + lit,
	}
	if s.Level == "icb" {
		areas = append(areas, "SELECT 'icb', icb_code FROM src."+rel+" WHERE icb_code = "+lit)
	}
	private := "SELECT NULL::VARCHAR AS indicator_id WHERE false"
	for _, dim := range []string{"release", "core"} {
		if n, _ := countRows(ctx, conn, `SELECT count(*) FROM duckdb_columns() WHERE database_name = 'src' AND schema_name = '`+dim+`' AND table_name = 'indicators' AND column_name = 'public'`); n > 0 {
			private = "SELECT indicator_id FROM src." + dim + ".indicators WHERE NOT coalesce(public, false)"
			break
		}
	}
	steps := []string{
		"ATTACH " + quote(dst) + " AS dst",
		"CREATE TEMP TABLE scope_areas AS " + strings.Join(areas, " UNION "),
		"CREATE TEMP TABLE private_indicators AS " + private,
	}
	for _, st := range steps {
		if err := exec(st); err != nil {
			return err
		}
	}
	// Every schema, so views find theirs even where it holds no table.
	schemas, err := stringCol(ctx, conn, `SELECT schema_name FROM duckdb_schemas() WHERE database_name = 'src' AND NOT internal ORDER BY 1`)
	if err != nil {
		return err
	}
	for _, sc := range schemas {
		if err := exec("CREATE SCHEMA IF NOT EXISTS dst." + quoteIdent(sc)); err != nil {
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
			sel[i] = quoteIdent(c.name)
			if restrictedColumns[c.name] {
				sel[i] = "NULL::" + c.typ + " AS " + quoteIdent(c.name)
			}
		}
		q := fmt.Sprintf("CREATE TABLE dst.%s.%s AS SELECT %s FROM src.%s.%s WHERE %s",
			quoteIdent(t.schema), quoteIdent(t.table), strings.Join(sel, ", "), quoteIdent(t.schema), quoteIdent(t.table), where)
		if err := exec(q); err != nil {
			return err
		}
	}
	// Views are recreated over the filtered tables, in passes so a view
	// over another view finds it; one that needs a withheld table never
	// binds and is left out.
	views, err := stringCol(ctx, conn, `SELECT sql FROM duckdb_views() WHERE database_name = 'src' AND NOT internal ORDER BY schema_name, view_name`)
	if err != nil {
		return err
	}
	if err := exec("USE dst"); err != nil {
		return err
	}
	// The macros of sql/functions, which the analyst views may call.
	fns, err := functionSQL()
	if err != nil {
		return err
	}
	for _, f := range fns {
		if err := exec(f); err != nil {
			return err
		}
	}
	for len(views) > 0 {
		var left []string
		var lastErr error
		for _, v := range views {
			if _, err := conn.ExecContext(ctx, v); err != nil {
				left, lastErr = append(left, v), err
			}
		}
		if len(left) == len(views) {
			log.Debug("scope: views withheld", "n", len(left), "err", lastErr)
			break
		}
		views = left
	}
	// Rebuilt views lost their column comments (the catalog's remarks).
	if err := copyComments(ctx, conn, "src", "dst"); err != nil {
		return err
	}
	if err := exec("USE memory"); err != nil {
		return err
	}
	return errors.Join(exec("DETACH dst"), exec("DETACH src"))
}

func countRows(ctx context.Context, conn *sql.Conn, q string) (int, error) {
	var n int
	err := conn.QueryRowContext(ctx, q).Scan(&n)
	return n, err
}

func stringCol(ctx context.Context, conn *sql.Conn, q string) ([]string, error) {
	rows, err := conn.QueryContext(ctx, q)
	if err != nil {
		return nil, err
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
	rows, err := conn.QueryContext(ctx, `SELECT c.schema_name, c.table_name, c.column_name, c.data_type
		FROM duckdb_columns() c JOIN duckdb_tables() t USING (database_name, schema_name, table_name)
		WHERE c.database_name = 'src' AND NOT t.temporary
		ORDER BY c.schema_name, c.table_name, c.column_index`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []table
	for rows.Next() {
		var r [4]string
		if err := rows.Scan(&r[0], &r[1], &r[2], &r[3]); err != nil {
			return nil, err
		}
		if n := len(out); n == 0 || out[n-1].schema != r[0] || out[n-1].table != r[1] {
			out = append(out, table{schema: r[0], table: r[1]})
		}
		out[len(out)-1].cols = append(out[len(out)-1].cols, column{name: r[2], typ: r[3]})
	}
	return out, rows.Err()
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
