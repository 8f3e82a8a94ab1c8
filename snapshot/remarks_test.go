package snapshot_test

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/snapshot"
	"github.com/gplens/gplens/snapshot/snapshottest"
)

// comments reads the column comments of the marts and analyst schemas of
// the database file at path: "schema.table.column" -> comment ("" none).
func comments(t *testing.T, path string) map[string]string {
	t.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	rows, err := db.QueryContext(ctx, `SELECT schema_name || '.' || table_name || '.' || column_name, coalesce(comment, '')
		FROM duckdb_columns() WHERE schema_name IN ('marts', 'analyst')`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var k, v string
		if err := rows.Scan(&k, &v); err != nil {
			t.Fatal(err)
		}
		out[k] = v
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func releaseWarehouse(t *testing.T, path string) {
	t.Helper()
	ctx := context.Background()
	db, err := sql.Open("duckdb", path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for _, q := range []string{
		"CREATE SCHEMA release", "CREATE SCHEMA marts", "CREATE SCHEMA analyst",
		"CREATE TABLE release.indicator_values AS SELECT 'P001' AS area_code, 1.5 AS value, 'x' AS note",
		"CREATE TABLE marts.indicator_values AS SELECT * FROM release.indicator_values",
		"CREATE VIEW analyst.variation AS SELECT area_code, value, note FROM marts.indicator_values",
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
}

// TestRemarks: publishing with Remarks comments the reader relations'
// columns (tables and views) in the snapshot and in its scoped copies; a
// comment the warehouse has is kept, and undescribed columns get none.
func TestRemarks(t *testing.T) {
	dict := map[[2]string]string{
		{"indicator_values", "area_code"}: "Area code, from the dictionary",
		{"indicator_values", "value"}:     "Value, from the dictionary",
		{"variation", "value"}:            "Variation value, from the dictionary",
	}
	remarks := func(rel, col string) string { return dict[[2]string{rel, col}] }
	cases := []struct {
		name   string
		build  func(t *testing.T, path string)
		scopes []snapshot.Scope
		want   map[string]string
	}{
		{
			name: "no release layer",
			build: func(t *testing.T, path string) {
				if err := snapshottest.Warehouse(context.Background(), path, 1, 10); err != nil {
					t.Fatal(err)
				}
			},
			scopes: []snapshot.Scope{{Level: "icb", Code: "QAA"}},
			want: map[string]string{
				"marts.indicator_values.area_code": "Area code, from the dictionary",
				"marts.indicator_values.value":     "The indicator value, in the indicator's unit", // the warehouse's own
				"analyst.variation.value":          "Variation value, from the dictionary",
				"analyst.variation.area_name":      "",
			},
		},
		{
			name:  "release layer",
			build: releaseWarehouse,
			want: map[string]string{
				"marts.indicator_values.area_code": "Area code, from the dictionary",
				"marts.indicator_values.value":     "Value, from the dictionary",
				"marts.indicator_values.note":      "",
				"analyst.variation.value":          "Variation value, from the dictionary",
				"analyst.variation.note":           "",
			},
		},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ws := t.TempDir()
			wh := filepath.Join(ws, "warehouse.duckdb")
			c.build(t, wh)
			info, err := snapshot.PublishContext(context.Background(), ws, wh, "r", snapshot.Options{Remarks: remarks, Scopes: c.scopes})
			if err != nil {
				t.Fatal(err)
			}
			paths := []string{info.Path}
			for _, sc := range c.scopes {
				paths = append(paths, snapshot.ScopedPath(info, sc))
			}
			for _, p := range paths {
				got := comments(t, p)
				for col, want := range c.want {
					if v, ok := got[col]; !ok || v != want {
						t.Errorf("%s: %s comment %q (present %v), want %q", filepath.Base(p), col, v, ok, want)
					}
				}
			}
		})
	}
}
