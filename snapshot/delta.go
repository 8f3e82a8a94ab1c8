package snapshot

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// A new month changes a few periods of the release tables, yet a full copy
// rewrites every period (an England warehouse's snapshot is 1.5 GB, 36 s).
// So a snapshot records what it holds — per release relation, its columns
// and a fingerprint of each period's rows — in a file beside it, and the
// next publish starts from a copy of the current snapshot, replacing only
// the periods (or relations) whose fingerprints differ. Everything else a
// snapshot holds (marts views, macros, analyst views, remarks) is made
// afresh each time, as in a full copy. The rows are the same as a full
// copy's; their physical order may differ, as a table's order is not part
// of what SQL returns without ORDER BY.

// stateVersion changes whenever the fingerprints change meaning.
const stateVersion = 1

// copyState is what a snapshot holds, written to its state file.
type copyState struct {
	Version int `json:"version"`
	// DuckDB is the library version that wrote the snapshot: another
	// version copies in full (its storage format may differ).
	DuckDB string `json:"duckdb"`
	// FullBytes is the size of the last full copy this snapshot descends
	// from: deleted rows leave free blocks, so once a snapshot grows past
	// maxGrowth times it, the next publish copies in full.
	FullBytes int64                `json:"full_bytes"`
	Relations map[string]*relState `json:"relations"`
}

// relState describes one release relation: its columns (names and types in
// order), whether it has a period column, and a fingerprint ("rows:sum of
// row hashes") per period, or of the whole relation under "".
type relState struct {
	Columns string            `json:"columns"`
	Period  bool              `json:"period"`
	Parts   map[string]string `json:"parts"`
}

// maxGrowth bounds a snapshot copied by parts against its last full copy;
// growthSlack lets a small one grow by whole blocks (a full copy of it is
// quick anyway).
const (
	maxGrowth   = 1.5
	growthSlack = 64 << 20
)

// nullPart keys a relation's rows whose period is NULL.
const nullPart = "<NULL>"

// CopyReport says how a snapshot was made.
type CopyReport struct {
	// FromPrevious is true when the snapshot started from a copy of the
	// previous one, false for a full copy of the warehouse.
	FromPrevious bool
	// Kept, Replaced: release relations kept as they were, copied whole;
	// Refreshed: relation -> the periods replaced.
	Kept, Replaced []string
	Refreshed      map[string][]string
}

func (r CopyReport) String() string {
	if !r.FromPrevious {
		return "full copy"
	}
	out := fmt.Sprintf("from the previous snapshot: %d relations kept", len(r.Kept))
	if len(r.Replaced) > 0 {
		out += ", replaced " + strings.Join(r.Replaced, ", ")
	}
	for _, t := range slices.Sorted(maps.Keys(r.Refreshed)) {
		out += fmt.Sprintf(", %s refreshed for %s", t, strings.Join(r.Refreshed[t], " "))
	}
	return out
}

// statePath is the state file of snapshot name in dir (hidden, so List and
// readers never take it for a snapshot).
func statePath(dir, name string) string { return filepath.Join(dir, statePrefix+name+".json") }

// statePrefix starts the name of state files and of their temporary files
// (statePrefix<pid>-*.tmp, removed by removeOrphanTmps once their process is gone).
const statePrefix = ".state-"

// readState reads the state of snapshot name; nil when it has none.
func readState(dir, name string) *copyState {
	b, err := os.ReadFile(statePath(dir, name))
	if err != nil {
		return nil
	}
	var st copyState
	if json.Unmarshal(b, &st) != nil || st.Version != stateVersion || st.Relations == nil {
		return nil
	}
	return &st
}

// writeState writes the state file of snapshot name. It is a hint for the
// next publish: losing it (a crash before it is renamed into place) costs
// a full copy, never a wrong one.
func writeState(dir, name string, st *copyState) error {
	b, err := json.Marshal(st)
	if err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, fmt.Sprintf("%s%d-*.tmp", statePrefix, os.Getpid()))
	if err != nil {
		return err
	}
	_, werr := f.Write(b)
	if werr == nil {
		werr = f.Chmod(0o644)
	}
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr == nil {
		werr = os.Rename(f.Name(), statePath(dir, name))
	}
	if werr != nil {
		os.Remove(f.Name())
	}
	return werr
}

// releaseState fingerprints every release relation of the attached
// database src; nil when src has no release layer.
func releaseState(ctx context.Context, conn *sql.Conn, src string) (*copyState, error) {
	rels, err := releaseRelations(ctx, conn, src)
	if err != nil || len(rels) == 0 {
		return nil, err
	}
	st := &copyState{Version: stateVersion, Relations: map[string]*relState{}}
	if err := conn.QueryRowContext(ctx, "SELECT library_version FROM pragma_version()").Scan(&st.DuckDB); err != nil {
		return nil, fmt.Errorf("duckdb version: %w", err)
	}
	recorded, err := recordedState(ctx, conn, src)
	if err != nil {
		return nil, err
	}
	for _, r := range rels {
		cols, err := queryStrings(ctx, conn, `SELECT column_name || ' ' || data_type FROM duckdb_columns()
			WHERE database_name = ? AND schema_name = 'release' AND table_name = ? ORDER BY column_index`, src, r)
		if err != nil {
			return nil, err
		}
		rs := &relState{Columns: strings.Join(cols, ", "), Parts: map[string]string{}}
		rs.Period = slices.ContainsFunc(cols, func(c string) bool { return strings.HasPrefix(c, "period ") })
		if rec, ok := recorded[r]; ok && rec.byPeriod == rs.Period {
			rs.Parts = rec.parts
			st.Relations[r] = rs
			continue
		}
		key := "''"
		if rs.Period {
			key = "coalesce(CAST(t.period AS VARCHAR), " + quote(nullPart) + ")"
		}
		q := fmt.Sprintf(`SELECT %s, count(*), CAST(coalesce(sum(hash(t)), 0) AS VARCHAR) FROM %s.release.%s AS t GROUP BY 1`,
			key, quoteIdent(src), quoteIdent(r))
		rows, err := conn.QueryContext(ctx, q)
		if err != nil {
			return nil, fmt.Errorf("fingerprint release.%s: %w", r, err)
		}
		for rows.Next() {
			var part, sum string
			var n int64
			if err := rows.Scan(&part, &n, &sum); err != nil {
				rows.Close()
				return nil, fmt.Errorf("fingerprint release.%s: %w", r, err)
			}
			rs.Parts[part] = strconv.FormatInt(n, 10) + ":" + sum
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, fmt.Errorf("fingerprint release.%s: %w", r, err)
		}
		st.Relations[r] = rs
	}
	return st, nil
}

// recorded is a release relation's fingerprints as the build recorded them.
type recorded struct {
	byPeriod bool
	parts    map[string]string
}

// recordedState reads the fingerprints the build recorded for the release
// relations (_gplens.release_state, written by gplens transform: its own
// table fingerprints, the same formula as releaseState's, and ones derived
// from their inputs for the views it can), so they need not be computed
// again from every row; none from a warehouse built before they were.
func recordedState(ctx context.Context, conn *sql.Conn, src string) (map[string]recorded, error) {
	var n int
	if err := conn.QueryRowContext(ctx, `SELECT count(*) FROM duckdb_tables()
		WHERE database_name = ? AND schema_name = '_gplens' AND table_name = 'release_state'`, src).Scan(&n); err != nil {
		return nil, fmt.Errorf("look up the build's release fingerprints: %w", err)
	}
	out := map[string]recorded{}
	if n == 0 {
		return out, nil
	}
	rows, err := conn.QueryContext(ctx, fmt.Sprintf(`SELECT relation, coalesce(period_column, ''), part, fingerprint
		FROM %s._gplens.release_state`, quoteIdent(src)))
	if err != nil {
		return nil, fmt.Errorf("read the build's release fingerprints: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var rel, pcol string
		var part, fp sql.NullString
		if err := rows.Scan(&rel, &pcol, &part, &fp); err != nil {
			return nil, fmt.Errorf("read the build's release fingerprints: %w", err)
		}
		if pcol != "" && pcol != "period" {
			continue // keyed otherwise than releaseState keys a relation: hashed instead
		}
		r, ok := out[rel]
		if !ok {
			r = recorded{byPeriod: pcol == "period", parts: map[string]string{}}
		}
		if part.Valid && fp.Valid {
			r.parts[part.String] = fp.String
		}
		out[rel] = r
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("read the build's release fingerprints: %w", err)
	}
	return out, nil
}

// previous is the current snapshot of dir and its state, when a new
// snapshot may start from it: it has a state written by this DuckDB
// version and has not grown past maxGrowth of its last full copy (or by
// more than growthSlack).
func previous(dir string, cur *copyState) (path string, st *copyState) {
	if cur == nil {
		return "", nil
	}
	name, err := readCurrent(dir)
	if err != nil {
		return "", nil
	}
	st = readState(dir, name)
	if st == nil || st.DuckDB != cur.DuckDB || st.FullBytes <= 0 {
		return "", nil
	}
	path = filepath.Join(dir, name)
	fi, err := os.Stat(path)
	if err != nil || float64(fi.Size()) > max(maxGrowth*float64(st.FullBytes), float64(st.FullBytes+growthSlack)) {
		return "", nil
	}
	return path, st
}

// copyFile copies src to a new file dst (in the kernel where it can).
func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	_, err = io.Copy(out, in)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}

// errNotReaderCopy: the previous snapshot holds more than a reader copy
// (an older gplens, a warehouse without a release layer); copy in full.
var errNotReaderCopy = errors.New("the previous snapshot is not a copy of a release layer")

// updateFromPrevious makes the attached database dst, a copy of the
// previous snapshot whose state is prev, hold what a full copy of src
// (state cur) would: release relations kept, refreshed by period or
// replaced as their fingerprints say; marts, macros and analyst views made
// afresh.
func updateFromPrevious(ctx context.Context, conn *sql.Conn, src, dst string, prev, cur *copyState) (CopyReport, error) {
	rep := CopyReport{FromPrevious: true, Refreshed: map[string][]string{}}
	exec := execer(ctx, conn)
	schemas, err := queryStrings(ctx, conn, `SELECT schema_name FROM duckdb_schemas()
		WHERE database_name = ? AND NOT internal AND schema_name NOT IN ('main', 'release', 'marts', 'analyst')`, dst)
	if err != nil {
		return rep, err
	}
	have, err := queryStrings(ctx, conn, `SELECT table_name FROM duckdb_tables()
		WHERE database_name = ? AND schema_name = 'release' ORDER BY 1`, dst)
	if err != nil {
		return rep, err
	}
	if len(schemas) > 0 || !slices.Equal(have, slices.Sorted(maps.Keys(prev.Relations))) {
		return rep, errNotReaderCopy
	}
	// What depends on the release tables goes first; it is made afresh.
	for _, s := range []string{"analyst", "marts"} {
		if err := exec("DROP SCHEMA IF EXISTS " + quoteIdent(dst) + "." + s + " CASCADE"); err != nil {
			return rep, err
		}
	}
	macros, err := queryStrings(ctx, conn, `SELECT DISTINCT
			CASE function_type WHEN 'table_macro' THEN 'MACRO TABLE ' ELSE 'MACRO ' END || ? || '.main.' || '"' || replace(function_name, '"', '""') || '"'
		FROM duckdb_functions() WHERE database_name = ? AND schema_name = 'main' AND NOT internal
			AND function_type IN ('macro', 'table_macro') ORDER BY 1`, quoteIdent(dst), dst)
	if err != nil {
		return rep, err
	}
	for _, m := range macros {
		if err := exec("DROP " + m); err != nil {
			return rep, err
		}
	}
	for _, t := range slices.Sorted(maps.Keys(prev.Relations)) {
		if cur.Relations[t] == nil {
			if err := exec(fmt.Sprintf("DROP TABLE %s.release.%s", quoteIdent(dst), quoteIdent(t))); err != nil {
				return rep, err
			}
			rep.Replaced = append(rep.Replaced, t)
		}
	}
	tables := slices.Sorted(maps.Keys(cur.Relations))
	for _, t := range tables {
		c, p := cur.Relations[t], prev.Relations[t]
		periods, whole := changedParts(p, c)
		switch {
		case whole:
			if p != nil {
				if err := exec(fmt.Sprintf("DROP TABLE %s.release.%s", quoteIdent(dst), quoteIdent(t))); err != nil {
					return rep, err
				}
			}
			if err := exec(copyRelation(src, dst, t)); err != nil {
				return rep, err
			}
			rep.Replaced = append(rep.Replaced, t)
		case len(periods) == 0:
			rep.Kept = append(rep.Kept, t)
		default:
			in := periodCondition(periods)
			if err := exec(fmt.Sprintf("DELETE FROM %s.release.%s AS t WHERE %s", quoteIdent(dst), quoteIdent(t), in)); err != nil {
				return rep, err
			}
			if err := exec(fmt.Sprintf("INSERT INTO %s.release.%s SELECT * FROM %s.release.%s AS t WHERE %s",
				quoteIdent(dst), quoteIdent(t), quoteIdent(src), quoteIdent(t), in)); err != nil {
				return rep, err
			}
			rep.Refreshed[t] = periods
		}
	}
	slices.Sort(rep.Replaced)
	return rep, readerObjects(ctx, conn, src, dst, tables)
}

// changedParts compares a relation's state in the previous snapshot (p, nil
// when it had none) with the warehouse's (c): the periods to replace, or
// whole when the relation is copied whole (new, other columns, no period
// column, or more than half its rows changed: one copy is then cheaper).
func changedParts(p, c *relState) (periods []string, whole bool) {
	if p == nil || p.Columns != c.Columns || p.Period != c.Period {
		return nil, true
	}
	var changed, total int64
	for _, k := range slices.Sorted(maps.Keys(c.Parts)) {
		total += partRows(c.Parts[k])
		if p.Parts[k] != c.Parts[k] {
			periods = append(periods, k)
			changed += partRows(c.Parts[k])
		}
	}
	for _, k := range slices.Sorted(maps.Keys(p.Parts)) {
		if _, ok := c.Parts[k]; !ok {
			periods = append(periods, k) // a period gone from the warehouse
		}
	}
	if len(periods) > 0 && (!c.Period || 2*changed > total) {
		return nil, true
	}
	slices.Sort(periods)
	return periods, false
}

func partRows(fp string) int64 {
	n, _ := strconv.ParseInt(fp[:max(0, strings.IndexByte(fp, ':'))], 10, 64)
	return n
}

// periodCondition selects the rows of periods (nullPart: NULL periods) of alias t.
func periodCondition(periods []string) string {
	var in []string
	null := false
	for _, p := range periods {
		if p == nullPart {
			null = true
			continue
		}
		in = append(in, quote(p))
	}
	var conds []string
	if len(in) > 0 {
		conds = append(conds, "CAST(t.period AS VARCHAR) IN ("+strings.Join(in, ", ")+")")
	}
	if null {
		conds = append(conds, "t.period IS NULL")
	}
	return "(" + strings.Join(conds, " OR ") + ")"
}
