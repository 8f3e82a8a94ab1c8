package metrics

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
)

func TestStandardZConstants(t *testing.T) {
	if got := Z(0.95); got-z95 > 1e-15 || z95-got > 1e-15 {
		t.Errorf("Z(0.95) = %.17g, constant %.17g", got, z95)
	}
	if got := Z(0.998); got-z998 > 1e-15 || z998-got > 1e-15 {
		t.Errorf("Z(0.998) = %.17g, constant %.17g", got, z998)
	}
}

func TestDistributionValues(t *testing.T) {
	// Reference values from R (qnorm, qchisq, qt) and closed forms.
	cases := []struct {
		name      string
		got, want float64
	}{
		{"qnorm(0.975)", NormalQuantile(0.975), 1.959963984540054},
		{"qnorm(1e-10)", NormalQuantile(1e-10), -6.361340902404056},
		{"qchisq(0.975, 4)", ChiSquareQuantile(0.975, 4), 11.143286781877794},
		{"qchisq(0.05, 10)", ChiSquareQuantile(0.05, 10), 3.9402991361190605},
		{"qchisq(0.95, 1)", ChiSquareQuantile(0.95, 1), 3.841458820694124},
		{"qchisq(0.001, 2)", ChiSquareQuantile(0.001, 2), 0.0020010006671670687},
		{"qt(0.975, 1)", StudentTQuantile(0.975, 1), 12.706204736174707},
		// Checked against the closed-form t CDF for 7 degrees of freedom.
		{"qt(0.975, 7)", StudentTQuantile(0.975, 7), 2.364624251592784},
	}
	for _, c := range cases {
		if d := c.got - c.want; d > 1e-11*max(1, c.want) || -d > 1e-11*max(1, -c.want, c.want) {
			t.Errorf("%s = %.16g, want %.16g", c.name, c.got, c.want)
		}
	}
}

func TestDistributionRoundTrips(t *testing.T) {
	for _, a := range []float64{0.5, 1, 2.5, 10, 101, 5000} {
		for _, p := range []float64{1e-6, 0.001, 0.025, 0.5, 0.975, 0.999} {
			x := GammaPInv(a, p)
			if got := GammaP(a, x); got-p > 1e-12 || p-got > 1e-12 {
				t.Errorf("GammaP(%v, GammaPInv(%v, %v)) = %v", a, a, p, got)
			}
			if q := GammaQ(a, x); q+GammaP(a, x)-1 > 1e-14 || 1-q-GammaP(a, x) > 1e-14 {
				t.Errorf("P+Q != 1 at a=%v x=%v", a, x)
			}
		}
	}
	for _, df := range []float64{1, 2, 5, 30, 1000} {
		for _, p := range []float64{0.0005, 0.025, 0.3, 0.7, 0.975} {
			q := StudentTQuantile(p, df)
			if got := StudentTCDF(q, df); got-p > 1e-12 || p-got > 1e-12 {
				t.Errorf("StudentTCDF(StudentTQuantile(%v, %v)) = %v", p, df, got)
			}
		}
	}
	for _, p := range []float64{1e-300, 1e-8, 0.2, 0.5, 0.9, 1 - 1e-12} {
		if got := NormalCDF(NormalQuantile(p)); got-p > 1e-9*p+1e-15 || p-got > 1e-9*p+1e-15 {
			t.Errorf("NormalCDF(NormalQuantile(%v)) = %v", p, got)
		}
	}
}

func TestOrderStats(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, n := range []int{1, 2, 3, 10, 1000, 10001} {
		for range 5 {
			v := make([]float64, n)
			for i := range v {
				v[i] = float64(rng.IntN(n/2 + 1)) // plenty of ties
			}
			sorted := slices.Clone(v)
			slices.Sort(sorted)
			i, j := rng.IntN(n), rng.IntN(n)
			if i > j {
				i, j = j, i
			}
			a, b := orderStats(v, i, j)
			if a != sorted[i] || b != sorted[j] {
				t.Fatalf("n=%d: order stats %d,%d = %v,%v, want %v,%v", n, i, j, a, b, sorted[i], sorted[j])
			}
		}
	}
	v := []float64{3, math.NaN(), 1, 2}
	if a, b := orderStats(v, 1, 3); !math.IsNaN(v[0]) || a != 1 || b != 3 {
		t.Errorf("with NaN: %v %v", a, b)
	}
}
