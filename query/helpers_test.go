package query

import (
	"context"
	"database/sql"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
)

// openDB opens an in-memory DuckDB the way the CLI does.
func openDB(t *testing.T) *sql.DB {
	t.Helper()
	db, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// openFixture opens a warehouse with the contract's tables
// (testdata/fixture.sql) and, with views set, the analyst views built from
// ../sql/analyst as the transform engine would build them.
func openFixture(t *testing.T, views bool) *sql.DB {
	t.Helper()
	db := openDB(t)
	ctx := context.Background()
	src, err := os.ReadFile("testdata/fixture.sql")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.ExecContext(ctx, string(src)); err != nil {
		t.Fatalf("load fixture: %v", err)
	}
	if views {
		if _, err := db.ExecContext(ctx, "CREATE SCHEMA analyst"); err != nil {
			t.Fatal(err)
		}
		for _, f := range analystFiles(t) {
			body, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			name := strings.TrimSuffix(filepath.Base(f), ".sql")
			q := "CREATE VIEW analyst." + name + " AS\n" + strings.TrimRight(strings.TrimSpace(string(body)), ";")
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("create view analyst.%s: %v", name, err)
			}
		}
	}
	return db
}

func analystFiles(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("../sql/analyst/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	return files
}
