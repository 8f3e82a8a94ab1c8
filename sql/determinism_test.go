package sqlmodels

import (
	"context"
	"database/sql"
	"io/fs"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
)

// TestPracticeIMDScoreIndependentOfThreads runs core.lsoa_deprivation, the
// LSOA-weighted deprivation score core.practices reads, on many threads over
// LSOA rows in random order, several times, and wants the same doubles to
// the bit each time. A plain parallel sum adds the partial sums in whatever
// order the threads finish, so the score changed in its last bits from build
// to build in every period, and an incremental build then took
// core.practices (and everything below it) as changed in every period when
// one month was added.
func TestPracticeIMDScoreIndependentOfThreads(t *testing.T) {
	src, err := fs.ReadFile(FS(), "core/lsoa_deprivation.sql")
	if err != nil {
		t.Fatal(err)
	}
	cte := string(src)
	ctx := context.Background()
	db := openParallel(ctx, t)
	// 40 practices x 20,000 LSOAs, shuffled so every practice's rows are
	// spread over all row groups (and so over all threads).
	for _, q := range append(readSQL(t, "functions/incremental.sql"),
		"SELECT setseed(0.42)",
		"CREATE SCHEMA staging",
		"CREATE TABLE staging.imd_scores AS SELECT 'E' || i AS lsoa_code, random() * 80 AS imd_score FROM range(20000) AS t(i)",
		`CREATE TABLE staging.registrations_lsoa AS SELECT 'P' || (i % 40) AS practice_code, '2024-01' AS period,
			'E' || (i // 40) AS lsoa_code, 1 + (i * 7919) % 500 AS patients FROM range(800000) AS t(i) ORDER BY random()`,
	) {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	scores := func(body string) string {
		t.Helper()
		var s string
		q := "WITH lsoa_score AS (\n" + body + "\n) SELECT string_agg(practice_code || '=' || CAST(imd_score AS VARCHAR), ';' ORDER BY practice_code) FROM lsoa_score"
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

// cteWithoutOrder sums the LSOA scores in the order the threads meet them
// (the fixed order, list_sort, dropped).
func cteWithoutOrder(body string) string {
	return strings.Replace(body, "list_sum(list_transform(list_sort(list(", "list_sum(list_transform((list(", 1)
}

// TestAreaSumsIndependentOfThreads runs core.indicator_rows' area sums (its
// area_rows step, with exact_sum from functions/sums.sql) on many threads
// over fractional practice values (pounds and pence) in random order, and
// wants the same doubles each time, equal to the exact decimal totals: a
// parallel sum of doubles changed in its last bits from build to build, so
// every refreshed period looked changed to the models reading it.
func TestAreaSumsIndependentOfThreads(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	stmts := readSQL(t, "functions/sums.sql", "functions/incremental.sql")
	// 600,000 practice rows (3 indicators x 2 periods x 100,000 practices in 40
	// PCNs, 10 sub-ICBs, 4 ICBs, 2 regions), amounts with pence, shuffled.
	stmts = append(stmts, "SELECT setseed(0.17)", "CREATE SCHEMA core",
		`CREATE TABLE core.indicator_facts AS SELECT 'i' || (i % 3) AS indicator_id, CASE WHEN i % 2 = 0 THEN '2024-01' ELSE '2024-02' END AS period,
			'U' || (i % 40) AS pcn_code, 'S' || (i % 10) AS sub_icb_code, 'Q' || (i % 4) AS icb_code, 'Y' || (i % 2) AS region_code,
			CAST((i * 7919) % 1000003 AS DOUBLE) / 100 AS numerator, CAST(1 + (i * 104729) % 999983 AS DOUBLE) / 100 AS denominator
		FROM range(600000) AS t(i) ORDER BY random()`)
	for _, q := range stmts {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	src, err := fs.ReadFile(FS(), "core/indicator_rows.sql")
	if err != nil {
		t.Fatal(err)
	}
	cte := cteBody(t, "\n"+strings.Replace(string(src), "WITH area_rows AS (", "area_rows AS (", 1), "area_rows")
	sums := func(body string) string {
		t.Helper()
		var s string
		q := "WITH area_rows AS (" + body + `) SELECT string_agg(concat_ws('/', indicator_id, period, area_level, area_code,
			CAST(numerator AS VARCHAR), CAST(denominator AS VARCHAR)), ';' ORDER BY indicator_id, period, area_level, area_code) FROM area_rows`
		if err := db.QueryRowContext(ctx, q).Scan(&s); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		return s
	}
	first := sums(cte)
	for i := range 4 {
		if again := sums(cte); again != first {
			t.Fatalf("run %d: the area sums differ from the first run's", i+2)
		}
	}
	// Every total is the double nearest the exact total in pence.
	var bad int
	if err := db.QueryRowContext(ctx, "WITH area_rows AS ("+cte+`), exact AS (
			SELECT indicator_id, period, sum(CAST(round(numerator * 100) AS HUGEINT)) AS pence FROM core.indicator_facts GROUP BY ALL)
		SELECT count(*) FROM area_rows AS a JOIN exact AS e USING (indicator_id, period)
		WHERE a.area_level = 'england' AND a.numerator <> CAST(e.pence AS DOUBLE) / 100`).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad > 0 {
		t.Errorf("%d England totals are not the exact sum of their practices' pounds and pence", bad)
	}
	// The data is large enough for the order to matter: plain sums usually
	// differ between runs (logged, as it is chance).
	plain, differs := strings.ReplaceAll(cte, "exact_sum(", "sum("), false
	base := sums(plain)
	for i := 0; i < 4 && !differs; i++ {
		differs = sums(plain) != base
	}
	t.Logf("plain sums differed between runs: %v", differs)
}

// openParallel is an in-memory DuckDB on 4 threads, one connection, so a
// test's temp tables and settings stay on it while its sums run in parallel.
func openParallel(ctx context.Context, t *testing.T) *sql.DB {
	t.Helper()
	db, err := duck.Open(ctx, "", duck.Options{Threads: 4, NoMetrics: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	return db
}

// TestCurrentNameTies: where a month and a financial year end on the same
// day (March 2024 and 2023-24) and their sources rank alike, core.current_names
// takes the month's spelling, whatever order the rows come in. arg_min over
// equal keys took whichever row came first, so a build could rename areas
// in every period it had been given no new name for.
func TestCurrentNameTies(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	src := readSQL(t, "functions/periods.sql", "core/current_names.sql")
	body := src[1]
	for _, q := range []string{src[0], "CREATE SCHEMA core",
		`CREATE TABLE core.periods AS SELECT * FROM (VALUES ('2023-24'), ('2024-03')) AS t(period)`} {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, order := range []string{"random()", "period", "period DESC", "source", "source DESC"} {
		// 20,000 PCNs named by the year's QOF geography and by March's
		// practice map (both rank 1), and by February's map (older)
		if _, err := db.ExecContext(ctx, `CREATE OR REPLACE TABLE core.area_names AS
			SELECT * FROM (
				SELECT 'pcn' AS area_level, 'U' || i AS area_code, '2023-24' AS period, 'qof_geography' AS source, 1 AS source_rank, 'YEAR ' || i AS area_name FROM range(20000) t(i)
				UNION ALL SELECT 'pcn', 'U' || i, '2024-03', 'practice_map', 1, 'MARCH ' || i FROM range(20000) t(i)
				UNION ALL SELECT 'pcn', 'U' || i, '2024-02', 'practice_map', 1, 'FEBRUARY ' || i FROM range(20000) t(i)
			) ORDER BY `+order); err != nil {
			t.Fatal(err)
		}
		var n, march int
		if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE area_name = 'MARCH ' || substr(area_code, 2) AND name_period = '2024-03')
			FROM (`+body+`) WHERE area_level = 'pcn'`).Scan(&n, &march); err != nil {
			t.Fatal(err)
		}
		if n != 20000 || march != n {
			t.Errorf("rows in order %s: %d of %d PCNs take March's practice-map name, want all", order, march, n)
		}
	}
}

// TestAreaNameSpellings: core.area_names counts each source's rows by the
// names they carry and keeps, per area, period and source, the spelling
// most rows use (ties: the smallest), at every level a source names, in
// any row order.
func TestAreaNameSpellings(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	src := readSQL(t, "functions/incremental.sql", "core/area_names.sql")
	if _, err := db.ExecContext(ctx, src[0]); err != nil {
		t.Fatal(err)
	}
	cols := "period VARCHAR, practice_code VARCHAR, practice_name VARCHAR, pcn_code VARCHAR, pcn_name VARCHAR, " +
		"sub_icb_code VARCHAR, sub_icb_name VARCHAR, icb_code VARCHAR, icb_name VARCHAR, region_code VARCHAR, region_name VARCHAR"
	setup := []string{"CREATE SCHEMA staging"}
	for _, v := range []string{"qof_geography", "practice_map", "workforce", "payments"} {
		setup = append(setup, "CREATE TABLE staging."+v+" ("+cols+")")
	}
	setup = append(setup,
		"CREATE TABLE staging.qof_points (period VARCHAR, practice_code VARCHAR, practice_name VARCHAR)",
		"CREATE TABLE staging.ods_practices (period VARCHAR, practice_code VARCHAR, practice_name VARCHAR)",
		"CREATE TABLE staging.ods_sub_icbs (period VARCHAR, sub_icb_code VARCHAR, sub_icb_name VARCHAR)",
		// workforce, 2024-03: practice A81001 spelled 'B NAME' on three staff rows and
		// 'A NAME' on two; its PCN 'PCN Y' and 'PCN X' twice each (a tie); ' ' names and codes
		// are no names
		`INSERT INTO staging.workforce VALUES
			('2024-03', 'A81001', 'B NAME', 'U1', 'PCN Y', '16C', 'SUB', 'QHM', 'ICB', 'Y63', 'NE'),
			('2024-03', 'A81001', 'B NAME', 'U1', 'PCN Y', '16C', 'SUB', 'QHM', 'ICB', 'Y63', 'NE'),
			('2024-03', 'A81001', 'B NAME', 'U1', 'PCN X', '16C', 'SUB', 'QHM', 'ICB', 'Y63', 'NE'),
			('2024-03', 'A81001', 'A NAME', 'U1', 'PCN X', '16C', ' ', ' ', 'ICB', 'Y63', 'NE'),
			('2024-03', 'A81001', 'A NAME', 'U1', ' ', '16C', 'SUB', 'QHM', 'ICB', 'Y63', 'NE')`,
		`INSERT INTO staging.payments VALUES ('2023-24', 'A81001', 'Pay Name', 'U1', 'Pay PCN', '16C', 'Pay Sub', 'QHM', 'not read', 'Y63', 'Pay NE')`,
		`INSERT INTO staging.ods_sub_icbs VALUES ('2024-03', '16C', 'ODS SUB')`,
	)
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	want := strings.Join([]string{
		"icb QHM 2024-03 workforce 2 ICB",
		"pcn U1 2023-24 payments 3 Pay PCN",
		"pcn U1 2024-03 workforce 2 PCN X",
		"practice A81001 2023-24 payments 3 Pay Name",
		"practice A81001 2024-03 workforce 2 B NAME",
		"region Y63 2023-24 payments 3 Pay NE",
		"region Y63 2024-03 workforce 2 NE",
		"sub_icb 16C 2023-24 payments 3 Pay Sub",
		"sub_icb 16C 2024-03 ods_eccg 9 ODS SUB",
		"sub_icb 16C 2024-03 workforce 2 SUB",
	}, "\n")
	for _, order := range []string{"random()", "practice_name", "practice_name DESC, pcn_name DESC"} {
		if _, err := db.ExecContext(ctx, "CREATE OR REPLACE TABLE staging.workforce AS SELECT * FROM staging.workforce ORDER BY "+order); err != nil {
			t.Fatal(err)
		}
		var got string
		if err := db.QueryRowContext(ctx, `SELECT string_agg(concat_ws(' ', area_level, area_code, period, source, source_rank, area_name), chr(10)
			ORDER BY area_level, area_code, period, source) FROM (`+src[1]+`)`).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("rows in order %s:\n%s\nwant\n%s", order, got, want)
		}
	}
}

// TestSortedQuantile: sorted_quantile (functions/sums.sql) over a sorted
// list equals quantile_cont to the bit, for groups of 1 to 15 values and
// the quantiles the models and others ask for, and gives NULL for none.
func TestSortedQuantile(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	if _, err := db.ExecContext(ctx, readSQL(t, "functions/sums.sql")[0]); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{"0.25", "0.75", "0.5", "0.1", "0.0", "1.0"} {
		var groups, same, nulls int
		if err := db.QueryRowContext(ctx, `
			WITH v AS (
				SELECT g, x FROM (SELECT i AS g, (i % 15) + 1 AS n FROM range(20000) t(i)),
					LATERAL (SELECT (hash(g, j) % 100000) / 997.0 + (j % 3) * 0.1 AS x FROM range(n) r(j))
			)
			SELECT count(*), count(*) FILTER (WHERE a = b), (SELECT count(*) FROM (SELECT 1) WHERE sorted_quantile(CAST([] AS DOUBLE[]), `+q+`) IS NULL)
			FROM (SELECT g, quantile_cont(x, `+q+`) AS a, sorted_quantile(list_sort(list(x)), `+q+`) AS b FROM v GROUP BY g)`).Scan(&groups, &same, &nulls); err != nil {
			t.Fatal(err)
		}
		if groups != 20000 || same != groups || nulls != 1 {
			t.Errorf("q %s: %d of %d groups equal quantile_cont to the bit (want all); empty list gives NULL: %d", q, same, groups, nulls)
		}
	}
}

// TestMostCommonTies: most_common (functions/sums.sql) gives the most
// frequent value, ties to the smallest, whatever the row order and thread
// count; and no model uses mode(), which takes whichever tied value its
// threads meet first (a PCN split evenly between two sub-ICBs changed parent
// from build to build).
func TestMostCommonTies(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	if _, err := db.ExecContext(ctx, readSQL(t, "functions/sums.sql")[0]); err != nil {
		t.Fatal(err)
	}
	// 50,000 groups: in each, codes 'S<g>b' and 'S<g>a' twice each, 'S<g>c' once
	for _, order := range []string{"random()", "v", "v DESC"} {
		var groups, smallest int
		if err := db.QueryRowContext(ctx, `SELECT count(*), count(*) FILTER (WHERE m = 'S' || g || 'a') FROM (
			SELECT g, most_common(v) AS m FROM (
				SELECT g, v FROM (SELECT i AS g FROM range(50000) t(i)),
					(VALUES ('b'), ('a'), ('b'), ('a'), ('c'), (NULL)) AS s(x), LATERAL (SELECT 'S' || g || x AS v)
				ORDER BY `+order+`) GROUP BY g)`).Scan(&groups, &smallest); err != nil {
			t.Fatal(err)
		}
		if groups != 50000 || smallest != groups {
			t.Errorf("rows in order %s: %d of %d groups give the smallest of the tied values", order, smallest, groups)
		}
	}
	err := fs.WalkDir(FS(), ".", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".sql") || strings.HasPrefix(path, "functions/") {
			return err
		}
		src, err := fs.ReadFile(FS(), path)
		if err != nil {
			return err
		}
		for i, line := range strings.Split(string(src), "\n") {
			code, _, _ := strings.Cut(line, "--")
			if strings.Contains(strings.ToLower(code), "mode(") {
				t.Errorf("%s:%d uses mode(), whose ties depend on row order: use most_common()", path, i+1)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// readSQL returns the text of each file of the embedded models (sql/).
func readSQL(t *testing.T, paths ...string) []string {
	t.Helper()
	out := make([]string, len(paths))
	for i, p := range paths {
		b, err := fs.ReadFile(FS(), p)
		if err != nil {
			t.Fatal(err)
		}
		out[i] = string(b)
	}
	return out
}

// TestSubICBParentVotes: core.sub_icb_parents gives a sub-ICB the ICB and
// region most mapping rows give in the period, a month's workforce file
// counting once per staff row (core.workforce_mapping's workforce_rows), and
// breaks a tie with the smallest code, in any row order.
func TestSubICBParentVotes(t *testing.T) {
	ctx := context.Background()
	db := openParallel(ctx, t)
	src := readSQL(t, "functions/periods.sql", "functions/sums.sql", "core/sub_icb_parents.sql")
	model := src[2]
	setup := []string{src[0], src[1], "CREATE SCHEMA staging", "CREATE SCHEMA core",
		"CREATE TABLE core.periods AS SELECT '2024-01' AS period",
		"CREATE TABLE staging.ods_sub_icbs (sub_icb_code VARCHAR, period VARCHAR, icb_code VARCHAR, region_code VARCHAR)",
		"CREATE TABLE staging.ods_practices (sub_icb_code VARCHAR)",
		"CREATE TABLE staging.payments (sub_icb_code VARCHAR, period VARCHAR)",
		"CREATE TABLE staging.qof_points (sub_icb_code VARCHAR, period VARCHAR)",
		"CREATE TABLE staging.registrations (sub_icb_code VARCHAR, period VARCHAR)",
		"CREATE TABLE staging.qof_geography (sub_icb_code VARCHAR, period VARCHAR, icb_code VARCHAR, region_code VARCHAR)",
	}
	for _, q := range setup {
		if _, err := db.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	for _, order := range []string{"random()", "icb_code", "icb_code DESC"} {
		for _, q := range []string{
			// 01A: three practices in the map say QAA (Y60); one practice's 40 workforce rows
			// say QBB (Y61). 02B: one map row each for QDD and QCC (Y62): a tie.
			`CREATE OR REPLACE TABLE staging.practice_map AS SELECT * FROM (VALUES
				('01A', '2024-01', '2023-24', 'QAA', 'Y60'), ('01A', '2024-01', '2023-24', 'QAA', 'Y60'),
				('01A', '2024-01', '2023-24', 'QAA', 'Y60'),
				('02B', '2024-01', '2023-24', 'QDD', 'Y62'), ('02B', '2024-01', '2023-24', 'QCC', 'Y62'))
				AS t(sub_icb_code, period, fy, icb_code, region_code) ORDER BY ` + order,
			`CREATE OR REPLACE TABLE core.workforce_mapping AS
				SELECT 'P1' AS practice_code, '2024-01' AS period, 'U1' AS pcn_code, '01A' AS sub_icb_code,
					'QBB' AS icb_code, 'Y61' AS region_code, 40 AS workforce_rows`,
		} {
			if _, err := db.ExecContext(ctx, q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
		rows, err := db.QueryContext(ctx, "SELECT sub_icb_code, icb_code, region_code, parent_from FROM ("+model+") ORDER BY 1")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for rows.Next() {
			var s, i, r, from string
			if err := rows.Scan(&s, &i, &r, &from); err != nil {
				t.Fatal(err)
			}
			got = append(got, s+" "+i+" "+r+" "+from)
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		want := []string{"01A QBB Y61 mapping", "02B QCC Y62 mapping"}
		if strings.Join(got, "; ") != strings.Join(want, "; ") {
			t.Errorf("rows in order %s: got %q, want %q", order, got, want)
		}
	}
}
