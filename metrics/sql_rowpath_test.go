package metrics

import (
	"context"
	"database/sql"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// TestRowPathMatchesVectorised registers the row-path fallback of a few
// vectorised functions under other names and checks both agree.
func TestRowPathMatchesVectorised(t *testing.T) {
	c, err := duckdb.NewConnector("", nil)
	if err != nil {
		t.Fatal(err)
	}
	db := sql.OpenDB(c)
	defer db.Close()
	conn, err := db.Conn(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	// One DuckDB thread: make test also runs this test under the race
	// detector, for the pointer checks on the functions' string reads, and
	// with several threads it would also report duckdb-go's own unguarded
	// write of a function's bind context (scalar_udf.go, setCtx), not ours.
	if _, err := conn.ExecContext(context.Background(), "SET threads = 1"); err != nil {
		t.Fatal(err)
	}
	if err := RegisterSQL(conn); err != nil {
		t.Fatal(err)
	}
	ty, _ := newSQLTypes()
	for _, u := range sqlFunctions(ty) {
		if u.float != nil {
			u.kernel, u.float = floatKernel(u.float), nil
		}
		u.prep = nil
		if u.nested != nil {
			// the same rows through duckdb-go's setter
			slow := *u.nested
			slow.write = func(mapping.Vector, []any) bool { return false }
			u.nested, u.name = &slow, u.name+"_rows"
			if err := u.register(conn); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if u.kernel == nil {
			continue
		}
		u.newFn, u.kernel, u.special = kernelRows(u.stringResult, u.nullNaN, u.kernel), nil, u.nullNaN
		u.name += "_rows"
		if err := u.register(conn); err != nil {
			t.Fatal(err)
		}
	}
	// NULLs in numbers and strings, several chunks, and results that are
	// inline (short) and heap (long) strings.
	q := `SELECT count(*) FROM (
		SELECT CASE WHEN i % 11 = 0 THEN NULL ELSE (i % 40)::DOUBLE END AS x, (40 + i % 90)::DOUBLE AS n,
			i, CASE WHEN i % 7 = 0 THEN NULL WHEN i % 3 = 0 THEN '  proportion  ' WHEN i % 2 = 0 THEN 'ratio' ELSE 'proportion' END AS stat
		FROM range(5000) t(i))
	WHERE wilson_lower(x, n) IS DISTINCT FROM wilson_lower_rows(x, n)
	   OR byars_lower(x, 99.8) IS DISTINCT FROM byars_lower_rows(x, 99.8)
	   OR poisson_upper(x) IS DISTINCT FROM poisson_upper_rows(x)
	   OR rate_lower(x, n, 100) IS DISTINCT FROM rate_lower_rows(x, n, 100)
	   OR funnel_significance(x, n, 0.3) IS DISTINCT FROM funnel_significance_rows(x, n, 0.3)
	   OR funnel_significance(x, n, 0.3, stat) IS DISTINCT FROM funnel_significance_rows(x, n, 0.3, stat)
	   OR wilson_upper(x, n, 99.8) IS DISTINCT FROM wilson_upper_rows(x, n, 99.8)
	   OR isr_upper(x, n / 10) IS DISTINCT FROM isr_upper_rows(x, n / 10)
	   OR compare_label(0.3, wilson_lower(x, n), wilson_upper(x, n), CASE WHEN i % 5 > 0 THEN wilson_lower(x, n, 99.8) END, wilson_upper(x, n, 99.8))
	      IS DISTINCT FROM compare_label_rows(0.3, wilson_lower(x, n), wilson_upper(x, n), CASE WHEN i % 5 > 0 THEN wilson_lower(x, n, 99.8) END, wilson_upper(x, n, 99.8))
	   OR compare_label(0.3, x / n - 0.05, x / n + 0.05, x / n - 0.1, x / n + 0.1, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN 'higher_is_better' ELSE 'low' END)
	      IS DISTINCT FROM compare_label_rows(0.3, x / n - 0.05, x / n + 0.05, x / n - 0.1, x / n + 0.1, CASE WHEN i % 3 = 0 THEN NULL WHEN i % 3 = 1 THEN 'higher_is_better' ELSE 'low' END)
	   OR funnel_limit(0.3, n, 0.998, 'lower') IS DISTINCT FROM funnel_limit_rows(0.3, n, 0.998, 'lower')
	   OR funnel_limit(0.3, n, 95, 'upper', 'ratio') IS DISTINCT FROM funnel_limit_rows(0.3, n, 95, 'upper', 'ratio')
	   OR funnel_limit((x + 1) / 100, n, 0.95, CASE WHEN i % 2 = 0 THEN 'lower' ELSE 'upper' END, CASE WHEN i % 3 = 0 THEN NULL ELSE 'rate' END)
	      IS DISTINCT FROM funnel_limit_rows((x + 1) / 100, n, 0.95, CASE WHEN i % 2 = 0 THEN 'lower' ELSE 'upper' END, CASE WHEN i % 3 = 0 THEN NULL ELSE 'rate' END)
	   OR funnel_significance_od(x, n, 0.3, 2, 0.001) IS DISTINCT FROM funnel_significance_od_rows(x, n, 0.3, 2, 0.001)`
	var bad int
	if err := conn.QueryRowContext(context.Background(), q).Scan(&bad); err != nil {
		t.Fatal(err)
	}
	if bad != 0 {
		t.Errorf("%d rows differ between the row and vectorised paths", bad)
	}
	// spc_xmr: series of 2 to 40 points over several chunks, NULL lists,
	// long and short point types, every improvement direction and the
	// optional arguments.
	q = `WITH s AS (
		SELECT i, CASE WHEN i % 13 = 0 THEN NULL
			ELSE list_transform(range(2 + i % 39), k -> 50 + ((k * 7 + i) % 11) + CASE WHEN k > 25 THEN 9 * (i % 3) ELSE 0 END)::DOUBLE[] END AS v,
			['increase', 'decrease', 'neutral'][1 + i % 3] AS imp
		FROM range(6000) t(i))
	SELECT count(*), count(*) FILTER (WHERE len(spc_xmr(v, imp)) > 0),
		count(*) FILTER (WHERE list_contains(list_transform(spc_xmr(v, imp), p -> p.point_type), 'special_cause_improvement')),
		count(*) FILTER (WHERE spc_xmr(v, imp) IS DISTINCT FROM spc_xmr_rows(v, imp)
			OR spc_xmr(v) IS DISTINCT FROM spc_xmr_rows(v)
			OR spc_xmr(v, imp, i % 2 = 0) IS DISTINCT FROM spc_xmr_rows(v, imp, i % 2 = 0)
			OR len(v) >= 12 AND spc_xmr(v, imp, true, 12) IS DISTINCT FROM spc_xmr_rows(v, imp, true, 12))
	FROM s`
	var rows, charts, special int
	if err := conn.QueryRowContext(context.Background(), q).Scan(&rows, &charts, &special, &bad); err != nil {
		t.Fatal(err)
	}
	if rows != 6000 || charts < 5000 || special == 0 || bad != 0 {
		t.Errorf("spc_xmr: %d rows, %d charts, %d with special causes; %d differ between the row and in-place paths", rows, charts, special, bad)
	}
	// nearest_peers: groups of 1 to 60 units over several chunks of
	// groups, ids short (inline) and long (in the string heap, many
	// different ones), missing features, a NULL argument (an error on
	// both paths, so none here) and k above the number of others.
	q = `WITH u AS (
		SELECT i % 700 AS g, CASE WHEN i % 2 = 0 THEN 'P' || i ELSE 'a-practice-code-' || i END AS id,
			[CASE WHEN i % 9 = 0 THEN NULL ELSE (i * 7919 % 101)::DOUBLE END, (i * 104729 % 37)::DOUBLE] AS f
		FROM range(21000) t(i) WHERE i % 700 < 30 OR i < 2100 OR i % 11 < 8),
	p AS (
		SELECT g, list(id ORDER BY id) AS ids, list(f ORDER BY id) AS fs, 1 + g % 12 AS k FROM u GROUP BY g)
	SELECT count(*), sum(len(nearest_peers(ids, fs, ['a', 'b'], 'a=1;b=2', k))),
		count(*) FILTER (WHERE nearest_peers(ids, fs, ['a', 'b'], 'a=1;b=2', k)
			IS DISTINCT FROM nearest_peers_rows(ids, fs, ['a', 'b'], 'a=1;b=2', k))
	FROM p`
	var groups, pairs int
	if err := conn.QueryRowContext(context.Background(), q).Scan(&groups, &pairs, &bad); err != nil {
		t.Fatal(err)
	}
	if groups != 700 || pairs < 20000 || bad != 0 {
		t.Errorf("nearest_peers: %d groups, %d pairs; %d differ between the row and in-place paths", groups, pairs, bad)
	}
	var v any
	err = conn.QueryRowContext(context.Background(), "SELECT wilson_lower_rows(5, 3)").Scan(&v)
	if err == nil {
		t.Error("row path accepted x > n")
	}
}
