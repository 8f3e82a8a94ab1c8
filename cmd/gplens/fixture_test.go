package main

import (
	"context"
	"database/sql"
	"os"
	"sort"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
)

// checkQueryFixture compares the hand-written warehouse of the query tests
// (query/testdata/fixture.sql) with a warehouse the real models built: every
// table the fixture defines must be one the models build, and every column
// it gives such a table must be one the model has, so the query tests never
// pass on a schema the pipeline does not make (a model that drops or
// renames a column fails here by name). The fixture may leave columns out:
// the analyst views it is used for fail to bind if they read one.
func checkQueryFixture(t *testing.T, warehouse string) {
	t.Helper()
	ctx := context.Background()
	src, err := os.ReadFile("../../query/testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	fix, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer fix.Close()
	if _, err := fix.ExecContext(ctx, string(src)); err != nil {
		t.Fatalf("load query fixture: %v", err)
	}
	real, err := duck.Open(ctx, warehouse, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer real.Close()
	want := columnsBySchema(t, real, "warehouse")
	got := columnsBySchema(t, fix, "fixture")
	for table, cols := range got {
		wcols, ok := want[table]
		if !ok {
			t.Errorf("query fixture defines %s, which the models do not build", table)
			continue
		}
		if extra := minus(cols, wcols); len(extra) > 0 {
			t.Errorf("query fixture's %s has %s, which the model does not", table, strings.Join(extra, ", "))
		}
	}
}

// columnsBySchema maps schema.table to its column names, for the schemas
// the query fixture copies.
func columnsBySchema(t *testing.T, db *sql.DB, what string) map[string][]string {
	t.Helper()
	rows, err := db.Query(`SELECT schema_name || '.' || table_name, column_name FROM duckdb_columns()
		WHERE database_name = current_database() AND schema_name IN ('core', 'marts', 'release')`)
	if err != nil {
		t.Fatalf("columns of the %s: %v", what, err)
	}
	defer rows.Close()
	m := map[string][]string{}
	for rows.Next() {
		var table, col string
		if err := rows.Scan(&table, &col); err != nil {
			t.Fatal(err)
		}
		m[table] = append(m[table], col)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return m
}

// minus returns the names in a that are not in b, sorted.
func minus(a, b []string) []string {
	in := map[string]bool{}
	for _, x := range b {
		in[x] = true
	}
	var out []string
	for _, x := range a {
		if !in[x] {
			out = append(out, x)
		}
	}
	sort.Strings(out)
	return out
}
