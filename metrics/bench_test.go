package metrics_test

import (
	"context"
	"database/sql"
	"fmt"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gplens/gplens/metrics"
)

// benchRows is the size the aim is stated at: 5 million rows.
const benchRows = 5_000_000

// benchTable makes a table of (x, n) pairs with 0 <= x <= n, and small
// counts s (0–19) for the exact Poisson branch.
func benchTable(b *testing.B) *sql.DB {
	b.Helper()
	db := testDB(b)
	_, err := db.Exec(fmt.Sprintf(`CREATE TABLE bench AS
		SELECT (i %% 997)::DOUBLE AS x, (1000 + i %% 5000)::DOUBLE AS n, (i %% 20)::DOUBLE AS s
		FROM range(%d) t(i)`, benchRows))
	if err != nil {
		b.Fatal(err)
	}
	return db
}

// cpuTime is the process's user+system CPU time: on a shared machine it
// moves less with other load than wall time does.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// runQuery runs a one-value query and returns its wall and CPU time.
func runQuery(b *testing.B, db *sql.DB, q string) (wall, cpu time.Duration) {
	b.Helper()
	c0, start := cpuTime(), time.Now()
	var v any
	if err := db.QueryRow(q).Scan(&v); err != nil {
		b.Fatalf("%s: %v", q, err)
	}
	return time.Since(start), cpuTime() - c0
}

// timeQuery runs q b.N times and returns the mean time per run.
func timeQuery(b *testing.B, db *sql.DB, q string) time.Duration {
	b.Helper()
	var total time.Duration
	for range b.N {
		w, _ := runQuery(b, db, q)
		total += w
	}
	return total / time.Duration(b.N)
}

// lit is a DOUBLE literal that reads back as exactly v (a plain decimal
// literal would be a DECIMAL in DuckDB).
func lit(v float64) string {
	return "'" + strconv.FormatFloat(v, 'g', -1, 64) + "'::DOUBLE"
}

// doubleListLit is a DOUBLE[] literal.
func doubleListLit(v []float64) string {
	s := make([]string, len(v))
	for i, f := range v {
		s[i] = strconv.FormatFloat(f, 'g', -1, 64)
	}
	return "[" + strings.Join(s, ", ") + "]::DOUBLE[]"
}

// inlineCase is a SQL function call and the same formula written inline in
// SQL (METRICS.md's formulas, with z and the exact small-count limits as
// literals, as an analyst would write them).
type inlineCase struct {
	name, fn, inline string
	text             bool // VARCHAR result
}

func inlineCases(b *testing.B) []inlineCase {
	z95, z998 := metrics.Z(0.95), metrics.Z(0.998)
	Z, Z2, Z3 := lit(z95), lit(z95*z95), lit(z998)
	Z32 := lit(z998 * z998)
	wl := func(z, z2 string) string {
		return fmt.Sprintf("greatest(CASE WHEN x = 0 THEN 0 ELSE (2*x + %[2]s - %[1]s*sqrt(%[2]s + 4*x*(1 - x/n))) / (2*(n + %[2]s)) END, 0)", z, z2)
	}
	byL := func(x, z string) string {
		t := fmt.Sprintf("%[1]s*pow(1 - 1/(9*%[1]s) - %[2]s/(3*sqrt(%[1]s)), 3)", x, z)
		return fmt.Sprintf("CASE WHEN %[1]s > 0 AND %[2]s >= 0 THEN %[2]s END", x, t)
	}
	byU := func(x, z string) string {
		return fmt.Sprintf("(%[1]s + 1)*pow(1 - 1/(9*(%[1]s + 1)) + %[2]s/(3*sqrt(%[1]s + 1)), 3)", x, z)
	}
	// Exact limits of counts 0–9 (PHE's rule below 10), as list literals.
	exact := func(c float64, upper bool) string {
		v := make([]float64, 10)
		for i := range v {
			lo, hi, exact, err := metrics.PoissonCount(float64(i), c)
			if err != nil || !exact {
				b.Fatalf("exact limits of %d: %v", i, err)
			}
			v[i] = lo
			if upper {
				v[i] = hi
			}
		}
		return doubleListLit(v)
	}
	pois := func(x, z string, c float64, upper bool) string {
		by := byL(x, z)
		if upper {
			by = byU(x, z)
		}
		return fmt.Sprintf("CASE WHEN %[1]s < 10 THEN (%[2]s)[%[1]s::INT + 1] ELSE %[3]s END", x, exact(c, upper), by)
	}
	prop := func(t string) string {
		se := fmt.Sprintf("sqrt(%[1]s*(1 - %[1]s)/n)", t)
		return fmt.Sprintf(`CASE WHEN x/n < greatest(%[1]s - %[2]s*%[4]s, 0) THEN 'Low (0.001)'
			WHEN x/n < greatest(%[1]s - %[3]s*%[4]s, 0) THEN 'Low (0.025)'
			WHEN x/n > least(%[1]s + %[2]s*%[4]s, 1) THEN 'High (0.001)'
			WHEN x/n > least(%[1]s + %[3]s*%[4]s, 1) THEN 'High (0.025)'
			ELSE 'Not significant' END`, t, Z3, Z, se)
	}
	// Ratio funnel: observed s, expected e = n/1000, target 1.
	e := "(n/1000)"
	ratio := fmt.Sprintf(`CASE WHEN %[1]s/%[5]s < 1 THEN 'Low (0.001)'
			WHEN %[2]s/%[5]s < 1 THEN 'Low (0.025)'
			WHEN %[3]s/%[5]s > 1 THEN 'High (0.001)'
			WHEN %[4]s/%[5]s > 1 THEN 'High (0.025)'
			ELSE 'Not significant' END`,
		pois("s", Z3, 0.998, true), pois("s", Z, 0.95, true), pois("s", Z3, 0.998, false), pois("s", Z, 0.95, false), e)
	return []inlineCase{
		{name: "wilson_lower", fn: "wilson_lower(x, n)", inline: wl(Z, Z2)},
		{name: "wilson_upper", fn: "wilson_upper(x, n)",
			inline: fmt.Sprintf("least(CASE WHEN x = n THEN 1 ELSE (2*x + %[2]s + %[1]s*sqrt(%[2]s + 4*x*(1 - x/n))) / (2*(n + %[2]s)) END, 1)", Z, Z2)},
		{name: "wilson_lower_99.8", fn: "wilson_lower(x, n, 99.8)", inline: wl(Z3, Z32)},
		{name: "byars_lower", fn: "byars_lower(x)", inline: byL("x", Z)},
		{name: "byars_upper", fn: "byars_upper(x)", inline: byU("x", Z)},
		{name: "poisson_lower", fn: "poisson_lower(s)", inline: pois("s", Z, 0.95, false)},
		{name: "poisson_upper", fn: "poisson_upper(s)", inline: pois("s", Z, 0.95, true)},
		{name: "rate_upper", fn: "rate_upper(x, n, 1000)", inline: pois("x", Z, 0.95, true) + " / n * 1000"},
		{name: "funnel_limit", fn: "funnel_limit(0.2, n, 0.95, 'lower')", inline: fmt.Sprintf("greatest(0.2::DOUBLE - %s*sqrt(0.2::DOUBLE*(1 - 0.2::DOUBLE)/n), 0)", Z)},
		{name: "funnel_significance", fn: "funnel_significance(x, n, 0.1)", inline: prop("0.1::DOUBLE"), text: true},
		{name: "funnel_significance_ratio", fn: "funnel_significance(s, n/1000, 1, 'ratio')", inline: ratio, text: true},
	}
}

// BenchmarkSQLFunctions times each SQL statistics function over 5 million
// rows against the same formula written inline in SQL, side by side: the
// two run alternately (so load on a shared machine hits both alike) and the
// best of 5 runs of each is kept. x_inline is the wall-time ratio (the aim
// is at most 1.5), cpu_x_inline the CPU-time ratio. Before timing, the
// function and the inline formula must agree on every row (within 1e-12
// relative for numbers).
func BenchmarkSQLFunctions(b *testing.B) {
	db := benchTable(b)
	const runs = 5
	for _, c := range inlineCases(b) {
		b.Run(c.name, func(b *testing.B) {
			differ := fmt.Sprintf(`SELECT count(*) FROM (SELECT %s AS f, %s AS g FROM bench)
				WHERE f IS DISTINCT FROM g AND NOT abs(f - g) <= 1e-12 * abs(g)`, c.fn, c.inline)
			if c.text {
				differ = fmt.Sprintf(`SELECT count(*) FROM bench WHERE (%s) IS DISTINCT FROM (%s)`, c.fn, c.inline)
			}
			var bad int64
			if err := db.QueryRow(differ).Scan(&bad); err != nil {
				b.Fatal(err)
			}
			if bad != 0 {
				b.Fatalf("%s and its inline formula differ on %d rows", c.fn, bad)
			}
			agg := func(e string) string {
				if c.text {
					return "SELECT sum(length(" + e + ")) FROM bench"
				}
				return "SELECT sum(" + e + ") FROM bench"
			}
			qf, qi := agg(c.fn), agg(c.inline)
			best := func(cur, d time.Duration) time.Duration {
				if cur == 0 || d < cur {
					return d
				}
				return cur
			}
			var fw, fc, iw, ic time.Duration
			for range b.N * runs {
				w, cpu := runQuery(b, db, qi)
				iw, ic = best(iw, w), best(ic, cpu)
				w, cpu = runQuery(b, db, qf)
				fw, fc = best(fw, w), best(fc, cpu)
			}
			b.ReportMetric(float64(fw.Microseconds())/1000, "fn_ms")
			b.ReportMetric(float64(iw.Microseconds())/1000, "inline_ms")
			b.ReportMetric(float64(fw)/float64(iw), "x_inline")
			b.ReportMetric(float64(fc)/float64(ic), "cpu_x_inline")
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
