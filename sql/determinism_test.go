package sqlmodels

import (
	"context"
	"io/fs"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
)

// TestPracticeIMDScoreIndependentOfThreads runs core.practices' LSOA-weighted
// deprivation score (its lsoa_score step) on many threads over LSOA rows in
// random order, several times, and wants the same doubles to the bit each
// time. A plain parallel sum adds the partial sums in whatever order the
// threads finish, so the score changed in its last bits from build to build
// in every period, and an incremental build then took core.practices (and
// everything below it) as changed in every period when one month was added.
func TestPracticeIMDScoreIndependentOfThreads(t *testing.T) {
	src, err := fs.ReadFile(FS(), "core/practices.sql")
	if err != nil {
		t.Fatal(err)
	}
	cte := cteBody(t, string(src), "lsoa_score")
	ctx := context.Background()
	db, err := duck.Open(ctx, "", duck.Options{Threads: 4, NoMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	db.SetMaxOpenConns(1)
	// 40 practices x 20,000 LSOAs, shuffled so every practice's rows are
	// spread over all row groups (and so over all threads).
	for _, q := range []string{
		"SELECT setseed(0.42)",
		"CREATE SCHEMA staging",
		"CREATE TABLE staging.imd_scores AS SELECT 'E' || i AS lsoa_code, random() * 80 AS imd_score FROM range(20000) AS t(i)",
		`CREATE TABLE staging.registrations_lsoa AS SELECT 'P' || (i % 40) AS practice_code, '2024-01' AS period,
			'E' || (i // 40) AS lsoa_code, 1 + (i * 7919) % 500 AS patients FROM range(800000) AS t(i) ORDER BY random()`,
	} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	scores := func(body string) string {
		t.Helper()
		var s string
		q := "WITH lsoa_score AS (" + body + ") SELECT string_agg(practice_code || '=' || CAST(imd_score AS VARCHAR), ';' ORDER BY practice_code) FROM lsoa_score"
		if err := db.QueryRowContext(ctx, q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if strings.Count(s, "=") != 40 {
			t.Fatalf("want 40 practices' scores, got %q", s)
		}
		return s
	}
	first := scores(cte)
	for i := 0; i < 4; i++ {
		if again := scores(cte); again != first {
			t.Fatalf("run %d: the scores differ from the first run's:\n%s\n%s", i+2, again, first)
		}
	}
	// The data is large enough for the order to matter: the same sum without
	// its ORDER BY usually differs between runs (logged, as it is chance).
	plain, differs := cteWithoutOrder(cte), false
	base := scores(plain)
	for i := 0; i < 4 && !differs; i++ {
		differs = scores(plain) != base
	}
	t.Logf("an unordered sum differed between runs: %v", differs)
}

// cteBody returns the body of the CTE name in a model's SQL ("name AS (" up
// to the ")," that closes it at the start of a line).
func cteBody(t *testing.T, sql, name string) string {
	t.Helper()
	_, after, ok := strings.Cut(sql, "\n"+name+" AS (\n")
	if !ok {
		t.Fatalf("no CTE %s in the model", name)
	}
	body, _, ok := strings.Cut(after, "\n),\n")
	if !ok {
		t.Fatalf("CTE %s is not closed", name)
	}
	return body
}

// cteWithoutOrder drops the ORDER BY of the ordered sum in the lsoa_score CTE.
func cteWithoutOrder(body string) string {
	return strings.Replace(body, " ORDER BY r.lsoa_code, r.patients)", ")", 1)
}
