package snapshot_test

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
)

// execAll runs statements on the database file at path.
func execAll(t *testing.T, path string, stmts ...string) {
	t.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, path, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// periodWarehouse is a release layer shaped like gplens's: tables by
// period (one with NULL periods), a table without periods, a release view
// adding names from a withheld table, marts and analyst views.
func periodWarehouse(t *testing.T, path string) {
	execAll(t, path,
		"CREATE SCHEMA core", "CREATE SCHEMA disclosure", "CREATE SCHEMA release", "CREATE SCHEMA marts", "CREATE SCHEMA analyst",
		`CREATE TABLE core.current_names AS SELECT 'P' || lpad(i::VARCHAR, 3, '0') AS area_code, 'Practice ' || i AS area_name FROM range(40) t(i)`,
		`CREATE TABLE disclosure.indicator_values AS
			SELECT 'ind' || (i % 3) AS indicator_id, strftime(DATE '2023-01-01' + INTERVAL (i % 12) MONTH, '%Y-%m') AS period,
				'P' || lpad((i % 40)::VARCHAR, 3, '0') AS area_code, i * 1.25 AS value, i % 7 = 0 AS suppressed
			FROM range(3000) t(i)`,
		`CREATE VIEW release.indicator_values AS SELECT v.indicator_id, v.period, v.area_code,
			coalesce(n.area_name, v.area_code) AS area_name, v.* EXCLUDE (indicator_id, period, area_code)
			FROM disclosure.indicator_values AS v LEFT JOIN core.current_names AS n USING (area_code)`,
		`CREATE TABLE release.practices AS SELECT strftime(DATE '2023-01-01' + INTERVAL (i % 12) MONTH, '%Y-%m') AS period,
			'P' || lpad((i // 12)::VARCHAR, 3, '0') AS practice_code, i AS list_size FROM range(480) t(i)`,
		`CREATE TABLE release.trends AS SELECT CASE WHEN i % 10 = 0 THEN NULL ELSE strftime(DATE '2023-01-01' + INTERVAL (i % 12) MONTH, '%Y-%m') END AS period,
			i / 3.0 AS mean FROM range(600) t(i)`,
		`CREATE TABLE release.indicators AS SELECT 'ind' || i AS indicator_id, 'Indicator ' || i AS name FROM range(3) t(i)`,
		`CREATE TABLE release.old_feed AS SELECT 1 AS x`,
		`CREATE VIEW marts.indicator_values AS SELECT * FROM release.indicator_values`,
		`CREATE VIEW analyst.variation AS SELECT indicator_id, period, area_name, value FROM marts.indicator_values WHERE NOT suppressed`,
	)
}

// contents is what a reader sees in the snapshot at path: every relation
// of the reader schemas with its columns and rows (sorted), the macros and
// the column comments.
func contents(t *testing.T, path string) map[string]string {
	t.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	list := func(q string) []string {
		rows, err := db.QueryContext(ctx, q)
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
			out = append(out, fmt.Sprint(vals...))
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	out := map[string]string{
		"schemas": strings.Join(list(`SELECT schema_name FROM duckdb_schemas() WHERE NOT internal ORDER BY 1`), ","),
		"macros": strings.Join(list(`SELECT DISTINCT schema_name || '.' || function_name FROM duckdb_functions()
			WHERE NOT internal AND function_type IN ('macro', 'table_macro') ORDER BY 1`), ","),
		"comments": strings.Join(list(`SELECT schema_name || '.' || table_name || '.' || column_name || '=' || coalesce(comment, '')
			FROM duckdb_columns() ORDER BY 1`), "\n"),
	}
	for _, rel := range list(`SELECT schema_name || '.' || table_name || ' table' FROM duckdb_tables()
		UNION ALL SELECT schema_name || '.' || view_name || ' view' FROM duckdb_views() WHERE NOT internal ORDER BY 1`) {
		name, kind, _ := strings.Cut(rel, " ")
		cols := list(`SELECT column_name || ' ' || data_type FROM duckdb_columns() WHERE schema_name || '.' || table_name = '` + name + `' ORDER BY column_index`)
		rows := list(`SELECT * FROM ` + name + ` ORDER BY ALL`)
		out[name] = kind + " (" + strings.Join(cols, ", ") + ")\n" + strings.Join(rows, "\n")
	}
	return out
}

func publishReport(t *testing.T, ws, wh string, o snapshot.Options) snapshot.Info {
	t.Helper()
	info, err := snapshot.PublishContext(context.Background(), ws, wh, "m", o)
	if err != nil {
		t.Fatal(err)
	}
	return info
}

// TestSnapshotFromPrevious: a snapshot made from the previous one plus the
// periods that changed holds exactly what a full copy of the same
// warehouse holds — rows, columns, relations, views, macros and remarks —
// through every kind of change, and copies only what changed.
func TestSnapshotFromPrevious(t *testing.T) {
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	periodWarehouse(t, wh)
	remarks := func(rel, col string) string {
		if col == "value" {
			return "Value of " + rel
		}
		return ""
	}
	o := snapshot.Options{Remarks: remarks}
	if info := publishReport(t, ws, wh, o); info.Copy.FromPrevious {
		t.Fatalf("first snapshot: %v, want a full copy", info.Copy)
	}
	info := publishReport(t, ws, wh, o)
	if !info.Copy.FromPrevious || len(info.Copy.Kept) != 5 || len(info.Copy.Replaced)+len(info.Copy.Refreshed) != 0 {
		t.Fatalf("unchanged warehouse: %v, want all 5 relations kept", info.Copy)
	}
	steps := []struct {
		name          string
		stmts         []string
		replaced      []string
		refreshed     map[string][]string
		fromPrevious  bool
		fullCopyAfter func(t *testing.T, ws string)
	}{
		{
			name: "one period restated, one added, one gone",
			stmts: []string{
				`UPDATE disclosure.indicator_values SET value = value + 1 WHERE period = '2023-03'`,
				`INSERT INTO disclosure.indicator_values VALUES ('ind1', '2024-01', 'P001', 9.5, false)`,
				`DELETE FROM release.practices WHERE period = '2023-01'`,
				`UPDATE release.practices SET list_size = list_size + 1 WHERE period = '2023-05'`,
				`UPDATE release.trends SET mean = 0 WHERE period IS NULL`,
			},
			refreshed: map[string][]string{
				"indicator_values": {"2023-03", "2024-01"},
				"practices":        {"2023-01", "2023-05"},
				"trends":           {"<NULL>"},
			},
			fromPrevious: true,
		},
		{
			name: "a rename: every period of the view, so copied whole; new, dropped and retyped relations",
			stmts: []string{
				`UPDATE core.current_names SET area_name = area_name || ' (renamed)'`,
				`UPDATE release.indicators SET name = upper(name)`,
				`CREATE TABLE release.new_feed AS SELECT '2023-01' AS period, 2 AS y`,
				`DROP TABLE release.old_feed`,
				`ALTER TABLE release.trends ALTER mean TYPE VARCHAR`,
			},
			replaced:     []string{"indicator_values", "indicators", "new_feed", "old_feed", "trends"},
			refreshed:    map[string][]string{},
			fromPrevious: true,
		},
		{
			name:  "state file lost: a full copy",
			stmts: []string{`UPDATE release.practices SET list_size = 0 WHERE period = '2023-07'`},
			fullCopyAfter: func(t *testing.T, ws string) {
				cur, err := snapshot.Current(ws)
				if err != nil {
					t.Fatal(err)
				}
				if err := os.Remove(filepath.Join(filepath.Dir(cur.Path), ".state-"+cur.Name+".json")); err != nil {
					t.Fatal(err)
				}
			},
		},
		{
			name:  "previous snapshot not a reader copy: a full copy",
			stmts: []string{`UPDATE release.practices SET list_size = 1 WHERE period = '2023-08'`},
			fullCopyAfter: func(t *testing.T, ws string) {
				cur, err := snapshot.Current(ws)
				if err != nil {
					t.Fatal(err)
				}
				execAll(t, cur.Path, "CREATE SCHEMA core", "CREATE TABLE core.secret AS SELECT 1 AS x")
			},
		},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			execAll(t, wh, s.stmts...)
			if s.fullCopyAfter != nil {
				s.fullCopyAfter(t, ws)
			}
			got := publishReport(t, ws, wh, o)
			if got.Copy.FromPrevious != s.fromPrevious {
				t.Fatalf("copy %v, want from the previous snapshot %v", got.Copy, s.fromPrevious)
			}
			if s.fromPrevious {
				if !slices.Equal(got.Copy.Replaced, s.replaced) || !reflect.DeepEqual(got.Copy.Refreshed, s.refreshed) {
					t.Errorf("copy %v\nwant replaced %v, refreshed %v", got.Copy, s.replaced, s.refreshed)
				}
			}
			fullWS := t.TempDir()
			full := publishReport(t, fullWS, wh, o)
			if full.Copy.FromPrevious {
				t.Fatal("a first snapshot must be a full copy")
			}
			want, have := contents(t, full.Path), contents(t, got.Path)
			for _, k := range slices.Sorted(maps.Keys(want)) {
				if have[k] != want[k] {
					t.Errorf("%s differs from a full copy:\nfrom previous: %.600s\nfull copy:     %.600s", k, have[k], want[k])
				}
			}
			if len(have) != len(want) {
				t.Errorf("relations %d, a full copy has %d", len(have), len(want))
			}
		})
	}
}

// TestSnapshotStateFiles: a snapshot's state file goes when the snapshot is
// pruned; a state file half-written by a dead process is removed, a live
// one's kept.
func TestSnapshotStateFiles(t *testing.T) {
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	periodWarehouse(t, wh)
	dir := snapshot.Dir(ws)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	dead := filepath.Join(dir, ".state-2147483646-1.tmp")
	live := filepath.Join(dir, fmt.Sprintf(".state-%d-1.tmp", os.Getpid()))
	for _, f := range []string{dead, live} {
		if err := os.WriteFile(f, []byte("{"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for i := range 4 {
		execAll(t, wh, fmt.Sprintf(`UPDATE release.practices SET list_size = %d WHERE period = '2023-02'`, i))
		publishReport(t, ws, wh, snapshot.Options{Keep: 2})
	}
	snaps, _ := filepath.Glob(filepath.Join(dir, "warehouse-*.duckdb"))
	states, _ := filepath.Glob(filepath.Join(dir, ".state-warehouse-*.json"))
	if len(snaps) != 2 || len(states) != 2 {
		t.Errorf("%d snapshots and %d state files, want 2 and 2: %v", len(snaps), len(states), states)
	}
	for _, s := range snaps {
		if _, err := os.Stat(filepath.Join(dir, ".state-"+filepath.Base(s)+".json")); err != nil {
			t.Errorf("snapshot %s has no state file: %v", filepath.Base(s), err)
		}
	}
	if _, err := os.Stat(dead); !os.IsNotExist(err) {
		t.Errorf("a dead process's state file was kept (%v)", err)
	}
	if _, err := os.Stat(live); err != nil {
		t.Errorf("a live process's state file was removed: %v", err)
	}
}

// TestSnapshotGrowthBound: once a snapshot made from its predecessors has
// grown past 1.5 times its last full copy (and by more than 64 MiB), the
// next one is a full copy.
func TestSnapshotGrowthBound(t *testing.T) {
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	periodWarehouse(t, wh)
	publishReport(t, ws, wh, snapshot.Options{})
	cur, err := snapshot.Current(ws)
	if err != nil {
		t.Fatal(err)
	}
	// Pad the current snapshot's file past the bound (DuckDB ignores
	// trailing free space; the size is what the bound reads).
	f, err := os.OpenFile(cur.Path, os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.Truncate(cur.Size*2 + 65<<20); err != nil {
		t.Fatal(err)
	}
	f.Close()
	execAll(t, wh, `UPDATE release.practices SET list_size = 0 WHERE period = '2023-02'`)
	if info := publishReport(t, ws, wh, snapshot.Options{}); info.Copy.FromPrevious {
		t.Fatalf("copy %v, want a full copy of an overgrown chain", info.Copy)
	}
	execAll(t, wh, `UPDATE release.practices SET list_size = 1 WHERE period = '2023-02'`)
	if info := publishReport(t, ws, wh, snapshot.Options{}); !info.Copy.FromPrevious {
		t.Fatalf("copy %v, want one from the new full copy", info.Copy)
	}
}

func TestCopyReportString(t *testing.T) {
	for _, c := range []struct {
		r    snapshot.CopyReport
		want string
	}{
		{snapshot.CopyReport{}, "full copy"},
		{snapshot.CopyReport{FromPrevious: true, Kept: []string{"a", "b"}}, "from the previous snapshot: 2 relations kept"},
		{snapshot.CopyReport{FromPrevious: true, Kept: []string{"a"}, Replaced: []string{"trends", "x"},
			Refreshed: map[string][]string{"practices": {"2024-03", "2024-04"}, "areas": {"2024-04"}}},
			"from the previous snapshot: 1 relations kept, replaced trends, x, areas refreshed for 2024-04, practices refreshed for 2024-03 2024-04"},
	} {
		if got := c.r.String(); got != c.want {
			t.Errorf("got %q\nwant %q", got, c.want)
		}
	}
}

// TestSnapshotUsesRecordedFingerprints: where the build recorded a release
// relation's fingerprints (_gplens.release_state), the copy compares those
// instead of hashing the relation's rows: a period whose recorded
// fingerprint changes is refreshed, one whose record stays is kept.
func TestSnapshotUsesRecordedFingerprints(t *testing.T) {
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	periodWarehouse(t, wh)
	execAll(t, wh, "CREATE SCHEMA _gplens",
		`CREATE TABLE _gplens.release_state AS SELECT 'practices' AS relation, 'period' AS period_column, period AS part,
			count(*) || ':recorded-' || period AS fingerprint FROM release.practices GROUP BY period`)
	publishReport(t, ws, wh, snapshot.Options{})
	// Rows changed behind the record's back: the record is what counts.
	execAll(t, wh, `UPDATE release.practices SET list_size = -1 WHERE period = '2023-04'`)
	if got := publishReport(t, ws, wh, snapshot.Options{}); !slices.Contains(got.Copy.Kept, "practices") {
		t.Fatalf("copy %v: practices refreshed though its recorded fingerprints did not change", got.Copy)
	}
	execAll(t, wh, `UPDATE _gplens.release_state SET fingerprint = fingerprint || '-new' WHERE part = '2023-04'`)
	got := publishReport(t, ws, wh, snapshot.Options{})
	if want := map[string][]string{"practices": {"2023-04"}}; !reflect.DeepEqual(got.Copy.Refreshed, want) {
		t.Fatalf("copy %v, want practices refreshed for 2023-04 alone", got.Copy)
	}
	full := publishReport(t, t.TempDir(), wh, snapshot.Options{})
	if want, have := contents(t, full.Path)["release.practices"], contents(t, got.Path)["release.practices"]; have != want {
		t.Errorf("release.practices differs from a full copy:\n%.400s\n%.400s", have, want)
	}
}
