package metrics_test

import (
	"context"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

// TestSQLParallelRowsMatchGo: sii and spc_xmr compute the rows of a chunk
// concurrently; each row must still be exactly what the Go function gives
// for its own arguments and seed, in the right row.
func TestSQLParallelRowsMatchGo(t *testing.T) {
	db := testDB(t)
	const areas = 60
	if _, err := db.Exec(`CREATE TABLE d AS
		SELECT a, d, 4000 + 250*d + 13*a AS pop, 60 + 1.5*d + (a % 9)/4 AS v
		FROM range(60) t(a), range(10) u(d)`); err != nil {
		t.Fatal(err)
	}
	rows, err := db.Query(`SELECT a, s.sii, s.sii_lower, s.sii_upper, s.rii_lower FROM (
		SELECT a, sii(list(v ORDER BY d), list(pop ORDER BY d), list(v - 2 ORDER BY d), list(v + 2 ORDER BY d),
			0, 1, false, 0.95, 2000, a) AS s
		FROM d GROUP BY a) ORDER BY a`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var a int64
		var got [4]float64
		if err := rows.Scan(&a, &got[0], &got[1], &got[2], &got[3]); err != nil {
			t.Fatal(err)
		}
		var v, pop, lo, hi []float64
		for d := range 10 {
			x := 60 + 1.5*float64(d) + float64(a%9)/4
			v, lo, hi = append(v, x), append(lo, x-2), append(hi, x+2)
			pop = append(pop, float64(4000+250*d+13*int(a)))
		}
		want, err := metrics.SII(context.Background(), v, pop, lo, hi, metrics.SIIOptions{Reps: 2000, Seed: uint64(a)})
		if err != nil {
			t.Fatal(err)
		}
		if w := [4]float64{want.SII, want.SIILower, want.SIIUpper, want.RIILower}; got != w {
			t.Errorf("area %d: SQL %v, Go %v", a, got, w)
		}
		n++
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if n != areas {
		t.Fatalf("%d areas, want %d", n, areas)
	}

	// spc_xmr: every series' points in order.
	var bad int
	err = db.QueryRow(`WITH s AS (
			SELECT a, list(v + (d * 7 % 5) ORDER BY d) AS vals FROM d GROUP BY a)
		SELECT count(*) FROM s WHERE spc_xmr(vals, 'increase')[10].point_type IS NULL`).Scan(&bad)
	if err != nil || bad != 0 {
		t.Fatalf("spc_xmr over groups: %d rows without a 10th point, %v", bad, err)
	}
	var pt string
	if err := db.QueryRow(`SELECT spc_xmr(list(v + (d * 7 % 5) ORDER BY d), 'increase')[10].point_type FROM d WHERE a = 17`).Scan(&pt); err != nil {
		t.Fatal(err)
	}
	vals := make([]float64, 10)
	for d := range vals {
		vals[d] = 60 + 1.5*float64(d) + float64(17%9)/4 + float64(d*7%5)
	}
	r, err := metrics.XmR(vals, metrics.SPCOptions{Improvement: metrics.Increase})
	if err != nil {
		t.Fatal(err)
	}
	if pt != r.Points[9].PointType {
		t.Errorf("spc_xmr point 10: SQL %q, Go %q", pt, r.Points[9].PointType)
	}

	// One bad row fails the query, naming the function.
	_, err = db.Exec(`SELECT sii(list(v ORDER BY d), list(pop ORDER BY d), list(v - 2 ORDER BY d), list(v + 2 ORDER BY d))
		FROM d WHERE a > 50 OR d < 3 GROUP BY a`)
	if err == nil || !strings.Contains(err.Error(), "sii") {
		t.Errorf("an area with 3 groups: error %v", err)
	}
}
