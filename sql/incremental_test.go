package sqlmodels

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/synth"
	"github.com/gplens/gplens/transform"
)

// buildInto ingests files into dir/lake and builds dir/warehouse.duckdb,
// reusing the previous warehouse unless full. One thread, so that floating-point
// sums are added in one order and the two builds can be compared to the bit.
func buildInto(ctx context.Context, t *testing.T, dir string, files []string, full bool) transform.Result {
	t.Helper()
	lake := filepath.Join(dir, "lake")
	for _, f := range files {
		if _, err := ingest.File(ctx, f, ingest.Options{Lake: lake, Quarantine: filepath.Join(dir, "quarantine")}); err != nil {
			t.Fatalf("ingest %s: %v", f, err)
		}
	}
	p, err := transform.Load(ctx, FS())
	if err != nil {
		t.Fatalf("load models: %v", err)
	}
	tables := lakeTables(lake)
	res, err := transform.Build(ctx, p, transform.Options{Warehouse: filepath.Join(dir, "warehouse.duckdb"), Lake: tables,
		Full: full, Threads: 1, Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatalf("build warehouse: %v", err)
	}
	return res
}

// TestNewMonthIncrementalEqualsFull generates a few months of synthetic
// England, builds them, adds the next month and builds incrementally, and
// compares every table with a full build of all the months from scratch:
// same columns, and the same rows to the bit.
func TestNewMonthIncrementalEqualsFull(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the warehouse three times")
	}
	ctx := context.Background()
	dir := t.TempDir()
	out := filepath.Join(dir, "extracts")
	const last = "2024-02"
	sum, err := synth.Generate(ctx, synth.Config{Out: out, Practices: 120, Months: 4, Seed: 11, EndMonth: last, SkipTruth: true})
	if err != nil {
		t.Fatal(err)
	}
	var early, late, all []string
	for _, f := range sum.Files {
		path := filepath.Join(out, filepath.FromSlash(f.Path))
		all = append(all, path)
		if strings.Contains(f.Path, "/"+last+"/") {
			late = append(late, path)
		} else {
			early = append(early, path)
		}
	}
	if len(late) == 0 || len(early) == 0 {
		t.Fatalf("no files of the month %s to add (%d files)", last, len(all))
	}

	inc := filepath.Join(dir, "incremental")
	buildInto(ctx, t, inc, early, false)
	res := buildInto(ctx, t, inc, late, false)
	buildInto(ctx, t, filepath.Join(dir, "full"), all, true)

	// The month was really added incrementally: the big period-partitioned
	// models recomputed the new month (and its financial year where the
	// year's figures rest on its latest month: peers' age profiles) only.
	fy := "2023-24"
	byName := map[string]transform.ModelResult{}
	for _, m := range res.Models {
		byName[m.Name] = m
		t.Logf("%-28s %-9s periods %v changed %v %v", m.Name, m.Action, m.Periods, m.Changed, m.ChangedPeriods)
	}
	for _, name := range []string{"core.area_names", "core.indicator_facts", "core.indicator_rows", "marts.peers", "marts.peer_comparisons", "core.indicator_values",
		"marts.inequality_deciles", "disclosure.cells", "core.inequality", "disclosure.indicator_values",
		"release.inequality_deciles", "disclosure.inequality"} {
		m := byName[name]
		if m.Action != transform.Refreshed || !slices.Contains(m.Periods, last) ||
			slices.ContainsFunc(m.Periods, func(p string) bool { return p != last && p != fy }) {
			t.Errorf("%s: %s for %v, want refreshed for %s (and %s at most) (%s)", name, m.Action, m.Periods, last, fy, res.Summary())
		}
	}
	for _, name := range []string{"marts.indicator_values", "release.indicator_values", "marts.inequality", "release.inequality"} {
		if m := byName[name]; m.Action != transform.Viewed {
			t.Errorf("%s: %s, want a view (the numbers without names plus the current names)", name, m.Action)
		}
	}
	if m := byName["core.practices"]; m.Action != transform.Rebuilt || !slices.Equal(m.ChangedPeriods, []string{last}) {
		t.Errorf("core.practices: %s, changed %v in %v; want rebuilt, changed in [%s] only", m.Action, m.Changed, m.ChangedPeriods, last)
	}
	if m := byName["marts.trends"]; m.Action != transform.Rebuilt {
		t.Errorf("marts.trends %s, want rebuilt: an XmR chart's limits come from every month", m.Action)
	}
	if res.TestsScoped == 0 {
		t.Errorf("no test was scoped to the new month (%s)", res.Summary())
	}

	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	for alias, sub := range map[string]string{"incw": "incremental", "fullw": "full"} {
		if _, err := db.ExecContext(ctx, fmt.Sprintf("ATTACH '%s' AS %s (READ_ONLY)", filepath.Join(dir, sub, "warehouse.duckdb"), alias)); err != nil {
			t.Fatal(err)
		}
	}
	tables, incTables := tableNames(t, db, "fullw"), tableNames(t, db, "incw")
	if !slices.Equal(tables, incTables) {
		t.Fatalf("tables differ:\nincremental %v\nfull        %v", incTables, tables)
	}
	for _, want := range []string{"core.indicator_values", "disclosure.indicator_values", "disclosure.trends", "disclosure.cells"} {
		if !slices.Contains(tables, want) {
			t.Fatalf("no %s among the tables compared: %v", want, tables)
		}
	}
	// the named views too: the incremental build's names are the full build's
	tables = append(tables, "marts.indicator_values", "release.indicator_values", "marts.inequality", "release.inequality", "release.trends")
	compared := 0
	for _, name := range tables {
		fc := queryString(t, db, fmt.Sprintf("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE database_name = 'fullw' AND schema_name || '.' || table_name = '%s'", name))
		ic := queryString(t, db, fmt.Sprintf("SELECT string_agg(column_name || ' ' || data_type, ', ' ORDER BY column_index) FROM duckdb_columns() WHERE database_name = 'incw' AND schema_name || '.' || table_name = '%s'", name))
		if fc != ic {
			t.Errorf("%s: columns differ:\nincremental %s\nfull        %s", name, ic, fc)
			continue
		}
		// Floating-point sums depend on the order rows are added in, which
		// differs between any two builds whose tables hold other rows (a full
		// build of fewer months too). So rows are matched on their other
		// columns, which must then be equal, and doubles compared to a relative
		// 1e-9; the bit-level differences are logged. A table whose other
		// columns do not identify its rows is compared exactly.
		var keys, dbls []string
		for _, c := range strings.Split(fc, ", ") {
			col, typ, _ := strings.Cut(c, " ")
			if typ == "DOUBLE" || typ == "FLOAT" {
				dbls = append(dbls, `"`+col+`"`)
			} else {
				keys = append(keys, `"`+col+`"`)
			}
		}
		var rows, bitsDiffer int64
		if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM fullw.%[1]s),
			(SELECT count(*) FROM (SELECT * FROM fullw.%[1]s EXCEPT ALL SELECT * FROM incw.%[1]s))
			+ (SELECT count(*) FROM (SELECT * FROM incw.%[1]s EXCEPT ALL SELECT * FROM fullw.%[1]s))`, name)).Scan(&rows, &bitsDiffer); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		compared++
		if bitsDiffer == 0 {
			continue
		}
		var dupKeys int64
		if len(keys) > 0 && len(dbls) > 0 {
			k := strings.Join(keys, ", ")
			if err := db.QueryRowContext(ctx, fmt.Sprintf(`SELECT (SELECT count(*) FROM incw.%[1]s) - (SELECT count(*) FROM (SELECT DISTINCT %[2]s FROM incw.%[1]s))
				+ (SELECT count(*) FROM fullw.%[1]s) - (SELECT count(*) FROM (SELECT DISTINCT %[2]s FROM fullw.%[1]s))`, name, k)).Scan(&dupKeys); err != nil {
				t.Fatalf("%s: %v", name, err)
			}
		}
		if len(keys) == 0 || len(dbls) == 0 || dupKeys > 0 {
			t.Errorf("%s: %d rows differ between the incremental and the full build (of %d)", name, bitsDiffer, rows)
			continue
		}
		var on, far []string
		for _, k := range keys {
			on = append(on, fmt.Sprintf("f.%[1]s IS NOT DISTINCT FROM i.%[1]s", k))
		}
		for _, d := range dbls {
			far = append(far, fmt.Sprintf("NOT (f.%[1]s IS NOT DISTINCT FROM i.%[1]s OR abs(f.%[1]s - i.%[1]s) <= 1e-9 * greatest(abs(f.%[1]s), abs(i.%[1]s)))", d))
		}
		mismatch := fmt.Sprintf(`FROM (SELECT *, true AS _in FROM fullw.%[1]s) AS f FULL JOIN (SELECT *, true AS _in FROM incw.%[1]s) AS i ON %[2]s
			WHERE f._in IS NULL OR i._in IS NULL OR %[3]s`, name, strings.Join(on, " AND "), strings.Join(far, " OR "))
		var bad int64
		if err := db.QueryRowContext(ctx, "SELECT count(*) "+mismatch).Scan(&bad); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if bad > 0 {
			t.Errorf("%s: %d rows of the incremental and the full build differ (of %d); first of them (f: full, i: incremental):\n%s",
				name, bad, rows, strings.Join(sampleRows(t, db, "SELECT * "+mismatch+" LIMIT 3"), "\n"))
			continue
		}
		t.Logf("%s: %d rows (of both builds, %d each) differ only in the last bits of a double", name, bitsDiffer, rows)
	}
	if compared < 30 {
		t.Errorf("compared %d tables, want every table model (30 or more)", compared)
	}
}

func tableNames(t *testing.T, db *sql.DB, catalog string) []string {
	t.Helper()
	rows, err := db.Query(`SELECT schema_name || '.' || table_name FROM duckdb_tables()
		WHERE database_name = ? AND schema_name NOT IN ('lake', 'ref', '_gplens') ORDER BY 1`, catalog)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// sampleRows formats the rows of q, one line each.
func sampleRows(t *testing.T, db *sql.DB, q string) []string {
	t.Helper()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var out []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		parts := make([]string, len(cols))
		for i, c := range cols {
			parts[i] = fmt.Sprintf("%s=%v", c, vals[i])
		}
		out = append(out, "  "+strings.Join(parts, " "))
	}
	return out
}

func queryString(t *testing.T, db *sql.DB, q string) string {
	t.Helper()
	var s sql.NullString
	if err := db.QueryRow(q).Scan(&s); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return s.String
}

// TestAprilWithoutAnnualFiles: the first month of a financial year arrives
// months before that year's QOF and payments files. Adding it (April 2024,
// with no 2024-25 annual file) must build, incrementally as in full: April
// gets its practices, and no 2024-25 period is opened from April's practice
// map alone (core.hierarchy refused the build before).
func TestAprilWithoutAnnualFiles(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the warehouse twice")
	}
	ctx := context.Background()
	dir := t.TempDir()
	// (The April quarter of registrations by LSOA is loaded with the earlier
	// files: it is the only deprivation source here, so its arrival would
	// change every period's deciles, as the first LSOA quarter of a real
	// lake would.)
	early, april := aprilFiles(ctx, t, dir, synth.Config{Practices: 60, Months: 3, Seed: 5}, true)
	// April also renames an ICB (real months rename areas often; here the
	// month's practice map is the latest source of names): the name reaches
	// every period through the named views, and no earlier period's numbers
	// are recomputed for it.
	icb, renamed := renameICB(t, april)
	inc := filepath.Join(dir, "incremental")
	byName := buildMonth(ctx, t, inc, early, april)
	if m := byName["core.practices"]; len(m.ChangedPeriods) < 3 {
		t.Errorf("core.practices changed in %v; want every period (it carries the renamed ICB's name)", m.ChangedPeriods)
	}
	// the rename must not recompute earlier periods
	wantRefreshedOnly(t, byName, "2024-04", "core.indicator_facts", "core.indicator_rows", "marts.peers", "core.indicator_values",
		"disclosure.indicator_values", "core.inequality", "disclosure.inequality")
	db, err := duck.Open(ctx, filepath.Join(inc, "warehouse.duckdb"), duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var aprilPractices, fy2425 int
	if err := db.QueryRow(`SELECT count(*) FILTER (WHERE period = '2024-04'), count(*) FILTER (WHERE period = '2024-25') FROM core.practices`).Scan(&aprilPractices, &fy2425); err != nil {
		t.Fatal(err)
	}
	if aprilPractices == 0 || fy2425 != 0 {
		t.Errorf("core.practices: %d practices in 2024-04 (want some), %d in 2024-25 (want none)", aprilPractices, fy2425)
	}
	for _, view := range []string{"marts.indicator_values", "release.indicator_values", "marts.inequality", "release.inequality"} {
		var periods, named int
		if err := db.QueryRow(fmt.Sprintf(`SELECT count(DISTINCT period), count(DISTINCT period) FILTER (WHERE area_name = ?)
			FROM %s WHERE area_level = 'icb' AND area_code = ?`, view), renamed, icb).Scan(&periods, &named); err != nil {
			t.Fatal(err)
		}
		if periods < 2 || named != periods {
			t.Errorf("%s: ICB %s is named %q in %d of its %d periods, want all (renamed in 2024-04)", view, icb, renamed, named, periods)
		}
	}
}

// renameICB renames, in the practice map among files, the ICB of its first
// practice, and returns the ICB's code and new name.
func renameICB(t *testing.T, files []string) (code, name string) {
	t.Helper()
	for _, f := range files {
		if filepath.Base(f) != "gp-reg-pat-prac-map.csv" {
			continue
		}
		rewriteCSV(t, f, func(recs [][]string) [][]string {
			ci, ni := slices.Index(recs[0], "ICB_CODE"), slices.Index(recs[0], "ICB_NAME")
			if ci < 0 || ni < 0 {
				t.Fatalf("%s: no ICB_CODE/ICB_NAME in %v", f, recs[0])
			}
			code, name = recs[1][ci], "NHS RENAMED IN THE NEW MONTH INTEGRATED CARE BOARD"
			for _, r := range recs[1:] {
				if r[ci] == code {
					r[ni] = name
				}
			}
			return recs
		})
		return code, name
	}
	t.Fatalf("no practice map among %v", files)
	return "", ""
}

// TestNewQuarterRestatesNoEarlierPeriod: a quarter of registrations by LSOA
// (April 2024) brings a practice's first LSOA rows (here one left out of the
// January quarter, as a practice opened since would be). Its deprivation in
// earlier periods must not come from the new quarter: that would change its
// deciles there, and those of every practice whose rank it moves, each time a
// quarter arrives, so the month would refresh every earlier period. The
// incremental build's practices must still equal a full build's.
func TestNewQuarterRestatesNoEarlierPeriod(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the warehouse twice")
	}
	ctx := context.Background()
	dir := t.TempDir()
	early, april := aprilFiles(ctx, t, dir, synth.Config{Practices: 60, Months: 4, Seed: 7}, false)
	isLSOA := func(p string) bool { return strings.Contains(p, "lsoa") }
	var january string
	if i := slices.IndexFunc(early, func(p string) bool { return isLSOA(p) && strings.Contains(p, "/2024-01/") }); i >= 0 {
		january = early[i]
	}
	if january == "" || !slices.ContainsFunc(april, isLSOA) {
		t.Fatalf("want LSOA quarters in January and April: %v, %v", early, april)
	}
	code := dropFirstPractice(t, january)

	inc := filepath.Join(dir, "incremental")
	byName := buildMonth(ctx, t, inc, early, april)
	if m := byName["core.practices"]; !slices.Equal(m.ChangedPeriods, []string{"2024-04"}) {
		t.Errorf("core.practices changed in %v, want [2024-04] only", m.ChangedPeriods)
	}
	wantRefreshedOnly(t, byName, "2024-04", "core.indicator_rows", "marts.peers", "core.indicator_values", "marts.inequality_deciles", "disclosure.cells")

	full := filepath.Join(dir, "full")
	buildInto(ctx, t, full, append(slices.Clone(early), april...), true)
	db, err := duck.Open(ctx, filepath.Join(inc, "warehouse.duckdb"), duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	if _, err := db.ExecContext(ctx, fmt.Sprintf("ATTACH '%s' AS fullw (READ_ONLY)", filepath.Join(full, "warehouse.duckdb"))); err != nil {
		t.Fatal(err)
	}
	var scored, unscored, differ int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FILTER (WHERE imd_score IS NOT NULL AND period = '2024-04'),
			count(*) FILTER (WHERE imd_score IS NULL AND period <> '2024-04')
		FROM core.practices WHERE practice_code = ?`, code).Scan(&scored, &unscored); err != nil {
		t.Fatal(err)
	}
	if scored != 1 || unscored < 3 {
		t.Errorf("%s: scored in April %d times (want 1), unscored in %d earlier periods (want January to March at least)", code, scored, unscored)
	}
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM (
			(SELECT * FROM core.practices EXCEPT ALL SELECT * FROM fullw.core.practices)
			UNION ALL (SELECT * FROM fullw.core.practices EXCEPT ALL SELECT * FROM core.practices))`).Scan(&differ); err != nil {
		t.Fatal(err)
	}
	if differ != 0 {
		t.Errorf("core.practices: %d rows differ between the incremental and the full build", differ)
	}
}

// buildMonth builds early into the workspace inc, then month on top of it
// (incrementally), and returns the month's models by name.
func buildMonth(ctx context.Context, t *testing.T, inc string, early, month []string) map[string]transform.ModelResult {
	t.Helper()
	buildInto(ctx, t, inc, early, false)
	res := buildInto(ctx, t, inc, month, false)
	byName := map[string]transform.ModelResult{}
	for _, m := range res.Models {
		byName[m.Name] = m
		t.Logf("%-28s %-9s periods %v changed %v %v", m.Name, m.Action, m.Periods, m.Changed, m.ChangedPeriods)
	}
	return byName
}

// wantRefreshedOnly: each model named was refreshed for period alone.
func wantRefreshedOnly(t *testing.T, byName map[string]transform.ModelResult, period string, names ...string) {
	t.Helper()
	for _, name := range names {
		if m := byName[name]; m.Action != transform.Refreshed || !slices.Equal(m.Periods, []string{period}) {
			t.Errorf("%s: %s for %v, want refreshed for [%s] only", name, m.Action, m.Periods, period)
		}
	}
}

// dropFirstPractice removes the rows of the first practice in a
// registrations-by-LSOA file and returns its code.
func dropFirstPractice(t *testing.T, file string) (code string) {
	t.Helper()
	rewriteCSV(t, file, func(recs [][]string) [][]string {
		ci := slices.Index(recs[0], "PRACTICE_CODE")
		if ci < 0 {
			t.Fatalf("%s: no PRACTICE_CODE in %v", file, recs[0])
		}
		code = recs[1][ci]
		return slices.DeleteFunc(recs, func(r []string) bool { return r[ci] == code })
	})
	return code
}

// aprilFiles generates cfg's months of synthetic England up to April 2024
// into dir/extracts and splits the files as they arrive in life: April's
// (its quarter of registrations by LSOA among them unless lsoaEarly), and
// the earlier ones. The 2024-25 QOF and payments files are left out: a
// year's annual files are published long after its April.
func aprilFiles(ctx context.Context, t *testing.T, dir string, cfg synth.Config, lsoaEarly bool) (early, april []string) {
	t.Helper()
	cfg.Out, cfg.EndMonth, cfg.SkipTruth = filepath.Join(dir, "extracts"), "2024-04", true
	sum, err := synth.Generate(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range sum.Files {
		path := filepath.Join(cfg.Out, filepath.FromSlash(f.Path))
		switch {
		case strings.Contains(f.Path, "2024-25") || strings.Contains(f.Path, "24-25") || strings.Contains(f.Path, "2425"):
		case strings.Contains(f.Path, "/2024-04/") && !(lsoaEarly && strings.Contains(f.Path, "lsoa")):
			april = append(april, path)
		default:
			early = append(early, path)
		}
	}
	if len(april) == 0 {
		t.Fatal("no April files generated")
	}
	return early, april
}

// rewriteCSV reads a CSV file (a header and at least one record), lets edit
// change its records and writes them back.
func rewriteCSV(t *testing.T, file string, edit func(recs [][]string) [][]string) {
	t.Helper()
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(b)).ReadAll()
	if err != nil || len(recs) < 2 {
		t.Fatalf("read %s: %v (%d records)", file, err, len(recs))
	}
	var out bytes.Buffer
	w := csv.NewWriter(&out)
	if err := w.WriteAll(edit(recs)); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(file, out.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}
