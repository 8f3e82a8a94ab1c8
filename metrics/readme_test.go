package metrics_test

import (
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

// TestREADMEExamples runs the SQL examples of the README section against
// small tables, so the documentation cannot drift from the functions.
func TestREADMEExamples(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatalf("README.md: %v", err)
	}
	// Only the metrics section: other sections' SQL is not runnable alone.
	const heading = "## Statistical methods and SQL functions"
	i := strings.Index(string(readme), heading)
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	b := readme[i+len(heading):]
	if j := strings.Index(string(b), "\n## "); j >= 0 {
		b = b[:j]
	}
	db := testDB(t)
	setup := []string{
		`CREATE TABLE indicator AS SELECT 'P' || i AS practice_code, (50 + i * 7 % 40)::DOUBLE AS x, (200 + i * 13 % 300)::DOUBLE AS n FROM range(60) t(i)`,
		`CREATE TABLE decile_values AS SELECT 'Q' || (i % 3) AS icb_code, d AS decile, 1000 + 50 * d AS population,
			70 + d + i % 3 AS value, 68 + d + i % 3 AS lower, 72 + d + i % 3 AS upper FROM range(3) a(i), range(1, 11) b(d)`,
		`CREATE TABLE monthly AS SELECT DATE '2023-01-01' + INTERVAL (i) MONTH AS month, 10 + (i % 2) * 2 + CASE WHEN i = 15 THEN 30 ELSE 0 END AS value FROM range(24) t(i)`,
	}
	for _, s := range setup {
		if _, err := db.Exec(s); err != nil {
			t.Fatal(err)
		}
	}
	blocks := regexp.MustCompile("(?s)```sql\n(.*?)```").FindAllStringSubmatch(string(b), -1)
	ran := 0
	for _, blk := range blocks {
		for _, stmt := range strings.Split(blk[1], ";") {
			if strings.TrimSpace(stripComments(stmt)) == "" {
				continue
			}
			if strings.Contains(stmt, "AS quantile") {
				continue // a window expression fragment; tested in TestGoldenQuantilesSQL
			}
			rows, err := db.Query(stmt)
			if err != nil {
				t.Errorf("README example failed: %v\n%s", err, stmt)
				continue
			}
			n := 0
			for rows.Next() {
				n++
			}
			rows.Close()
			if n == 0 {
				t.Errorf("README example returned no rows:\n%s", stmt)
			}
			ran++
		}
	}
	if ran < 4 {
		t.Errorf("ran %d README examples, want at least 4", ran)
	}
}

func stripComments(s string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if !strings.HasPrefix(strings.TrimSpace(l), "--") {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}

// TestSQLFunctionsRegisteredAndDocumented checks every function is in
// DuckDB's catalogue and in the README's reference table.
func TestSQLFunctionsRegisteredAndDocumented(t *testing.T) {
	db := testDB(t)
	doc, _ := os.ReadFile("../.brief/README-metrics.md")
	names := metrics.SQLFunctionNames()
	if len(names) < 20 {
		t.Fatalf("only %d functions: %v", len(names), names)
	}
	for _, name := range names {
		if n := sqlFloat(t, db, "SELECT count(*) FROM duckdb_functions() WHERE function_name = ?", name); n == 0 {
			t.Errorf("%s is not registered", name)
		}
		if len(doc) > 0 && !strings.Contains(string(doc), "`"+name+"(") {
			t.Errorf("%s is missing from the README reference", name)
		}
	}
}
