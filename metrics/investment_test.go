package metrics_test

import (
	"context"
	"errors"
	"math"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

// The hand-worked fixture: four practices, two variables chosen so every
// step is exact. A = 0, 1, 4, 9: square roots 0, 1, 2, 3, mean 1.5,
// population SD √1.25, so z = ∓1.341641, ∓0.447214 (no capping: the cap is
// mean 3.5 + 5 × SD 3.5 = 21). B = 4, 4, 0, 4: roots 2, 2, 0, 2, mean 1.5,
// SD √0.75, z = 0.57735 (×3) and −1.732051. Weights A 1, B 4. Squared
// distances: d01 = 0.8, d03 = 7.2, d13 = 3.2, d02 = 3.2 + 4 × 16/3 = 24.5333,
// d12 = d23 = 0.8 + 4 × 16/3 = 22.1333 (a tie, broken by index).
var (
	fixtureA = []float64{0, 1, 4, 9}
	fixtureB = []float64{4, 4, 0, 4}
)

func TestNearestPeersHandWorked(t *testing.T) {
	got, err := metrics.NearestPeers(context.Background(), [][]float64{fixtureA, fixtureB}, []float64{1, 4}, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := [][]metrics.Neighbour{
		{{Index: 1, Distance: math.Sqrt(0.8)}, {Index: 3, Distance: math.Sqrt(7.2)}},
		{{Index: 0, Distance: math.Sqrt(0.8)}, {Index: 3, Distance: math.Sqrt(3.2)}},
		{{Index: 1, Distance: math.Sqrt(0.8 + 64.0/3)}, {Index: 3, Distance: math.Sqrt(0.8 + 64.0/3)}},
		{{Index: 1, Distance: math.Sqrt(3.2)}, {Index: 0, Distance: math.Sqrt(7.2)}},
	}
	for i := range want {
		if len(got[i]) != len(want[i]) {
			t.Fatalf("unit %d: %d peers, want %d", i, len(got[i]), len(want[i]))
		}
		for r := range want[i] {
			g, w := got[i][r], want[i][r]
			if g.Index != w.Index || math.Abs(g.Distance-w.Distance) > 1e-9 {
				t.Errorf("unit %d rank %d: got %+v, want %+v", i, r+1, g, w)
			}
		}
	}
}

func TestNearestPeersMissingAndEdges(t *testing.T) {
	ctx := context.Background()
	// Unit 3 has no B: B is standardised over the other three (roots 2, 2, 0:
	// z = 0.707107, 0.707107, −1.414214) and unit 3 sits at z 0, so
	// d03² = 7.2 + 4 × 0.5 = 9.2.
	b := []float64{4, 4, 0, math.NaN()}
	got, err := metrics.NearestPeers(ctx, [][]float64{fixtureA, b}, []float64{1, 4}, 3)
	if err != nil {
		t.Fatal(err)
	}
	var d03 float64
	for _, p := range got[0] {
		if p.Index == 3 {
			d03 = p.Distance
		}
	}
	if math.Abs(d03-math.Sqrt(9.2)) > 1e-9 {
		t.Errorf("distance 0-3 with B missing: got %v, want %v", d03, math.Sqrt(9.2))
	}
	// k above the number of other units: everyone else, nearest first.
	all, err := metrics.NearestPeers(ctx, [][]float64{fixtureA}, []float64{1}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(all[0]) != 3 || all[0][0].Index != 1 || all[0][2].Index != 3 {
		t.Errorf("k > n−1: got %+v", all[0])
	}
	// Same ranking as SimilarPeers (squared distances) on a bigger set.
	vars := [][]float64{make([]float64, 300), make([]float64, 300), make([]float64, 300)}
	for i := range 300 {
		vars[0][i] = float64((i * 37) % 101)
		vars[1][i] = float64((i * 11) % 17)
		vars[2][i] = float64(i % 2)
	}
	w := []float64{1, 0.5, 2}
	np, err := metrics.NearestPeers(ctx, vars, w, 10)
	if err != nil {
		t.Fatal(err)
	}
	sp, err := metrics.SimilarPeers(ctx, vars, w, 10)
	if err != nil {
		t.Fatal(err)
	}
	for i := range sp {
		for r := range sp[i] {
			if np[i][r].Index != sp[i][r] {
				t.Fatalf("unit %d rank %d: NearestPeers %d, SimilarPeers %d", i, r+1, np[i][r].Index, sp[i][r])
			}
		}
	}
	for _, bad := range []struct {
		vars [][]float64
		w    []float64
		k    int
	}{
		{nil, nil, 2},
		{[][]float64{fixtureA}, []float64{1}, 0},
		{[][]float64{fixtureA}, []float64{-1}, 2},
		{[][]float64{fixtureA}, []float64{1, 1}, 2},
		{[][]float64{fixtureA, {1, 2}}, []float64{1, 1}, 2},
		{[][]float64{{1, -2, 3}}, []float64{1}, 1},
	} {
		if _, err := metrics.NearestPeers(ctx, bad.vars, bad.w, bad.k); !errors.Is(err, metrics.ErrInvalid) {
			t.Errorf("NearestPeers(%v, %v, %d): err %v, want ErrInvalid", bad.vars, bad.w, bad.k, err)
		}
	}
}

func TestNearestPeersSQL(t *testing.T) {
	db := testDB(t)
	rows, err := db.Query(`
		WITH u(id, a, b) AS (VALUES ('P0', 0, 4), ('P1', 1, 4), ('P2', 4, 0), ('P3', 9, 4))
		SELECT p.id, p.peer, p.rank, p.distance
		FROM (SELECT unnest(nearest_peers(list(id ORDER BY id), list([a, b]::DOUBLE[] ORDER BY id), ['a', 'b'], 'b=4; a=1', 2)) AS p FROM u)
		ORDER BY p.id, p.rank`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var got []string
	for rows.Next() {
		var id, peer string
		var rank int64
		var d float64
		if err := rows.Scan(&id, &peer, &rank, &d); err != nil {
			t.Fatal(err)
		}
		got = append(got, id+">"+peer)
		if id == "P2" && math.Abs(d-math.Sqrt(0.8+64.0/3)) > 1e-9 {
			t.Errorf("P2 distance %v", d)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	want := "P0>P1 P0>P3 P1>P0 P1>P3 P2>P1 P2>P3 P3>P1 P3>P0"
	if strings.Join(got, " ") != want {
		t.Errorf("got %s, want %s", strings.Join(got, " "), want)
	}
	for _, spec := range []string{"a=1", "a=1;b=1;c=1", "a=1;b=x", "a=1;a=2;b=1"} {
		_, err := db.Exec(`SELECT nearest_peers(['x', 'y'], [[1.0, 2.0], [2.0, 3.0]], ['a', 'b'], ?, 1)`, spec)
		if err == nil || !strings.Contains(err.Error(), "peer weights") {
			t.Errorf("weights %q: err %v, want a peer weights error", spec, err)
		}
	}
	if _, err := db.Exec(`SELECT nearest_peers(['x', 'y'], [[1.0], [2.0]], ['a'], NULL, 1)`); err == nil {
		t.Error("NULL weights: want an error")
	}
}

// Hand-computed concentration indices. Equal weights, h = 4, 3, 2, 1 from
// most to least deprived: μ = 2.5, fractional ranks 1/8, 3/8, 5/8, 7/8,
// cov = (1.5 × −3/8 + 0.5 × −1/8 − 0.5 × 1/8 − 1.5 × 3/8)/4 = −0.3125,
// C = 2 × −0.3125 / 2.5 = −0.25 (the same as 2/(n²μ)·Σ hᵢ·i − 1 − 1/n
// = 2 × 20/40 − 1.25). Grouped h = 3, 1 with weights 1, 3 is the individual
// list 3, 1, 1, 1: μ = 1.5, ranks 1/8 and 5/8,
// cov = (1 × 1.5 × −3/8 + 3 × −0.5 × 1/8)/4 = −0.1875, C = −0.25.
func TestConcentrationIndexHandComputed(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name string
		h, w []float64
		want float64
	}{
		{"equal weights", []float64{4, 3, 2, 1}, []float64{1, 1, 1, 1}, -0.25},
		{"reversed: inverse care", []float64{1, 2, 3, 4}, []float64{5, 5, 5, 5}, 0.25},
		{"grouped", []float64{3, 1}, []float64{1, 3}, -0.25},
		{"grouped = individuals", []float64{3, 1, 1, 1}, []float64{1, 1, 1, 1}, -0.25},
		{"zero weight skipped", []float64{3, 99, 1}, []float64{1, 0, 3}, -0.25},
		{"flat", []float64{2, 2, 2}, []float64{1, 2, 3}, 0},
	} {
		r, err := metrics.ConcentrationIndex(ctx, c.h, c.w, metrics.ConcentrationOptions{Seed: 1})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if math.Abs(r.CI-c.want) > 1e-12 {
			t.Errorf("%s: C = %v, want %v", c.name, r.CI, c.want)
		}
		if !(r.Lower <= r.CI+1e-12 && r.CI <= r.Upper+1e-12) && c.name != "grouped" {
			t.Errorf("%s: interval %v–%v does not hold %v", c.name, r.Lower, r.Upper, r.CI)
		}
	}
	// The interval narrows as the units multiply and is reproducible.
	mk := func(n int) ([]float64, []float64) {
		h, w := make([]float64, n), make([]float64, n)
		for i := range n {
			h[i] = 100 - 20*float64(i)/float64(n) + float64((i*7919)%13)
			w[i] = 1000 + float64((i*104729)%500)
		}
		return h, w
	}
	h1, w1 := mk(50)
	h2, w2 := mk(2000)
	r1, _ := metrics.ConcentrationIndex(ctx, h1, w1, metrics.ConcentrationOptions{Seed: 3})
	r2, _ := metrics.ConcentrationIndex(ctx, h2, w2, metrics.ConcentrationOptions{Seed: 3})
	r2b, _ := metrics.ConcentrationIndex(ctx, h2, w2, metrics.ConcentrationOptions{Seed: 3})
	if !(r2.Upper-r2.Lower < r1.Upper-r1.Lower) {
		t.Errorf("interval with 2,000 units (%v) not narrower than with 50 (%v)", r2.Upper-r2.Lower, r1.Upper-r1.Lower)
	}
	if r2 != r2b {
		t.Errorf("same seed, different result: %+v vs %+v", r2, r2b)
	}
	if !(r2.CI < 0 && r2.Upper < 0) {
		t.Errorf("falling gradient: C %v upper %v, want both negative", r2.CI, r2.Upper)
	}
	for _, bad := range [][2][]float64{{{1}, {1}}, {{1, 2}, {1}}, {{1, math.NaN()}, {1, 1}}, {{1, 2}, {1, -1}}, {{1, -1}, {1, 1}}} {
		if _, err := metrics.ConcentrationIndex(ctx, bad[0], bad[1], metrics.ConcentrationOptions{}); !errors.Is(err, metrics.ErrInvalid) {
			t.Errorf("ConcentrationIndex(%v, %v): err %v, want ErrInvalid", bad[0], bad[1], err)
		}
	}
}

func TestConcentrationIndexSQL(t *testing.T) {
	db := testDB(t)
	c := sqlFloat(t, db, `SELECT concentration_index([4, 3, 2, 1]::DOUBLE[], [1, 1, 1, 1]::DOUBLE[]).ci`)
	if math.Abs(c+0.25) > 1e-12 {
		t.Errorf("concentration_index: %v, want -0.25", c)
	}
	lo := sqlFloat(t, db, `SELECT concentration_index([4, 3, 2, 1, 2, 1]::DOUBLE[], [1, 2, 1, 2, 1, 1]::DOUBLE[], 0.95, 500, 7).ci_lower`)
	lo2 := sqlFloat(t, db, `SELECT concentration_index([4, 3, 2, 1, 2, 1]::DOUBLE[], [1, 2, 1, 2, 1, 1]::DOUBLE[], 95, 500, 7).ci_lower`)
	if lo != lo2 || math.IsNaN(lo) {
		t.Errorf("seeded lower limit not reproducible: %v vs %v", lo, lo2)
	}
	if _, err := db.Exec(`SELECT concentration_index([1.0], [1.0])`); err == nil {
		t.Error("one unit: want an error")
	}
}
