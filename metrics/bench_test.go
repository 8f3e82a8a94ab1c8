package metrics_test

import (
	"context"
	"database/sql"
	"fmt"
	"testing"
	"time"

	"github.com/gplens/gplens/metrics"
)

const benchRows = 5_000_000

// benchTable makes a table of 1,000,000 (x, n) pairs with 0 <= x <= n.
func benchTable(b *testing.B) *sql.DB {
	b.Helper()
	db := testDB(b)
	_, err := db.Exec(fmt.Sprintf(`CREATE TABLE bench AS
		SELECT (i %% 997)::DOUBLE AS x, (1000 + i %% 5000)::DOUBLE AS n
		FROM range(%d) t(i)`, benchRows))
	if err != nil {
		b.Fatal(err)
	}
	return db
}

func runQuery(b *testing.B, db *sql.DB, q string) time.Duration {
	b.Helper()
	start := time.Now()
	var v float64
	if err := db.QueryRow(q).Scan(&v); err != nil {
		b.Fatal(err)
	}
	return time.Since(start)
}

// timeQuery runs q b.N times and returns the mean time per run.
func timeQuery(b *testing.B, db *sql.DB, q string) time.Duration {
	b.Helper()
	var total time.Duration
	for range b.N {
		total += runQuery(b, db, q)
	}
	return total / time.Duration(b.N)
}

// wilsonSQLExpr is the same Wilson lower limit written as plain SQL.
const wilsonSQLExpr = `(2*x + 3.841458820694124 - 1.959963984540054 *
	sqrt(3.841458820694124 + 4*x*(1 - x/n))) / (2*(n + 3.841458820694124))`

// BenchmarkSQLFunctions times each SQL function over 1,000,000 rows and
// reports its cost as a ratio to the plain-SQL Wilson expression, run
// alternately with it so load on a shared machine hits both alike.
func BenchmarkSQLFunctions(b *testing.B) {
	db := benchTable(b)
	base := `SELECT sum(` + wilsonSQLExpr + `) FROM bench`
	for _, f := range []struct{ name, expr string }{
		{"wilson_lower", "wilson_lower(x, n)"},
		{"wilson_lower_conf", "wilson_lower(x, n, 99.8)"},
		{"byars_upper", "byars_upper(x)"},
		{"poisson_lower", "poisson_lower(x % 20)"},
		{"rate_upper", "rate_upper(x, n, 1000)"},
		{"funnel_limit", "funnel_limit(0.2, n, 0.95, 'lower')"},
		{"funnel_significance", "length(funnel_significance(x, n, 0.1))"},
	} {
		b.Run(f.name, func(b *testing.B) {
			var fn, plain time.Duration
			for range b.N {
				plain += runQuery(b, db, base)
				fn += runQuery(b, db, `SELECT sum(`+f.expr+`) FROM bench`)
			}
			b.ReportMetric(float64(fn.Milliseconds())/float64(b.N), "ms/1Mrows")
			b.ReportMetric(float64(plain.Milliseconds())/float64(b.N), "plain_ms/1Mrows")
			b.ReportMetric(float64(fn)/float64(plain), "x_plain_sql")
		})
	}
}

// BenchmarkSII times SII over 10,000 groups (areas) of 10 deciles with
// 10,000 simulations each.
func BenchmarkSII(b *testing.B) {
	const areas, deciles, reps = 10_000, 10, 10_000
	vals := make([][]float64, areas)
	pops := make([]float64, deciles)
	lo := make([][]float64, areas)
	hi := make([][]float64, areas)
	for d := range deciles {
		pops[d] = float64(5000 + 300*d)
	}
	for a := range areas {
		vals[a] = make([]float64, deciles)
		lo[a] = make([]float64, deciles)
		hi[a] = make([]float64, deciles)
		for d := range deciles {
			v := 70 + float64(d) + float64(a%7)/10
			vals[a][d], lo[a][d], hi[a][d] = v, v-1.5, v+1.5
		}
	}
	ctx := context.Background()
	b.ResetTimer()
	for range b.N {
		for a := range areas {
			_, err := metrics.SII(ctx, vals[a], pops, lo[a], hi[a], metrics.SIIOptions{Reps: reps, Seed: uint64(a)})
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/10k-areas")
}

// BenchmarkSIISQL runs the same workload through the SQL function on 1,000
// areas (the per-area cost is the same; 1,000 keeps the run short).
func BenchmarkSIISQL(b *testing.B) {
	db := testDB(b)
	_, err := db.Exec(`CREATE TABLE d AS
		SELECT a, d, 5000 + 300*d AS pop, 70 + d + (a % 7)/10 AS v
		FROM range(1000) t(a), range(10) u(d)`)
	if err != nil {
		b.Fatal(err)
	}
	q := `SELECT sum(s.sii) FROM (
		SELECT sii(list(v ORDER BY d), list(pop ORDER BY d), list(v - 1.5 ORDER BY d), list(v + 1.5 ORDER BY d), 0, 1, false, 0.95, 10000, a) AS s
		FROM d GROUP BY a)`
	d := timeQuery(b, db, q)
	b.ReportMetric(float64(d.Milliseconds()), "ms/1k-areas")
}

// BenchmarkNearestPeers times the similar-practice search for England: 6,300
// practices, 8 variables, the 10 nearest each, in Go and through the SQL
// function as marts.peers calls it (one period).
func BenchmarkNearestPeers(b *testing.B) {
	const n, nv = 6300, 8
	vars := make([][]float64, nv)
	for j := range vars {
		vars[j] = make([]float64, n)
		for i := range n {
			vars[j][i] = float64((i*(7919+j*104729))%10007) / 100
		}
	}
	w := []float64{1, 1, 1, 1, 1, 1, 1, 1}
	b.Run("go", func(b *testing.B) {
		for b.Loop() {
			if _, err := metrics.NearestPeers(context.Background(), vars, w, 10); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("sql", func(b *testing.B) {
		db := testDB(b)
		if _, err := db.Exec(fmt.Sprintf(`CREATE TABLE u AS SELECT 'P' || lpad(i::VARCHAR, 5, '0') AS id,
			list_transform(range(%d), j -> ((i * (7919 + j * 104729)) %% 10007) / 100.0) AS f FROM range(%d) t(i)`, nv, n)); err != nil {
			b.Fatal(err)
		}
		q := `SELECT count(*) FROM (SELECT unnest(nearest_peers(list(id ORDER BY id), list(f ORDER BY id),
			['a','b','c','d','e','f','g','h'], 'a=1;b=1;c=1;d=1;e=1;f=1;g=1;h=1', 10)) FROM u)`
		for b.Loop() {
			var c int64
			if err := db.QueryRow(q).Scan(&c); err != nil {
				b.Fatal(err)
			}
			if c != n*10 {
				b.Fatalf("%d peer rows, want %d", c, n*10)
			}
		}
	})
}
