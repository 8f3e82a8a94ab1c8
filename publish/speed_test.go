package publish

import (
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// TestRoundWholeNumbers: round's shortcut for whole numbers gives what the
// digit steps give, at every precision, including near the 12-digit limit.
func TestRoundWholeNumbers(t *testing.T) {
	vals := []float64{1, -1, 7, 10, 999, 1000, 123456, -654321, 3806498, 1e11, 999999999999, -999999999999, 1 << 30}
	r := rand.New(rand.NewPCG(1, 2))
	for range 5000 {
		vals = append(vals, math.Trunc((r.Float64()*2-1)*math.Pow(10, float64(r.IntN(12)))))
	}
	for _, v := range vals {
		for dp := 0; dp <= 12; dp++ {
			if got, want := round(v, dp), roundDigits(v, dp); got != want || math.Signbit(got) != math.Signbit(want) {
				t.Fatalf("round(%v, %d) = %v, the digit steps give %v", v, dp, got, want)
			}
		}
	}
	// not whole, or too long for the shortcut: the digit steps apply
	for _, c := range []struct {
		v    float64
		dp   int
		want float64
	}{{2.5, 0, 2}, {3.5, 0, 4}, {0.125, 2, 0.12} /* an exact half: to even, as strconv */, {1.005, 2, 1} /* 1.00499999... in binary */, {123456789012345, 0, 123456789012345}, {12345678901.25, 1, 12345678901.2}, {-0.0001, 2, 0}} {
		if got := round(c.v, c.dp); got != c.want {
			t.Errorf("round(%v, %d) = %v, want %v", c.v, c.dp, got, c.want)
		}
	}
}

// TestRoundFastAgrees: the arithmetic path gives roundDigits's answer to the
// bit wherever it answers, on values of every size and next to halves.
func TestRoundFastAgrees(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	answered := 0
	check := func(v float64, dp int) {
		got, ok := roundFast(v, dp)
		if !ok {
			return
		}
		answered++
		if want := roundDigits(v, dp); got != want || math.Signbit(got) != math.Signbit(want) {
			t.Fatalf("roundFast(%v, %d) = %v, the digit steps give %v", v, dp, got, want)
		}
	}
	for range 400000 {
		dp := r.IntN(8)
		mag := math.Pow(10, float64(r.IntN(14)-4))
		v := (r.Float64()*2 - 1) * mag
		check(v, dp)
		// next to a half at dp: k.5 / 10^dp and a few ulps and decimals around it
		k := math.Floor(r.Float64() * math.Pow(10, float64(r.IntN(9))))
		h := (k + 0.5) / pow10[dp]
		for _, d := range []float64{0, 1e-12, -1e-12, 1e-9, -1e-9, 1e-6, -1e-6, 2e-3, -2e-3} {
			check(h+d/pow10[dp], dp)
			check(math.Nextafter(h, math.Inf(1)), dp)
			check(math.Nextafter(h, math.Inf(-1)), dp)
		}
	}
	if answered < 1000000 {
		t.Fatalf("the fast path answered only %d values", answered)
	}
	for _, c := range []struct {
		v  float64
		dp int
	}{{2.5, 0}, {0.125, 2}, {1.005, 2}, {1e9, 1}, {-0.0005, 3}} {
		if _, ok := roundFast(c.v, c.dp); ok {
			t.Errorf("roundFast(%v, %d) answered; a half or a large value is the digit steps' to decide", c.v, c.dp)
		}
	}
}

// TestAppendShortestAgrees: appendShortest writes what strconv's shortest
// formatting writes, for rounded figures (its fast paths), for doubles that
// are no short decimal, and at the edges (-0, 10^15, halves, tiny, huge,
// NaN and the infinities).
func TestAppendShortestAgrees(t *testing.T) {
	vals := []float64{0, math.Copysign(0, -1), 1, -1, 0.1, -0.05, 0.001, 1.5, 2.25, 0.1 + 0.2, 1e15, 1e15 - 1, -1e15 + 1,
		999999999999999, 99999999999999.9, 9999999999.99999, 0.000001, 0.0000001, 1e-300, 1e300, 123456.789012,
		math.MaxFloat64, math.SmallestNonzeroFloat64, math.NaN(), math.Inf(1), math.Inf(-1), 1 << 53, -(1 << 60)}
	r := rand.New(rand.NewPCG(3, 4))
	for range 200000 {
		mag := math.Pow(10, float64(r.IntN(22)-8))
		v := (r.Float64()*2 - 1) * mag
		vals = append(vals, v, round(v, r.IntN(9)), math.Trunc(v))
	}
	for _, v := range vals {
		if got, want := string(appendShortest([]byte("x"), v)), "x"+strconv.FormatFloat(v, 'f', -1, 64); got != want {
			t.Fatalf("appendShortest(%v) = %q, strconv gives %q", v, got, want)
		}
	}
}

// TestSectionColumnIndex: the column index agrees with the spec's order.
func TestSectionColumnIndex(t *testing.T) {
	for _, s := range sections {
		for i, c := range s.Columns {
			if got := s.col(c.Name); got != i {
				t.Errorf("section %s: col(%q) = %d, want %d", s.Name, c.Name, got, i)
			}
		}
		if got := s.col("no_such_column"); got != -1 {
			t.Errorf("section %s: col of a missing column = %d, want -1", s.Name, got)
		}
	}
}

// TestSyncEach: the portable stage sync (not Linux) visits a whole tree
// and reports a file it cannot open.
func TestSyncEach(t *testing.T) {
	dir := t.TempDir()
	for _, rel := range []string{"A/pack.xlsx", "A/feeds/x.csv", "B/manifest.json"} {
		p := filepath.Join(dir, filepath.FromSlash(rel))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(rel), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syncEach(dir); err != nil {
		t.Fatalf("syncEach: %v", err)
	}
	if err := syncTree(dir); err != nil {
		t.Fatalf("syncTree: %v", err)
	}
	// a file that vanished under it (here a dangling link) is an error
	if err := os.Symlink(filepath.Join(dir, "gone"), filepath.Join(dir, "B", "link")); err != nil {
		t.Skipf("no symlinks: %v", err)
	}
	if err := syncEach(dir); err == nil {
		t.Error("syncEach ignored a file it could not open")
	}
}
