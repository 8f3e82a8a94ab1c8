package transform

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/duck/ducktest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// lakeFixture writes tiny Hive-partitioned Parquet files with DuckDB.
type lakeFixture struct {
	t   testing.TB
	dir string
	db  *sql.DB
}

func newLake(t testing.TB) *lakeFixture {
	t.Helper()
	db, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return &lakeFixture{t: t, dir: t.TempDir(), db: db}
}

// write runs query into <dir>/<rel> as Parquet.
func (l *lakeFixture) write(rel, query string) {
	l.t.Helper()
	path := filepath.Join(l.dir, rel)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		l.t.Fatal(err)
	}
	if _, err := l.db.Exec(fmt.Sprintf("COPY (%s) TO %s (FORMAT parquet)", query, quoteString(path))); err != nil {
		l.t.Fatalf("write %s: %v", rel, err)
	}
}

// achievement writes one period of achievement rows for practices A1..An.
func (l *lakeFixture) achievement(period string, practices int, seed int) {
	l.t.Helper()
	l.write("achievement/period="+period+"/part-0.parquet", fmt.Sprintf(`
		SELECT 'A' || p AS practice_code, ind AS indicator, measure,
		       CASE measure WHEN 'DENOMINATOR' THEN 100.0 ELSE ((p * 7 + %d) %% 90)::DOUBLE END AS value
		FROM range(1, %d) r(p), (VALUES ('AF001'), ('DM012')) i(ind), (VALUES ('NUMERATOR'), ('DENOMINATOR')) m(measure)`,
		seed, practices+1))
}

func (l *lakeFixture) practices(n int) {
	l.t.Helper()
	l.write("practices/part-0.parquet", fmt.Sprintf(
		"SELECT 'A' || p AS practice_code, 'Practice ' || p AS name FROM range(1, %d) r(p)", n+1))
}

func (l *lakeFixture) tables() []LakeTable {
	return []LakeTable{
		{Name: "achievement", Glob: filepath.Join(l.dir, "achievement", "*", "*.parquet"),
			Columns: "practice_code VARCHAR, indicator VARCHAR, measure VARCHAR, value DOUBLE, period VARCHAR"},
		{Name: "practices", Glob: filepath.Join(l.dir, "practices", "*.parquet"),
			Columns: "practice_code VARCHAR, name VARCHAR"},
	}
}

func actions(r Result) map[string]Action {
	out := map[string]Action{}
	for _, m := range r.Models {
		out[m.Name] = m.Action
	}
	return out
}

// query runs q against a warehouse file opened read-only and returns the rows as strings.
func query(t *testing.T, warehouse, q string) []string {
	t.Helper()
	db, err := duck.Open(context.Background(), warehouse, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.Query(q)
	if err != nil {
		t.Fatalf("%s: %v", q, err)
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
		out = append(out, strings.TrimSuffix(fmt.Sprintln(vals...), "\n"))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func TestBuildMaterialisesViewsAndTables(t *testing.T) {
	ctx := context.Background()
	p := load(t, "testdata/basic")
	l := newLake(t)
	l.practices(3)
	l.achievement("2024-01", 3, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full || res.Tests == 0 {
		t.Errorf("first build: full=%v tests=%d", res.Full, res.Tests)
	}
	got := query(t, wh, `SELECT table_schema || '.' || table_name, table_type FROM information_schema.tables
		WHERE table_schema IN ('lake', 'staging', 'core', 'marts') ORDER BY 1`)
	want := []string{
		"core.achievement BASE TABLE", "core.practices BASE TABLE",
		"lake.achievement VIEW", "lake.practices VIEW",
		"marts.by_period BASE TABLE", "marts.practice_list BASE TABLE", "marts.practice_period BASE TABLE",
		"staging.achievement VIEW", "staging.practices VIEW",
	}
	if !slices.Equal(got, want) {
		t.Errorf("tables:\n got %v\nwant %v", got, want)
	}
	// Views still resolve after the file was renamed into place, and macros persist.
	if got := query(t, wh, "SELECT count(*) FROM staging.achievement"); !slices.Equal(got, []string{"12"}) {
		t.Errorf("staging.achievement rows = %v, want 12", got)
	}
	if got := query(t, wh, "SELECT percent FROM core.achievement WHERE practice_code = 'A1' AND indicator = 'AF001'"); !slices.Equal(got, []string{"7"}) {
		t.Errorf("percent = %v, want 7", got)
	}
	for _, m := range res.Models {
		isView := m.Action == Viewed
		if isView != strings.HasPrefix(m.Name, "staging.") || (isView && m.Rows != -1) || (!isView && m.Rows <= 0) {
			t.Errorf("%s: action %s rows %d", m.Name, m.Action, m.Rows)
		}
	}
	if leftovers, _ := filepath.Glob(wh + ".building-*"); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

func TestBuildEmptyLake(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"staging/events.sql": {Data: []byte("-- incremental: period\nSELECT practice_code, n, period FROM lake.events")},
		"core/totals.sql":    {Data: []byte("-- not_null: practice_code\nSELECT practice_code, period, sum(n) AS n FROM staging.events GROUP BY ALL")},
	}
	p, err := Load(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	lake := []LakeTable{{Name: "events", Glob: filepath.Join(dir, "lake", "events", "*", "*.parquet"),
		Columns: "practice_code VARCHAR, n BIGINT, period VARCHAR"}}
	wh := filepath.Join(dir, "warehouse.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if got := query(t, wh, "SELECT count(*) FROM core.totals"); !slices.Equal(got, []string{"0"}) {
		t.Errorf("rows = %v, want 0", got)
	}
	got := query(t, wh, "SELECT column_name || ' ' || data_type FROM information_schema.columns WHERE table_schema = 'lake' ORDER BY ordinal_position")
	if !slices.Equal(got, []string{"practice_code VARCHAR", "n BIGINT", "period VARCHAR"}) {
		t.Errorf("empty lake columns = %v", got)
	}

	// The first files arrive: the lake table becomes a view and the model is rebuilt.
	l := newLake(t)
	l.dir = filepath.Join(dir, "lake")
	l.write("events/period=2024-01/part-0.parquet", "SELECT 'A1' AS practice_code, 5::BIGINT AS n")
	res, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res)["core.totals"]; a != Rebuilt {
		t.Errorf("core.totals %s, want rebuilt", a)
	}
	if got := query(t, wh, "SELECT practice_code, period, n FROM core.totals"); !slices.Equal(got, []string{"A1 2024-01 5"}) {
		t.Errorf("rows = %v", got)
	}

	// No Columns and no files is a clear error.
	lake[0].Columns = ""
	lake[0].Glob = filepath.Join(dir, "nowhere", "*.parquet")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "no Columns") {
		t.Errorf("err = %v, want a no Columns error", err)
	}
	// A model reading a lake table that is not configured is a clear error.
	if _, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet}); err == nil || !strings.Contains(err.Error(), "staging/events.sql") {
		t.Errorf("err = %v, want an error naming staging/events.sql", err)
	}
}

func TestDataTests(t *testing.T) {
	ref := "SELECT * FROM (VALUES (1), (2)) v(k)"
	cases := []struct {
		name, header string
		pass, fail   string // model SQL that passes / fails the test
		offending    string // expected in the failure's rows
	}{
		{"unique", "-- unique: k, s",
			"SELECT * FROM (VALUES (1, 'a'), (1, 'b'), (2, 'a')) v(k, s)",
			"SELECT * FROM (VALUES (1, 'a'), (1, 'a'), (2, 'a')) v(k, s)", `k=1 s="a" duplicates=2`},
		{"not_null", "-- not_null: k, s",
			"SELECT * FROM (VALUES (1, 'a'), (2, 'b')) v(k, s)",
			"SELECT * FROM (VALUES (1, 'a'), (2, NULL)) v(k, s)", `k=2 s=NULL`},
		{"accepted_values", "-- accepted_values: s in ('a', 'b')",
			"SELECT * FROM (VALUES ('a'), ('b'), (NULL)) v(s)",
			"SELECT * FROM (VALUES ('a'), ('c')) v(s)", `s="c"`},
		{"relationships", "-- relationships: k -> core.ref.k",
			"SELECT * FROM (VALUES (1), (2), (NULL)) v(k)",
			"SELECT * FROM (VALUES (1), (9)) v(k)", `k=9`},
		{"range", "-- range: v between 0 and 100",
			"SELECT * FROM (VALUES (0.0), (100.0), (NULL)) t(v)",
			"SELECT * FROM (VALUES (50.0), (150.5)) t(v)", `v=150.5`},
		{"range comparison", "-- range: v >= 0",
			"SELECT * FROM (VALUES (0), (3)) t(v)",
			"SELECT * FROM (VALUES (-1), (3)) t(v)", `v=-1`},
		{"row_count", "-- row_count: > 0",
			"SELECT 1 AS k",
			"SELECT 1 AS k WHERE false", `row_count=0`},
		{"row_count between", "-- row_count: between 2 and 3",
			"SELECT * FROM range(3) r(k)",
			"SELECT * FROM range(4) r(k)", `row_count=4`},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, fail := range []bool{false, true} {
				body := c.pass
				if fail {
					body = c.fail
				}
				p, err := Load(context.Background(), fstest.MapFS{
					"core/ref.sql":    {Data: []byte(ref)},
					"marts/model.sql": {Data: []byte(c.header + "\n" + body)},
				})
				if err != nil {
					t.Fatal(err)
				}
				wh := filepath.Join(t.TempDir(), "w.duckdb")
				_, err = Build(context.Background(), p, Options{Warehouse: wh, Logger: quiet})
				if !fail {
					if err != nil {
						t.Errorf("passing data failed: %v", err)
					}
					continue
				}
				var tf *TestFailure
				if !errors.As(err, &tf) {
					t.Fatalf("want a *TestFailure, got %v", err)
				}
				kind := strings.Fields(c.name)[0]
				if tf.Test.Kind != kind || tf.Model != "marts.model" || tf.Count != 1 || len(tf.Rows) != 1 {
					t.Errorf("failure = kind %s model %s count %d rows %v", tf.Test.Kind, tf.Model, tf.Count, tf.Rows)
				}
				if !strings.Contains(err.Error(), c.offending) || !strings.Contains(err.Error(), "marts/model.sql") {
					t.Errorf("error %q lacks %q or the file", err, c.offending)
				}
				if _, statErr := os.Stat(wh); !errors.Is(statErr, fs.ErrNotExist) {
					t.Errorf("failed first build left a warehouse: %v", statErr)
				}
			}
		})
	}
}

func TestTestFailureShowsAtMostFiveRows(t *testing.T) {
	p, err := Load(context.Background(), fstest.MapFS{
		"core/m.sql": {Data: []byte("-- range: k < 3\nSELECT * FROM range(20) r(k)")},
	})
	if err != nil {
		t.Fatal(err)
	}
	_, err = Build(context.Background(), p, Options{Warehouse: filepath.Join(t.TempDir(), "w.duckdb"), Logger: quiet})
	var tf *TestFailure
	if !errors.As(err, &tf) || tf.Count != 17 || len(tf.Rows) != 5 {
		t.Fatalf("want 17 offending rows with 5 shown, got %v", err)
	}
}

func TestFailedBuildKeepsPreviousWarehouse(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	l.practices(3)
	l.achievement("2024-01", 3, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if _, err := Build(ctx, load(t, "testdata/basic"), Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	contents := func() []string { return warehouseContents(t, wh) }
	before := contents()
	fi, err := os.Stat(wh)
	if err != nil {
		t.Fatal(err)
	}

	// The same project with a test that now fails, and one whose SQL fails at run time.
	for _, broken := range []struct{ file, text, want string }{
		{"marts/by_period.sql", "-- row_count: > 5\nSELECT 1 AS period", "row_count"},
		{"marts/practice_list.sql", "SELECT no_such_column FROM core.practices", "marts/practice_list.sql"},
		// Enough rows that DuckDB writes them to the file before the commit
		// that never comes.
		{"marts/by_period.sql", "-- row_count: < 10\nSELECT r AS period, r * 2 AS n FROM range(1000000) t(r)", "row_count"},
	} {
		fsys := fstest.MapFS{}
		err = fs.WalkDir(os.DirFS("testdata/basic"), ".", func(path string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			b, err := os.ReadFile(filepath.Join("testdata/basic", path))
			fsys[path] = &fstest.MapFile{Data: b}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		fsys[broken.file] = &fstest.MapFile{Data: []byte(broken.text)}
		p, err := Load(ctx, fsys)
		if err != nil {
			t.Fatal(err)
		}
		l.achievement("2024-02", 3, 1) // new data that must not leak into the kept warehouse
		_, err = Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
		if err == nil || !strings.Contains(err.Error(), broken.want) {
			t.Fatalf("err = %v, want one mentioning %q", err, broken.want)
		}
		if after := contents(); !slices.Equal(before, after) {
			t.Errorf("failed build changed the warehouse:\nbefore %q\nafter  %q", before, after)
		}
		if fa, err := os.Stat(wh); err == nil {
			t.Logf("warehouse %d bytes before, %d after the failed build", fi.Size(), fa.Size())
		}
		if got := query(t, wh, "SELECT DISTINCT period FROM core.achievement"); !slices.Equal(got, []string{"2024-01"}) {
			t.Errorf("kept warehouse periods = %v", got)
		}
		if leftovers, _ := filepath.Glob(wh + ".building-*"); len(leftovers) > 0 {
			t.Errorf("temporary files left: %v", leftovers)
		}
	}
}

// twoMonths builds testdata/basic over January and February 2024 (four
// practices) into a new warehouse.
func twoMonths(t *testing.T) (*Project, *lakeFixture, string) {
	t.Helper()
	p := load(t, "testdata/basic")
	l := newLake(t)
	l.practices(4)
	l.achievement("2024-01", 4, 0)
	l.achievement("2024-02", 4, 1)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if _, err := Build(context.Background(), p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	return p, l, wh
}

// addMarchLikeFull adds March 2024 to twoMonths' lake, builds wh
// incrementally, and checks what each model did and that the warehouse
// equals a full build.
func addMarchLikeFull(t *testing.T, p *Project, l *lakeFixture, wh string, log *slog.Logger) {
	t.Helper()
	l.achievement("2024-03", 4, 2)
	res, err := Build(context.Background(), p, Options{Warehouse: wh, Lake: l.tables(), Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	got := actions(res)
	for name, want := range map[string]Action{"core.practices": Copied, "core.achievement": Refreshed, "marts.practice_period": Refreshed} {
		if got[name] != want {
			t.Errorf("%s: %s, want %s (%s)", name, got[name], want, res.Summary())
		}
	}
	full := filepath.Join(t.TempDir(), "full.duckdb")
	if _, err := Build(context.Background(), p, Options{Warehouse: full, Lake: l.tables(), Logger: quiet, Full: true}); err != nil {
		t.Fatal(err)
	}
	sameAsFullBuild(t, "", wh, full)
}

// warehouseContents is what a reader sees of a warehouse: every object,
// every table's rows, the build state. (Not the file's bytes: DuckDB may
// have written a failed build's rows to free blocks, which no committed
// state links to.)
func warehouseContents(t *testing.T, wh string) []string {
	t.Helper()
	out := catalog(t, wh)
	tables := tableContents(t, wh)
	for _, name := range slices.Sorted(maps.Keys(tables)) {
		out = append(out, name)
		out = append(out, tables[name]...)
	}
	for _, q := range []string{"SELECT * FROM _gplens.models ORDER BY ALL", "SELECT * FROM _gplens.runs ORDER BY ALL",
		"SELECT * FROM _gplens.lake_state ORDER BY ALL", "SELECT * FROM _gplens.table_state ORDER BY ALL"} {
		out = append(out, query(t, wh, q)...)
	}
	return out
}

// cancelAfter cancels a build after n models have finished (Progress).
type cancelAfter struct {
	n      int
	cancel context.CancelFunc
}

func (c *cancelAfter) Write(b []byte) (int, error) {
	c.n -= bytes.Count(b, []byte("models"))
	if c.n <= 0 {
		c.cancel()
	}
	return len(b), nil
}

// An incremental build cancelled part-way (Ctrl-C) rolls its transaction
// back: the warehouse holds what it held, and the next build succeeds and
// equals a full build.
func TestIncrementalCancelledRollsBack(t *testing.T) {
	p, l, wh := twoMonths(t)
	before := warehouseContents(t, wh)
	l.achievement("2024-03", 4, 2)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet, Progress: &cancelAfter{n: 3, cancel: cancel}})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context canceled", err)
	}
	if len(res.Models) < 3 || len(res.Models) >= len(p.models) {
		t.Fatalf("cancelled after %d of %d models; the test wants a build cut part-way", len(res.Models), len(p.models))
	}
	if after := warehouseContents(t, wh); !slices.Equal(before, after) {
		t.Errorf("a cancelled build changed the warehouse:\nbefore %q\nafter  %q", before, after)
	}
	addMarchLikeFull(t, p, l, wh, quiet)
}

// tableContents returns every base table of the model schemas, sorted, as text.
// sameAsFullBuild fails unless the incremental warehouse wh holds the same
// tables, rows and objects as the full build full (what is a prefix for
// the messages).
// checkStep checks an incremental build's result: the actions wanted, the
// periods every refreshed model refreshed, and the warehouse against a full
// build of the same lake.
func checkStep(t *testing.T, step string, p *Project, l *lakeFixture, wh string, res Result, want map[string]Action, periods []string) {
	t.Helper()
	got := actions(res)
	for name, w := range want {
		if got[name] != w {
			t.Errorf("%s: %s %s, want %s (%s)", step, name, got[name], w, res.Summary())
		}
	}
	for _, m := range res.Models {
		if m.Action == Refreshed && !slices.Equal(m.Periods, periods) {
			t.Errorf("%s: %s refreshed %v, want %v", step, m.Name, m.Periods, periods)
		}
	}
	full := filepath.Join(t.TempDir(), "full.duckdb")
	fres, err := Build(context.Background(), p, Options{Warehouse: full, Lake: l.tables(), Logger: quiet, Full: true})
	if err != nil {
		t.Fatalf("%s: full build: %v", step, err)
	}
	if !fres.Full {
		t.Errorf("%s: Full option ignored", step)
	}
	sameAsFullBuild(t, step+": ", wh, full)
}

func sameAsFullBuild(t *testing.T, what, wh, full string) {
	t.Helper()
	inc, fu := tableContents(t, wh), tableContents(t, full)
	if len(inc) == 0 || len(inc) != len(fu) {
		t.Fatalf("%stables %d vs %d", what, len(inc), len(fu))
	}
	for name, rows := range fu {
		if !slices.Equal(inc[name], rows) {
			t.Errorf("%s%s differs from a full build:\nincremental %v\nfull        %v", what, name, inc[name], rows)
		}
	}
	if ic, fc := catalog(t, wh), catalog(t, full); !slices.Equal(ic, fc) {
		t.Errorf("%sthe warehouse's objects differ from a full build's:\nincremental %v\nfull        %v", what, ic, fc)
	}
}

// execWarehouse runs statements on the warehouse file wh and closes it.
func execWarehouse(t *testing.T, wh string, stmts ...string) {
	t.Helper()
	db, err := duck.Open(context.Background(), wh, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

func tableContents(t *testing.T, wh string) map[string][]string {
	t.Helper()
	out := map[string][]string{}
	for _, name := range query(t, wh, `SELECT table_schema || '.' || table_name FROM information_schema.tables
		WHERE table_schema IN ('staging', 'core', 'marts', 'extra') AND table_type = 'BASE TABLE' ORDER BY 1`) {
		out[name] = query(t, wh, "SELECT * FROM "+name+" ORDER BY ALL")
	}
	return out
}

// catalog lists a warehouse's schemas, tables, views and macros, so an
// incremental build (which changes a copy of the previous file in place)
// can be checked to hold no leftover of the previous build.
func catalog(t *testing.T, wh string) []string {
	t.Helper()
	return query(t, wh, `SELECT * FROM (
		SELECT 'schema', schema_name, '' FROM duckdb_schemas() WHERE database_name = current_database() AND NOT internal
		UNION ALL SELECT 'table', schema_name, table_name FROM duckdb_tables() WHERE database_name = current_database()
		UNION ALL SELECT 'view', schema_name, view_name FROM duckdb_views() WHERE database_name = current_database() AND NOT internal
		UNION ALL SELECT DISTINCT function_type, schema_name, function_name FROM duckdb_functions()
			WHERE database_name = current_database() AND NOT internal AND function_type IN ('macro', 'table_macro')
	) ORDER BY ALL`)
}

// basicFS is testdata/basic as a MapFS, to be edited by a test.
func basicFS(t *testing.T) fstest.MapFS {
	t.Helper()
	fsys := fstest.MapFS{}
	err := fs.WalkDir(os.DirFS("testdata/basic"), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(filepath.Join("testdata/basic", path))
		fsys[path] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return fsys
}

func TestIncrementalMatchesFullBuild(t *testing.T) {
	ctx := context.Background()
	// The basic project plus a schema, a table, a view and macros that the
	// last step removes or changes.
	extra := basicFS(t)
	extra["functions/extra.sql"] = &fstest.MapFile{Data: []byte("CREATE OR REPLACE MACRO twice(x) AS 2 * x;\nCREATE OR REPLACE MACRO some_rows() AS TABLE SELECT 1 AS k;")}
	extra["extra/doubled.sql"] = &fstest.MapFile{Data: []byte("SELECT practice_code, twice(percent) AS d FROM marts.practice_period")}
	extra["extra/listed.sql"] = &fstest.MapFile{Data: []byte("-- materialized: view\nSELECT * FROM marts.practice_list")}
	p, err := Load(ctx, extra)
	if err != nil {
		t.Fatal(err)
	}
	// by_period turned into a view, practice_list into a table read by nothing.
	edited := basicFS(t)
	edited["marts/by_period.sql"] = &fstest.MapFile{Data: []byte("-- materialized: view\nSELECT period, sum(numerator) AS numerator FROM core.achievement GROUP BY period")}
	edited["marts/practice_list.sql"] = &fstest.MapFile{Data: []byte("SELECT practice_code FROM core.practices")}
	pEdited, err := Load(ctx, edited)
	if err != nil {
		t.Fatal(err)
	}
	l := newLake(t)
	l.practices(4)
	l.achievement("2024-01", 4, 0)
	l.achievement("2024-02", 4, 1)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name    string
		change  func()
		want    map[string]Action
		periods []string
	}{
		{"nothing changed", func() {}, map[string]Action{
			"core.practices": Copied, "core.achievement": Copied, "marts.by_period": Copied,
			"marts.practice_period": Copied, "marts.practice_list": Copied, "staging.achievement": Viewed,
		}, nil},
		{"a period added", func() { l.achievement("2024-03", 4, 2) }, map[string]Action{
			"core.practices": Copied, "core.achievement": Refreshed, "marts.by_period": Rebuilt,
			"marts.practice_period": Refreshed, "marts.practice_list": Copied,
		}, []string{"2024-03"}},
		{"a period restated", func() {
			l.achievement("2024-01", 3, 5) // one practice fewer, other values
			future := time.Now().Add(time.Hour)
			os.Chtimes(filepath.Join(l.dir, "achievement/period=2024-01/part-0.parquet"), future, future)
		}, map[string]Action{
			"core.practices": Copied, "core.achievement": Refreshed, "marts.by_period": Rebuilt,
			"marts.practice_period": Refreshed, "marts.practice_list": Copied,
		}, []string{"2024-01"}},
		{"a period removed", func() {
			if err := os.RemoveAll(filepath.Join(l.dir, "achievement/period=2024-02")); err != nil {
				t.Fatal(err)
			}
		}, map[string]Action{
			"core.achievement": Refreshed, "marts.practice_period": Refreshed, "marts.practice_list": Copied,
		}, []string{"2024-02"}},
		// core.achievement is rebuilt, but a practice with no achievement
		// leaves its rows as they were: what reads only it is copied.
		{"an unpartitioned input changed", func() { l.practices(5) }, map[string]Action{
			"core.practices": Rebuilt, "core.achievement": Rebuilt, "marts.by_period": Copied,
			"marts.practice_period": Rebuilt, "marts.practice_list": Rebuilt,
		}, nil},
		// Every period's rows of core.achievement change, but only in the
		// name, which by_period and practice_period do not read.
		{"an unpartitioned input changed every period's rows", func() {
			l.write("practices/part-0.parquet", "SELECT 'A' || p AS practice_code, 'Surgery ' || p AS name FROM range(1, 6) r(p)")
		}, map[string]Action{
			"core.practices": Rebuilt, "core.achievement": Rebuilt, "marts.by_period": Copied,
			"marts.practice_period": Copied, "marts.practice_list": Rebuilt,
		}, nil},
		// Other functions: every model is rebuilt.
		{"a period added to the edited project", func() {
			p = pEdited
			l.achievement("2024-04", 5, 3)
		}, map[string]Action{
			"core.practices": Rebuilt, "core.achievement": Rebuilt, "marts.by_period": Viewed,
			"marts.practice_period": Rebuilt, "marts.practice_list": Rebuilt,
		}, nil},
	}
	for _, s := range steps {
		s.change()
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if s.name == "nothing changed" {
			all := 0
			for _, m := range p.Models() {
				all += len(m.Tests)
			}
			if res.Tests != 0 || res.TestsSkipped != all {
				t.Errorf("unchanged build ran %d tests and skipped %d; want all %d skipped (views' too)", res.Tests, res.TestsSkipped, all)
			}
		}
		checkStep(t, s.name, p, l, wh, res, s.want, s.periods)
	}
	// The run history survives rebuilds and says what happened.
	runs := query(t, wh, "SELECT full_build, refreshed FROM _gplens.runs ORDER BY started_at")
	if len(runs) != len(steps)+1 || runs[0] != "true 0" || runs[2] != "false 2" {
		t.Errorf("runs = %v", runs)
	}
}

// TestYearOfMonthRefresh: a model of financial years made from months
// (refresh_year_of_month) refreshes the year of a new month, and equals a
// full build; without the header the year's row would be left stale.
func TestYearOfMonthRefresh(t *testing.T) {
	ctx := context.Background()
	fsys := basicFS(t)
	fsys["marts/by_year.sql"] = &fstest.MapFile{Data: []byte(`-- incremental: period
-- refresh_year_of_month: true
-- unique: period
SELECT CASE WHEN CAST(substr(period, 6, 2) AS INTEGER) >= 4
            THEN substr(period, 1, 4) || '-' || lpad(CAST((CAST(substr(period, 1, 4) AS INTEGER) + 1) % 100 AS VARCHAR), 2, '0')
            ELSE CAST(CAST(substr(period, 1, 4) AS INTEGER) - 1 AS VARCHAR) || '-' || substr(period, 3, 2) END AS period,
       sum(numerator) AS numerator, count(DISTINCT period) AS months
FROM core.achievement
GROUP BY 1`)}
	p, l, wh := buildFebToApril(t, fsys)
	l.achievement("2024-05", 4, 7)
	res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Models {
		want := map[string][]string{"core.achievement": {"2024-05"}, "marts.by_year": {"2024-05", "2024-25"}}[m.Name]
		if want != nil && (m.Action != Refreshed || !slices.Equal(m.Periods, want)) {
			t.Errorf("%s %s for %v, want refreshed for %v (%s)", m.Name, m.Action, m.Periods, want, res.Summary())
		}
		if m.Name == "marts.by_year" && !slices.Equal(m.ChangedPeriods, []string{"2024-25"}) {
			t.Errorf("marts.by_year changed in %v, want [2024-25]", m.ChangedPeriods)
		}
	}
	if got := query(t, wh, "SELECT period || ' ' || months FROM marts.by_year ORDER BY period"); !slices.Equal(got, []string{"2023-24 2", "2024-25 2"}) {
		t.Errorf("by_year = %v", got)
	}
	full := filepath.Join(t.TempDir(), "full.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: full, Lake: l.tables(), Logger: quiet, Full: true}); err != nil {
		t.Fatal(err)
	}
	sameAsFullBuild(t, "", wh, full)
}

// TestLaterPeriodsRefresh: a model whose month rows carry earlier months'
// figures forward (a running total here, as marts.area_summary takes the
// latest year and workforce month available by each month) declares
// refresh_later_periods, and a restated month refreshes that month and
// every later one (not the earlier ones); a new month refreshes itself, and a
// new financial year the March it adds.
// Without the header the restated month alone would be refreshed and April
// would keep March's old figures: the comparison with a full build fails.
func TestLaterPeriodsRefresh(t *testing.T) {
	ctx := context.Background()
	fsys := basicFS(t)
	src, err := os.ReadFile("../sql/functions/incremental.sql") // in_build, as the models use it
	if err != nil {
		t.Fatal(err)
	}
	fsys["functions/incremental.sql"] = &fstest.MapFile{Data: src}
	fsys["marts/running.sql"] = &fstest.MapFile{Data: []byte(`-- incremental: period
-- refresh_later_periods: true
-- unique: period
WITH months AS (
    -- a year's figures count from its March
    SELECT DISTINCT CASE WHEN CAST(substr(period, 6, 2) AS INTEGER) > 12
                         THEN CAST(CAST(substr(period, 1, 4) AS INTEGER) + 1 AS VARCHAR) || '-03' ELSE period END AS period
    FROM core.achievement)
SELECT m.period, sum(a.numerator) AS numerator_to_date, count(DISTINCT a.period) AS periods
FROM months AS m JOIN core.achievement AS a ON a.period <= m.period
WHERE in_build(m.period)
GROUP BY m.period`)}
	p, l, wh := buildFebToApril(t, fsys)
	for _, step := range []struct {
		month string
		want  []string
	}{
		{"2024-03", []string{"2024-03", "2024-04"}}, // March restated
		{"2024-05", []string{"2024-05"}},            // a new month
		{"2024-25", []string{"2024-25", "2025-03"}}, // a new year: its March
	} {
		l.achievement(step.month, 4, 17)
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Models {
			if m.Name == "marts.running" && (m.Action != Refreshed || !slices.Equal(m.Periods, step.want)) {
				t.Errorf("%s: marts.running %s for %v, want refreshed for %v (%s)", step.month, m.Action, m.Periods, step.want, res.Summary())
			}
		}
		full := filepath.Join(t.TempDir(), "full.duckdb")
		if _, err := Build(ctx, p, Options{Warehouse: full, Lake: l.tables(), Logger: quiet, Full: true}); err != nil {
			t.Fatal(err)
		}
		sameAsFullBuild(t, step.month+": ", wh, full)
	}
}

func TestLaterMonths(t *testing.T) {
	for _, c := range []struct {
		in   []string
		want []string
	}{
		{[]string{"2024-05"}, []string{"2024-05"}},
		{[]string{"2023-24", "2024-05"}, []string{"2024-03", "2024-05"}},
		{[]string{"2012-13"}, []string{"2013-03"}},
		{[]string{"1999-00"}, nil}, // neither a month nor a year to is_fy
		{[]string{"2024-05", "2024"}, nil},
		{[]string{"2023-25"}, nil},
		{[]string{"abcd-ef"}, nil},
	} {
		set := map[string]bool{}
		for _, p := range c.in {
			set[p] = true
		}
		got, ok := laterMonths(set)
		slices.Sort(got)
		if !slices.Equal(got, c.want) || ok != (c.want != nil) {
			t.Errorf("laterMonths(%v) = %v, %v; want %v", c.in, got, ok, c.want)
		}
	}
}

// buildFebToApril loads the project in fsys and builds it on a lake of four
// practices' achievement for February to April 2024; it returns the project,
// the lake (to add or restate months) and the warehouse.
func buildFebToApril(t *testing.T, fsys fstest.MapFS) (*Project, *lakeFixture, string) {
	t.Helper()
	p, err := Load(context.Background(), fsys)
	if err != nil {
		t.Fatal(err)
	}
	l := newLake(t)
	l.practices(4)
	for i, m := range []string{"2024-02", "2024-03", "2024-04"} {
		l.achievement(m, 4, i)
	}
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if _, err := Build(context.Background(), p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	return p, l, wh
}

// TestNewPeriodKeepsRowGroupsOfItsOwn: an incremental build appends a new
// period's rows in row groups of their own and does not merge them with the
// table's earlier rows at commit (DuckDB's vacuum would compress the month a
// second time); a full build writes the table compactly again. The contents
// are the same either way (TestIncrementalMatchesFullBuild).
func TestNewPeriodKeepsRowGroupsOfItsOwn(t *testing.T) {
	p, l, wh := buildFebToApril(t, basicFS(t))
	// Rows of core.achievement's period column in each row group, in order.
	groups := func() []string {
		return query(t, wh, `SELECT sum(count) FROM pragma_storage_info('core.achievement')
			WHERE column_name = 'period' AND segment_type = 'VARCHAR' GROUP BY row_group_id ORDER BY row_group_id`)
	}
	if got := groups(); !slices.Equal(got, []string{"24"}) {
		t.Fatalf("after the full build: rows per row group %v, want [24]", got)
	}
	l.achievement("2024-05", 4, 3)
	res, err := Build(context.Background(), p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if actions(res)["core.achievement"] != Refreshed {
		t.Fatalf("core.achievement %s, want refreshed (%s)", actions(res)["core.achievement"], res.Summary())
	}
	if got := groups(); !slices.Equal(got, []string{"24", "8"}) {
		t.Errorf("after May added: rows per row group %v, want [24 8] (May's 8 rows in a group of their own)", got)
	}
	if got := query(t, wh, "SELECT count(*) FROM core.achievement WHERE period = '2024-05'"); !slices.Equal(got, []string{"8"}) {
		t.Errorf("May's rows: %v, want 8 (four practices, two indicators)", got)
	}
	if _, err := Build(context.Background(), p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet, Full: true}); err != nil {
		t.Fatal(err)
	}
	if got := groups(); !slices.Equal(got, []string{"32"}) {
		t.Errorf("after a full build: rows per row group %v, want [32]", got)
	}
}

func TestFullOptionRebuildsEverything(t *testing.T) {
	ctx := context.Background()
	p := load(t, "testdata/basic")
	l := newLake(t)
	l.practices(2)
	l.achievement("2024-01", 2, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	for i, full := range []bool{false, true} {
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet, Full: full})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range res.Models {
			if m.Action != Rebuilt && m.Action != Viewed {
				t.Errorf("build %d: %s %s", i, m.Name, m.Action)
			}
		}
	}
}

func TestEditedModelIsRebuilt(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	l.practices(2)
	l.achievement("2024-01", 2, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	fsys := fstest.MapFS{}
	for _, f := range []string{"staging/practices.sql", "core/practices.sql", "marts/practice_list.sql"} {
		b, err := os.ReadFile(filepath.Join("testdata/basic", f))
		if err != nil {
			t.Fatal(err)
		}
		fsys[f] = &fstest.MapFile{Data: b}
	}
	build := func() map[string]Action {
		p, err := Load(ctx, fsys)
		if err != nil {
			t.Fatal(err)
		}
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return actions(res)
	}
	build()
	// An edit that leaves the rows as they were rebuilds the model only:
	// its readers see the same rows and are copied.
	orig := fsys["core/practices.sql"].Data
	fsys["core/practices.sql"].Data = append(append([]byte(nil), orig...), []byte("\n-- edited\n")...)
	got := build()
	if got["core.practices"] != Rebuilt || got["marts.practice_list"] != Copied {
		t.Errorf("after a comment-only edit of core/practices.sql: %v", got)
	}
	// An edit that changes the rows rebuilds its readers too.
	fsys["core/practices.sql"].Data = []byte(strings.Replace(string(orig), "any_value(name) AS name", "upper(any_value(name)) AS name", 1))
	got = build()
	if got["core.practices"] != Rebuilt || got["marts.practice_list"] != Rebuilt {
		t.Errorf("after editing what core/practices.sql selects: %v", got)
	}
}

func TestSummary(t *testing.T) {
	r := Result{Tests: 4, Models: []ModelResult{
		{Action: Rebuilt}, {Action: Copied}, {Action: Copied},
		{Action: Refreshed, Periods: []string{"2024-03"}}, {Action: Viewed},
	}}
	if got, want := r.Summary(), "1 models rebuilt, 2 copied, 1 refreshed for period 2024-03, 1 views; 4 tests passed"; got != want {
		t.Errorf("Summary() = %q, want %q", got, want)
	}
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name  string
		files map[string]string
		ctx   func() context.Context
		want  string
	}{
		{"incremental column missing", map[string]string{"core/m.sql": "-- incremental: period\nSELECT 1 AS k"}, nil,
			"declares incremental: period"},
		{"runtime error names the file", map[string]string{"core/m.sql": "SELECT 1 / 'x'"}, nil, "core/m.sql"},
		{"cancelled", map[string]string{"core/m.sql": "SELECT 1 AS k"}, func() context.Context {
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			return ctx
		}, "context canceled"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			fsys := fstest.MapFS{}
			for n, s := range c.files {
				fsys[n] = &fstest.MapFile{Data: []byte(s)}
			}
			p, err := Load(context.Background(), fsys)
			if err != nil {
				t.Fatal(err)
			}
			ctx := context.Background()
			if c.ctx != nil {
				ctx = c.ctx()
			}
			wh := filepath.Join(t.TempDir(), "w.duckdb")
			_, err = Build(ctx, p, Options{Warehouse: wh, Logger: quiet})
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("err = %v, want one containing %q", err, c.want)
			}
			if left, _ := filepath.Glob(filepath.Join(filepath.Dir(wh), "*")); len(left) > 0 {
				t.Errorf("files left behind: %v", left)
			}
		})
	}
}

func TestMissingPreviousTableIsRebuilt(t *testing.T) {
	ctx := context.Background()
	p := load(t, "testdata/basic")
	l := newLake(t)
	l.practices(2)
	l.achievement("2024-01", 2, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	execWarehouse(t, wh, "DROP TABLE marts.practice_list")
	res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if got := actions(res); got["marts.practice_list"] != Rebuilt || got["core.practices"] != Copied {
		t.Errorf("actions = %v", got)
	}
}

func TestChangedColumnsRebuildInsteadOfRefresh(t *testing.T) {
	ctx := context.Background()
	p, err := Load(ctx, fstest.MapFS{
		"staging/ev.sql": {Data: []byte("-- incremental: period\nSELECT * FROM lake.events")},
		"core/ev.sql":    {Data: []byte("-- incremental: period\nSELECT * FROM staging.ev")},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := newLake(t)
	lake := []LakeTable{{Name: "events", Glob: filepath.Join(l.dir, "events", "*", "*.parquet")}}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	l.write("events/period=2024-01/part-0.parquet", "SELECT 'A1' AS practice_code, 1 AS n")
	l.write("events/period=2024-02/part-0.parquet", "SELECT 'A1' AS practice_code, 2 AS n")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	for _, step := range []struct {
		file, query string
		want        Action
	}{
		{"events/period=2024-03/part-0.parquet", "SELECT 'A1' AS practice_code, 3 AS n", Refreshed},
		{"events/period=2024-04/part-0.parquet", "SELECT 'A1' AS practice_code, 4 AS n, 'x' AS extra", Rebuilt},
	} {
		l.write(step.file, step.query)
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(res)["core.ev"]; got != step.want {
			t.Errorf("after %s: core.ev %s, want %s", step.file, got, step.want)
		}
	}
	got := query(t, wh, "SELECT n, extra FROM core.ev ORDER BY n")
	if !slices.Equal(got, []string{"1 <nil>", "2 <nil>", "3 <nil>", "4 x"}) {
		t.Errorf("core.ev = %v", got)
	}
}

func TestVars(t *testing.T) {
	ctx := context.Background()
	p, err := Load(ctx, fstest.MapFS{
		"core/v.sql": {Data: []byte("SELECT getvariable('region') AS region")},
	})
	if err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	for _, step := range []struct {
		region string
		want   Action
	}{{"Y56", Rebuilt}, {"Y56", Copied}, {"Y58", Rebuilt}} {
		res, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet, Vars: map[string]string{"region": step.region}})
		if err != nil {
			t.Fatal(err)
		}
		if got := actions(res)["core.v"]; got != step.want {
			t.Errorf("region %s: %s, want %s", step.region, got, step.want)
		}
		if got := query(t, wh, "SELECT region FROM core.v"); !slices.Equal(got, []string{step.region}) {
			t.Errorf("region = %v, want %s", got, step.region)
		}
	}
	if _, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet, Vars: map[string]string{"bad name": "x"}}); err == nil {
		t.Error("want an error for a bad var name")
	}
}

// A model's threads: directive caps DuckDB's threads while its statements
// run, and the build's setting is back for its tests and the models after
// it; an invalid value is refused with file and line.
func TestThreadsDirective(t *testing.T) {
	ctx := context.Background()
	p, err := Load(ctx, fstest.MapFS{
		"core/a.sql": {Data: []byte("-- threads: 1\n-- row_count: = 1\nSELECT current_setting('threads') AS t")},
		"core/b.sql": {Data: []byte("SELECT current_setting('threads') AS t, (SELECT count(*) FROM core.a) AS n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := p.byName["core.a"].Threads, p.byName["core.b"].Threads; a != 1 || b != 0 {
		t.Fatalf("threads = %d, %d; want 1, 0", a, b)
	}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet, Threads: 3}); err != nil {
		t.Fatal(err)
	}
	if got := query(t, wh, "SELECT t FROM core.a"); !slices.Equal(got, []string{"1"}) {
		t.Errorf("core.a built with threads %v, want 1", got)
	}
	if got := query(t, wh, "SELECT t FROM core.b"); !slices.Equal(got, []string{"3"}) {
		t.Errorf("core.b built with threads %v, want the build's 3", got)
	}
	refusesDirective(t, "threads", "0", "many", "-2", "2000")
}

// A model's batch directive builds it a few periods at a time, each batch
// with in_build limited to its periods, into the same rows as one
// statement; a refresh of many periods is batched too. The directive's
// errors name the file and line.
func TestBatchDirective(t *testing.T) {
	ctx := context.Background()
	src, err := os.ReadFile("../sql/functions/incremental.sql") // in_build, as the models use it
	if err != nil {
		t.Fatal(err)
	}
	fsys := fstest.MapFS{
		"functions/incremental.sql": {Data: src},
		"core/p.sql":                {Data: []byte("-- incremental: period\nSELECT period, k, v FROM lake.src")},
		"core/b.sql": {Data: []byte("-- incremental: period\n-- batch: 2 periods of core.p\n-- not_null: period\n" +
			"SELECT period, sum(v) AS s, CAST(getvariable('gplens_periods') AS VARCHAR) AS built_with FROM core.p WHERE in_build(period) GROUP BY period")},
		"core/u.sql": {Data: []byte("-- incremental: period\nSELECT period, sum(v) AS s FROM core.p WHERE in_build(period) GROUP BY period")},
	}
	p, err := Load(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	if m := p.byName["core.b"]; m.Batch != 2 || m.BatchFrom != "core.p" {
		t.Fatalf("batch = %d of %q, want 2 of core.p", m.Batch, m.BatchFrom)
	}
	l := newLake(t)
	month := func(m int) {
		l.write(fmt.Sprintf("src/period=2024-%02d/part-0.parquet", m), fmt.Sprintf("SELECT %d AS k, %d AS v", m, 2*m))
	}
	lake := []LakeTable{{Name: "src", Glob: filepath.Join(l.dir, "src", "*", "*.parquet"), Columns: "k BIGINT, v BIGINT, period VARCHAR"}}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	build := func(full bool) Result {
		t.Helper()
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet, Full: full})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	for m := 1; m <= 3; m++ {
		month(m)
	}
	build(true)
	if got := query(t, wh, "SELECT period, s, built_with FROM core.b ORDER BY period"); !slices.Equal(got, []string{
		"2024-01 2 [2024-01, 2024-02]", "2024-02 4 [2024-01, 2024-02]", "2024-03 6 [2024-03]"}) {
		t.Errorf("batched full build: %q", got)
	}
	same := "SELECT count(*) FROM ((SELECT period, s FROM core.b EXCEPT ALL SELECT period, s FROM core.u) UNION ALL (SELECT period, s FROM core.u EXCEPT ALL SELECT period, s FROM core.b))"
	if got := query(t, wh, same); !slices.Equal(got, []string{"0"}) {
		t.Errorf("batched and unbatched builds differ in %v rows", got)
	}
	// three new months: a refresh, two at a time
	for m := 4; m <= 6; m++ {
		month(m)
	}
	res := build(false)
	if got := actions(res)["core.b"]; got != Refreshed {
		t.Errorf("core.b: %s, want refreshed (%s)", got, res.Summary())
	}
	want := []string{"2024-01 2 [2024-01, 2024-02]", "2024-02 4 [2024-01, 2024-02]", "2024-03 6 [2024-03]",
		"2024-04 8 [2024-04, 2024-05]", "2024-05 10 [2024-04, 2024-05]", "2024-06 12 [2024-06]"}
	if got := query(t, wh, "SELECT period, s, built_with FROM core.b ORDER BY period"); !slices.Equal(got, want) {
		t.Errorf("batched refresh:\n got %q\nwant %q", got, want)
	}
	if got := query(t, wh, same); !slices.Equal(got, []string{"0"}) {
		t.Errorf("after the refresh, batched and unbatched differ in %v rows", got)
	}
	for _, bad := range []struct{ header, want string }{
		{"-- incremental: period\n-- not_null: period\n-- batch: 4\n", "core/a.sql:3"},
		{"-- incremental: period\n-- not_null: period\n-- batch: 0 periods of core.p\n", "core/a.sql:3"},
		{"-- incremental: period\n-- not_null: period\n-- batch: four periods of core.p\n", "core/a.sql:3"},
		{"-- not_null: period\n-- batch: 4 periods of core.p\n", "incremental"},
		{"-- incremental: period\n-- batch: 4 periods of core.p\n", "not_null"},
		{"-- materialized: view\n-- incremental: period\n-- not_null: period\n-- batch: 4 periods of core.p\n", "only a table"},
		{"-- incremental: period\n-- not_null: period\n-- batch: 4 periods of core.q\n", "core.q is not a table the model reads"},
	} {
		f := fstest.MapFS{"core/p.sql": fsys["core/p.sql"], "core/q.sql": fsys["core/p.sql"],
			"core/a.sql": {Data: []byte(bad.header + "SELECT * FROM core.p")}}
		_, err := Load(ctx, f)
		if err == nil || !strings.Contains(err.Error(), "core/a.sql") || !strings.Contains(err.Error(), bad.want) {
			t.Errorf("%q: error %v, want one naming core/a.sql and %q", bad.header, err, bad.want)
		}
	}
}

// The lake glob reads committed partitions only: the hidden folders of an
// ingest in flight or killed (.tmp-*, .old-*) hold files DuckDB cannot read
// ("too small to be a Parquet file") and rows that are not current.
func TestLakeGlobReadsCommittedPartitionsOnly(t *testing.T) {
	l := newLake(t)
	l.write("a/period=2024-01/part-0.parquet", "SELECT 1 AS k")
	l.write("a/period=2024-02/part-0.parquet", "SELECT 2 AS k")
	l.write("a/.old-123-period=2024-02/part-0.parquet", "SELECT 9 AS k")
	for _, junk := range []string{"a/.tmp-123-abcdef/part-x.parquet", "a/.tmp-123-abcdef/deep/period=2024-03/part-y.parquet"} {
		os.MkdirAll(filepath.Dir(filepath.Join(l.dir, junk)), 0o755)
		os.WriteFile(filepath.Join(l.dir, junk), []byte("PAR1"), 0o644)
	}
	l.write("b/part-0.parquet", "SELECT 3 AS k") // not a partition: never read
	conn, err := l.db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	for _, c := range []struct {
		source string
		files  int
		parts  []string
	}{{"a", 2, []string{"2024-01", "2024-02"}}, {"b", 0, nil}, {"none", 0, nil}} {
		st, files, err := fingerprint(context.Background(), conn, LakeTable{Name: c.source, Glob: LakeGlob(l.dir, c.source)}, l.dir)
		if err != nil {
			t.Fatal(err)
		}
		var parts []string
		for p := range st.parts {
			parts = append(parts, p)
		}
		slices.Sort(parts)
		if len(files) != c.files || !slices.Equal(parts, c.parts) {
			t.Errorf("%s: %d files, partitions %v; want %d, %v", c.source, len(files), parts, c.files, c.parts)
		}
	}
	var sum int
	if err := conn.QueryRowContext(context.Background(), "SELECT sum(k) FROM read_parquet(?)", LakeGlob(l.dir, "a")).Scan(&sum); err != nil || sum != 3 {
		t.Errorf("sum over the lake glob = %d, %v; want 3 (committed partitions only)", sum, err)
	}
}

// A build cleans the half-built files of builds whose process is gone, and
// leaves a live process's alone.
func TestBuildRemovesOrphanBuilds(t *testing.T) {
	ctx := context.Background()
	p, err := Load(ctx, fstest.MapFS{"core/one.sql": {Data: []byte("SELECT 1 AS k")}})
	if err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	dead := exec.Command("true")
	if err := dead.Run(); err != nil {
		t.Fatal(err)
	}
	orphans := []string{fmt.Sprintf("%s.building-%d", wh, dead.Process.Pid), fmt.Sprintf("%s.building-%d.wal", wh, dead.Process.Pid)}
	live := fmt.Sprintf("%s.building-%d", wh, os.Getppid())
	for _, f := range append(orphans, live) {
		os.WriteFile(f, []byte("half a database"), 0o644)
	}
	if _, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	for _, f := range orphans {
		if _, err := os.Stat(f); err == nil {
			t.Errorf("orphan %s survived a build", f)
		}
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's build file was removed: %v", err)
	}
}

func TestTestsOfRefreshedPeriods(t *testing.T) {
	ctx := context.Background()
	p, err := Load(ctx, fstest.MapFS{
		"staging/ev.sql": {Data: []byte("-- incremental: period\nSELECT * FROM lake.events")},
		"core/ev.sql": {Data: []byte("-- incremental: period\n-- range: n between 0 and 10\n-- unique: practice_code, period\n" +
			"-- row_count: < 4\nSELECT practice_code, period, n FROM staging.ev")},
	})
	if err != nil {
		t.Fatal(err)
	}
	l := newLake(t)
	lake := []LakeTable{{Name: "events", Glob: LakeGlob(l.dir, "events")}}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	l.write("events/period=2024-01/part-0.parquet", "SELECT 'A1' AS practice_code, 1 AS n")
	l.write("events/period=2024-02/part-0.parquet", "SELECT 'A1' AS practice_code, 2 AS n")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name, file, query   string
		failKind, offending string // "" for a passing build
	}{
		{"out of range in the new period", "events/period=2024-03/part-0.parquet", "SELECT 'A1' AS practice_code, 50 AS n", TestRange, "n=50"},
		{"duplicate in the new period", "events/period=2024-03/part-0.parquet",
			"SELECT 'A1' AS practice_code, 3 AS n UNION ALL SELECT 'A1', 4", TestUnique, `practice_code="A1" period="2024-03" duplicates=2`},
		{"good new period", "events/period=2024-03/part-0.parquet", "SELECT 'A1' AS practice_code, 3 AS n", "", ""},
		{"row count sees every period", "events/period=2024-04/part-0.parquet", "SELECT 'A1' AS practice_code, 4 AS n", TestRowCount, "row_count=4"},
	}
	for _, s := range steps {
		l.write(s.file, s.query)
		future := time.Now().Add(time.Hour)
		os.Chtimes(filepath.Join(l.dir, s.file), future, future)
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: quiet})
		if s.failKind == "" {
			if err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
			if a := actions(res)["core.ev"]; a != Refreshed || res.TestsScoped != 2 {
				t.Errorf("%s: core.ev %s with %d scoped tests, want refreshed with 2", s.name, a, res.TestsScoped)
			}
			continue
		}
		var tf *TestFailure
		if !errors.As(err, &tf) || tf.Test.Kind != s.failKind || !strings.Contains(err.Error(), s.offending) {
			t.Errorf("%s: err = %v, want a %s failure showing %s", s.name, err, s.failKind, s.offending)
		}
	}
}

// A refresh sets PeriodsVar to the periods it recomputes (so in_build-style
// filters see them) and NULL again after; a full build never sets it. An
// empty table keeps its fingerprint, so its readers are copied.
func TestRefreshSetsPeriodsVar(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	l.practices(2)
	l.achievement("2024-01", 2, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	fsys := fstest.MapFS{
		"staging/achievement.sql": {Data: []byte("-- incremental: period\nSELECT practice_code, indicator, measure, value, period FROM lake.achievement\n")},
		"core/seen.sql": {Data: []byte("-- incremental: period\n" +
			"SELECT DISTINCT period, CAST(getvariable('" + PeriodsVar + "') AS VARCHAR[]) AS seen FROM staging.achievement\n")},
		"core/after.sql":       {Data: []byte("SELECT count(*) AS n, CAST(getvariable('" + PeriodsVar + "') AS VARCHAR[]) AS seen FROM core.seen\n")},
		"core/empty.sql":       {Data: []byte("SELECT practice_code FROM lake.practices WHERE false\n")},
		"marts/from_empty.sql": {Data: []byte("SELECT count(*) AS n FROM core.empty\n")},
	}
	p, err := Load(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	build := func() Result {
		res, err := Build(ctx, p, Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	build()
	l.achievement("2024-02", 2, 1)
	l.practices(3) // core.empty is rebuilt, and empty again
	res := build()
	got := actions(res)
	if got["core.seen"] != Refreshed || got["core.after"] != Rebuilt || got["core.empty"] != Rebuilt || got["marts.from_empty"] != Copied {
		t.Errorf("actions %v", got)
	}
	rows := query(t, wh, "SELECT period || ' ' || coalesce(CAST(seen AS VARCHAR), 'NULL') FROM core.seen ORDER BY 1")
	if want := []string{"2024-01 NULL", "2024-02 [2024-02]"}; !slices.Equal(rows, want) {
		t.Errorf("core.seen = %v, want %v", rows, want)
	}
	if after := query(t, wh, "SELECT n || ' ' || coalesce(CAST(seen AS VARCHAR), 'NULL') FROM core.after"); !slices.Equal(after, []string{"2 NULL"}) {
		t.Errorf("core.after = %v: the variable must be NULL again after a refresh", after)
	}
}

// TestIncrementalBesideWAL: a warehouse with a WAL beside it (left by a
// process that did not checkpoint) is opened, which replays the WAL, and
// changed in place; the result equals a full build and no WAL is left.
func TestIncrementalBesideWAL(t *testing.T) {
	p, l, wh := twoMonths(t)
	execWarehouse(t, wh, "PRAGMA disable_checkpoint_on_shutdown", "CREATE TABLE main.scratch AS SELECT 1 AS x")
	if copyable(wh) {
		t.Fatal("no WAL left beside the warehouse; the test does not test what it says")
	}
	addMarchLikeFull(t, p, l, wh, quiet)
	if _, err := os.Stat(wh + ".wal"); err == nil {
		t.Error("the old WAL is still beside the new warehouse")
	}
}

// TestUnreadableWarehouseIsRebuilt: a warehouse file DuckDB cannot open is
// neither copied nor fatal; the build starts from an empty file, in full.
func TestUnreadableWarehouseIsRebuilt(t *testing.T) {
	ctx := context.Background()
	l := newLake(t)
	l.practices(3)
	l.achievement("2024-01", 3, 0)
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	if err := os.WriteFile(wh, bytes.Repeat([]byte("not a database "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	res, err := Build(ctx, load(t, "testdata/basic"), Options{Warehouse: wh, Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Full {
		t.Errorf("not a full build: %s", res.Summary())
	}
	if got := query(t, wh, "SELECT DISTINCT period FROM core.achievement"); !slices.Equal(got, []string{"2024-01"}) {
		t.Errorf("periods = %v", got)
	}
}

// A workspace moved elsewhere (lake and warehouse, modification times kept,
// as mv, cp -a and rsync -a do) builds from its copied tables: the lake
// globs enter the fingerprints relative to the lake's root, not as
// absolute paths, which changed every table and rebuilt everything.
func TestMovedWorkspaceIsNotRebuilt(t *testing.T) {
	ctx := context.Background()
	p := load(t, "testdata/basic")
	l := newLake(t)
	l.practices(2)
	l.achievement("2024-01", 2, 0)
	l.achievement("2024-02", 2, 1)
	whDir := t.TempDir()
	if _, err := Build(ctx, p, Options{Warehouse: filepath.Join(whDir, "warehouse.duckdb"), Lake: l.tables(), Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	moved := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Rename(l.dir, moved); err != nil {
		t.Fatal(err)
	}
	l.dir = moved
	res, err := Build(ctx, p, Options{Warehouse: filepath.Join(whDir, "warehouse.duckdb"), Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range res.Models {
		if m.Action != Copied && m.Action != Viewed {
			t.Errorf("%s %s after moving the lake, want copied (%s)", m.Name, m.Action, res.Summary())
		}
	}
	if got := query(t, filepath.Join(whDir, "warehouse.duckdb"), "SELECT count(*) FROM lake.achievement"); len(got) != 1 || got[0] == "0" {
		t.Errorf("the moved lake reads %v rows", got)
	}
	// a table pointed at other files is still a change
	l.achievement("2024-02", 2, 5)
	res, err = Build(ctx, p, Options{Warehouse: filepath.Join(whDir, "warehouse.duckdb"), Lake: l.tables(), Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	if a := actions(res); a["core.achievement"] != Refreshed {
		t.Errorf("a restated period after the move: core.achievement %s, want refreshed (%v)", a["core.achievement"], a)
	}
}

func TestLakeRoot(t *testing.T) {
	for _, tc := range []struct {
		globs []string
		want  string
	}{
		{[]string{"/ws/lake/a/*/*.parquet", "/ws/lake/b/*.parquet"}, "/ws/lake"},
		{[]string{"/ws/lake/a/*/*.parquet"}, "/ws/lake/a"},
		{[]string{"/ws/lake/ab/*.parquet", "/ws/lake/ac/*.parquet"}, "/ws/lake"},
		{[]string{"/a/*.parquet", "/b/*.parquet"}, "/"},
		{nil, ""},
	} {
		var ts []LakeTable
		for _, g := range tc.globs {
			ts = append(ts, LakeTable{Glob: g})
		}
		if got := lakeRoot(ts); got != tc.want {
			t.Errorf("lakeRoot(%v) = %q, want %q", tc.globs, got, tc.want)
		}
	}
}

// The steps around the models are logged with their durations at debug
// level (gplens -vv), in the order they run; an incremental build changes
// the warehouse in one transaction and commits it, a full one writes a new
// file and renames it into place.
func TestBuildStepLog(t *testing.T) {
	ctx := context.Background()
	fsys := fstest.MapFS{
		"staging/events.sql": {Data: []byte("-- incremental: period\nSELECT practice_code, n, period FROM lake.events")},
		"core/totals.sql":    {Data: []byte("SELECT practice_code, period, sum(n) AS n FROM staging.events GROUP BY ALL")},
	}
	p, err := Load(ctx, fsys)
	if err != nil {
		t.Fatal(err)
	}
	l := newLake(t)
	l.write("events/period=2024-01/part-0.parquet", "SELECT 'A1' AS practice_code, 5::BIGINT AS n")
	lake := []LakeTable{{Name: "events", Glob: filepath.Join(l.dir, "events", "*", "*.parquet")}}
	wh := filepath.Join(t.TempDir(), "warehouse.duckdb")
	steps := func() []string {
		var buf bytes.Buffer
		log := slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
		if _, err := Build(ctx, p, Options{Warehouse: wh, Lake: lake, Logger: log}); err != nil {
			t.Fatal(err)
		}
		var got []string
		re := regexp.MustCompile(`msg="build step" step="?([a-z ]+?)"? duration=([0-9.]+(?:µs|ms|s)|0s)\n`)
		for _, m := range re.FindAllStringSubmatch(buf.String(), -1) {
			got = append(got, m[1])
		}
		return got
	}
	tail := []string{"prepare", "lake views", "models", "record state", "checkpoint", "close", "sync and rename"}
	if got, want := steps(), append([]string{"check inputs", "open the warehouse", "read the previous state"}, tail...); !slices.Equal(got, want) {
		t.Errorf("first build's steps = %q, want %q", got, want)
	}
	l.write("events/period=2024-02/part-0.parquet", "SELECT 'A1' AS practice_code, 7::BIGINT AS n")
	want := []string{"check inputs", "open the warehouse", "read the previous state", "clear the previous views and state",
		"prepare", "lake views", "models", "record state", "commit", "checkpoint", "close"}
	if got := steps(); !slices.Equal(got, want) {
		t.Errorf("incremental build's steps = %q, want %q", got, want)
	}
}

// TestHelperHoldWarehouse is not a test: ducktest.Hold runs it in a child
// process, holding the warehouse open as `gplens sql --live` does.
func TestHelperHoldWarehouse(t *testing.T) { ducktest.Helper(t) }

// TestIncrementalWhileHeld: while another process holds the warehouse open
// (DuckDB's file lock), an incremental build cannot change it in place; it
// builds on a copy beside it and renames the copy over it, the reader keeps
// the rows it opened, and the result equals a full build.
func TestIncrementalWhileHeld(t *testing.T) {
	p, l, wh := twoMonths(t)
	ducktest.Hold(t, "TestHelperHoldWarehouse", wh, false)
	var buf bytes.Buffer
	addMarchLikeFull(t, p, l, wh, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	if !strings.Contains(buf.String(), "building on a copy") || !strings.Contains(buf.String(), `step="copy the warehouse"`) {
		t.Errorf("the build did not fall back to a copy:\n%s", buf.String())
	}
	if leftovers, _ := filepath.Glob(wh + ".building-*"); len(leftovers) > 0 {
		t.Errorf("temporary files left: %v", leftovers)
	}
}

// After a model whose Go functions grew Go's heap (the disclosure audit),
// the builder hands the free heap back to the OS before the next model, so
// Go's garbage and DuckDB's buffers do not peak together.
func TestReleaseGoHeap(t *testing.T) {
	held := func() uint64 {
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		return ms.HeapSys - ms.HeapReleased
	}
	junk := make([][]byte, 0, 32)
	for i := 0; i < 32; i++ {
		b := make([]byte, 16<<20)
		for j := 0; j < len(b); j += 4096 {
			b[j] = 1 // resident, as the audit's heap is
		}
		junk = append(junk, b)
	}
	if h := held(); h < 512<<20 {
		t.Fatalf("the test's heap is %d MiB, want over 512", h>>20)
	}
	for i := range junk {
		junk[i] = nil
	}
	runtime.GC() // garbage now, but still held from the OS
	if h := held(); h < goHeapKeep {
		t.Skipf("Go returned the heap by itself (%d MiB held)", h>>20)
	}
	releaseGoHeap()
	if h := held(); h > goHeapKeep {
		t.Errorf("after releaseGoHeap Go still holds %d MiB of heap, want at most %d", h>>20, goHeapKeep>>20)
	}
}

// A model's duckdb_memory: directive lowers DuckDB's memory_limit to that
// share of the build's while its statements run; the build's limit is back,
// as configured, for its tests and the models after it (or DuckDB's
// default when none is configured); an invalid value is refused with file
// and line.
func TestDuckDBMemoryDirective(t *testing.T) {
	ctx := context.Background()
	p, err := Load(ctx, fstest.MapFS{
		"core/a.sql": {Data: []byte("-- duckdb_memory: 25%\n-- row_count: = 1\nSELECT current_setting('memory_limit') AS m")},
		"core/b.sql": {Data: []byte("SELECT current_setting('memory_limit') AS m, (SELECT count(*) FROM core.a) AS n")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if a, b := p.byName["core.a"].DuckDBMemory, p.byName["core.b"].DuckDBMemory; a != 25 || b != 0 {
		t.Fatalf("duckdb_memory = %d, %d; want 25, 0", a, b)
	}
	dflt := func() string {
		db, err := duck.Open(ctx, "", duck.Options{})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		var m string
		if err := db.QueryRowContext(ctx, "SELECT current_setting('memory_limit')").Scan(&m); err != nil {
			t.Fatal(err)
		}
		return m
	}()
	for _, c := range []struct{ limit, a, b string }{
		{"1GB", "238.0 MiB", "953.6 MiB"}, // a quarter of 10^9 bytes, in whole MiB
		{"", "", dflt},
	} {
		wh := filepath.Join(t.TempDir(), "w.duckdb")
		goLimit := debug.SetMemoryLimit(-1)
		if _, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet, MemoryLimit: c.limit}); err != nil {
			t.Fatal(err)
		}
		if got := debug.SetMemoryLimit(-1); got != goLimit {
			t.Errorf("memory_limit %q: Go's memory limit %d after the build, want %d as before", c.limit, got, goLimit)
		}
		got := query(t, wh, "SELECT m FROM core.a")[0]
		if c.a == "" {
			// a quarter of the machine's default
			n, _ := duck.ParseBytes(got)
			d, _ := duck.ParseBytes(dflt)
			if n <= 0 || math.Abs(float64(n)-float64(d)/4) > float64(d)/100 {
				t.Errorf("memory_limit %q: core.a built with %s, want a quarter of %s", c.limit, got, dflt)
			}
		} else if got != c.a {
			t.Errorf("memory_limit %q: core.a built with %s, want %s", c.limit, got, c.a)
		}
		if got := query(t, wh, "SELECT m FROM core.b"); !slices.Equal(got, []string{c.b}) {
			t.Errorf("memory_limit %q: core.b built with %v, want the build's %s", c.limit, got, c.b)
		}
	}
	refusesDirective(t, "duckdb_memory", "0%", "50", "half", "101%", "-5%", "12.5%")
}

// TestMemorySettingSplitsGo: duckdb_memory: gives DuckDB its share of the
// build's memory_limit and Go's heap a soft limit of the rest while the
// model runs, and puts Go's back after; GOMEMLIMIT, when set, wins.
func TestMemorySettingSplitsGo(t *testing.T) {
	b := &builder{memoryLimit: "1GB", log: quiet}
	before := debug.SetMemoryLimit(-1)
	s, err := b.memorySetting(25)
	if err != nil {
		t.Fatal(err)
	}
	if want := "SET memory_limit = '238MiB'"; s.set != want {
		t.Errorf("set %q, want %q", s.set, want)
	}
	if s.apply == nil || s.undo == nil {
		t.Fatal("no Go memory limit with the model")
	}
	s.apply()
	during := debug.SetMemoryLimit(-1)
	s.undo()
	if want := int64(750_000_000); during != want {
		t.Errorf("Go's memory limit while the model runs %d, want %d (three quarters of 1GB)", during, want)
	}
	if after := debug.SetMemoryLimit(-1); after != before {
		t.Errorf("Go's memory limit after the model %d, want %d", after, before)
	}
	t.Setenv("GOMEMLIMIT", "2GiB")
	if s, err := b.memorySetting(25); err != nil || s.apply != nil || s.undo != nil {
		t.Errorf("with GOMEMLIMIT set: apply set %v, err %v; want Go's limit left alone", s.apply != nil, err)
	}
}

// refusesDirective checks that a model declaring key: with each of bad
// values does not load, with an error naming the file, line and key.
func refusesDirective(t *testing.T, key string, bad ...string) {
	t.Helper()
	for _, v := range bad {
		_, err := Load(context.Background(), fstest.MapFS{"core/a.sql": {Data: []byte("-- row_count: > 0\n-- " + key + ": " + v + "\nSELECT 1 AS k")}})
		if err == nil || !strings.Contains(err.Error(), "core/a.sql:2") || !strings.Contains(err.Error(), key) {
			t.Errorf("%s: %s: error %v, want one naming core/a.sql:2 and %s", key, v, err, key)
		}
	}
}

// TestBuildSideDirective: a model declaring build_side: right runs with
// DuckDB's build_side_probe_side optimizer off, beside its other directives;
// a view's test (run after its statements) and the next model see the
// build's settings.
func TestBuildSideDirective(t *testing.T) {
	ctx := context.Background()
	const read = "SELECT current_setting('disabled_optimizers') AS d, current_setting('threads') AS th, current_setting('memory_limit') AS m"
	p, err := Load(ctx, fstest.MapFS{
		"core/a.sql": {Data: []byte("-- build_side: right\n-- threads: 1\n-- duckdb_memory: 50%\n" +
			"-- row_count: = 1\n" + read)},
		// a view: its test reads the setting when it runs, and fails if it was not restored
		"core/b.sql": {Data: []byte("-- materialized: view\n-- build_side: right\n-- accepted_values: d in ('none')\n" +
			"SELECT coalesce(nullif(current_setting('disabled_optimizers'), ''), 'none') AS d, (SELECT count(*) FROM core.a) AS n")},
		"core/c.sql": {Data: []byte(read + ", (SELECT count(*) FROM core.b) AS nb")},
	})
	if err != nil {
		t.Fatal(err)
	}
	if !p.byName["core.a"].BuildRight || p.byName["core.c"].BuildRight {
		t.Fatalf("BuildRight = %v, %v; want true, false", p.byName["core.a"].BuildRight, p.byName["core.c"].BuildRight)
	}
	wh := filepath.Join(t.TempDir(), "w.duckdb")
	if _, err := Build(ctx, p, Options{Warehouse: wh, Logger: quiet, MemoryLimit: "1GB", Threads: 2}); err != nil {
		t.Fatal(err)
	}
	if got, want := query(t, wh, "SELECT d || '|' || th || '|' || m FROM core.a"), "build_side_probe_side|1|476.0 MiB"; !slices.Equal(got, []string{want}) {
		t.Errorf("core.a built with %v, want %s", got, want)
	}
	if got, want := query(t, wh, "SELECT d || '|' || th || '|' || m FROM core.c"), "|2|953.6 MiB"; !slices.Equal(got, []string{want}) {
		t.Errorf("core.c built with %v, want the build's %s", got, want)
	}
	refusesDirective(t, "build_side", "left", "true", "", "right left", "RIGHT")
}
