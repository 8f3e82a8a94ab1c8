package metrics_test

import (
	"context"
	"database/sql"
	"encoding/csv"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/gplens/gplens/duck"
)

const goldenDir = "../../shared/data/golden"

type row map[string]string

func (r row) f(t testing.TB, col string) float64 {
	t.Helper()
	s, ok := r[col]
	if !ok {
		t.Fatalf("no column %q", col)
	}
	if s == "" || s == "NA" {
		return math.NaN()
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		t.Fatalf("column %s: %v", col, err)
	}
	return v
}

func readGolden(t testing.TB, name string) []row {
	t.Helper()
	f, err := os.Open(filepath.Join(goldenDir, name))
	if os.IsNotExist(err) {
		t.Skipf("golden file %s not present", name)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var out []row
	for _, rec := range recs[1:] {
		r := row{}
		for i, h := range recs[0] {
			r[h] = rec[i]
		}
		out = append(out, r)
	}
	return out
}

// near reports whether got matches want within rel (relative, with an
// absolute floor of rel for values near 0); both NaN counts as equal.
func near(got, want, rel float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Max(1, math.Abs(want))
}

func nearRel(got, want, rel float64) bool {
	if math.IsNaN(want) || math.IsNaN(got) {
		return math.IsNaN(want) && math.IsNaN(got)
	}
	return math.Abs(got-want) <= rel*math.Abs(want)
}

// testDB opens an in-memory DuckDB the way gplens does, with the metrics
// functions registered.
func testDB(t testing.TB) *sql.DB {
	t.Helper()
	db, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// sqlFloat runs a one-value query; NULL comes back as NaN.
func sqlFloat(t testing.TB, db *sql.DB, q string, args ...any) float64 {
	t.Helper()
	var v sql.NullFloat64
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
	if !v.Valid {
		return math.NaN()
	}
	return v.Float64
}

func sqlString(t testing.TB, db *sql.DB, q string, args ...any) string {
	t.Helper()
	var v sql.NullString
	if err := db.QueryRow(q, args...).Scan(&v); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
	return v.String
}
