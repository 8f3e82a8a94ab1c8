package metrics_test

import (
	"context"
	"errors"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

func TestWilsonProperties(t *testing.T) {
	for _, n := range []float64{1, 7, 50, 1000, 250000} {
		for _, frac := range []float64{0, 0.01, 0.3, 0.5, 0.97, 1} {
			x := math.Round(frac * n)
			p := x / n
			l95, u95, err := metrics.Wilson(x, n, 0.95)
			if err != nil {
				t.Fatal(err)
			}
			l998, u998, _ := metrics.Wilson(x, n, 99.8)
			if !(l95 <= p && p <= u95) || l95 < 0 || u95 > 1 {
				t.Errorf("x=%v n=%v: 95%% [%v, %v] does not bracket %v inside [0,1]", x, n, l95, u95, p)
			}
			if !(l998 <= l95 && u998 >= u95) {
				t.Errorf("x=%v n=%v: 99.8%% [%v, %v] narrower than 95%% [%v, %v]", x, n, l998, u998, l95, u95)
			}
			// Four times the denominator, same proportion: narrower.
			l4, u4, _ := metrics.Wilson(4*x, 4*n, 0.95)
			if !(u4-l4 < u95-l95) {
				t.Errorf("x=%v n=%v: width %v did not narrow with 4n (%v)", x, n, u95-l95, u4-l4)
			}
			if lo, hi, _ := metrics.Wilson(x, n, 1); lo != 0 || hi != 1 {
				t.Errorf("confidence 1 gives [%v, %v], want [0, 1]", lo, hi)
			}
		}
	}
}

func TestCountIntervalProperties(t *testing.T) {
	for _, x := range []float64{0, 1, 3, 9, 10, 11, 57, 1000, 1e6} {
		lo95, hi95, _, err := metrics.PoissonCount(x, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		lo998, hi998, _, _ := metrics.PoissonCount(x, 0.998)
		if !(lo95 <= x && x <= hi95) || !(lo998 <= lo95 && hi998 >= hi95) {
			t.Errorf("x=%v: 95%% [%v, %v], 99.8%% [%v, %v]", x, lo95, hi95, lo998, hi998)
		}
		r1, _ := metrics.Rate(x, 1000, 1000, 0.95)
		r4, _ := metrics.Rate(4*x, 4000, 1000, 0.95)
		if x > 0 && !(r4.Upper-r4.Lower < r1.Upper-r1.Lower) {
			t.Errorf("x=%v: rate interval did not narrow with 4n", x)
		}
		bl, bh, _ := metrics.Byars(x, 0.95)
		if x >= 10 && !(bl <= x && x <= bh) {
			t.Errorf("x=%v: Byar's [%v, %v]", x, bl, bh)
		}
	}
}

func TestFunnelLimitProperties(t *testing.T) {
	for _, st := range []metrics.Statistic{metrics.StatProportion, metrics.StatRatio, metrics.StatRate} {
		target := map[metrics.Statistic]float64{metrics.StatProportion: 0.3, metrics.StatRatio: 1, metrics.StatRate: 0.02}[st]
		prevW := math.Inf(1)
		for _, n := range []float64{10, 100, 1000, 10000, 100000} {
			lim := func(c float64, s metrics.Side) float64 {
				v, err := metrics.FunnelLimit(st, target, n, c, s)
				if err != nil {
					t.Fatal(err)
				}
				return v
			}
			l2, u2, l3, u3 := lim(0.95, metrics.Lower), lim(0.95, metrics.Upper), lim(0.998, metrics.Lower), lim(0.998, metrics.Upper)
			if !(l3 <= l2 && l2 <= target && target <= u2 && u2 <= u3) {
				t.Errorf("stat %v n=%v: limits %v %v | %v | %v %v out of order", st, n, l3, l2, target, u2, u3)
			}
			if w := u2 - l2; !(w < prevW) {
				t.Errorf("stat %v n=%v: width %v did not narrow (was %v)", st, n, w, prevW)
			} else {
				prevW = w
			}
		}
	}
}

func TestFunnelSignificanceLabels(t *testing.T) {
	cases := []struct {
		stat      metrics.Statistic
		x, n, tgt float64
		want      string
	}{
		{metrics.StatProportion, 50, 100, 0.5, metrics.FunnelNotSignificant},
		{metrics.StatProportion, 20, 100, 0.5, metrics.FunnelLow001},
		{metrics.StatProportion, 40, 100, 0.5, metrics.FunnelLow025},
		{metrics.StatProportion, 62, 100, 0.5, metrics.FunnelHigh025},
		{metrics.StatProportion, 90, 100, 0.5, metrics.FunnelHigh001},
		{metrics.StatRatio, 0, 10, 1, metrics.FunnelLow001},
		{metrics.StatRatio, 10, 10, 1, metrics.FunnelNotSignificant},
		{metrics.StatRatio, 40, 10, 1, metrics.FunnelHigh001},
		{metrics.StatRate, 40, 1000, 0.01, metrics.FunnelHigh001},
		{metrics.StatRate, 10, 1000, 0.01, metrics.FunnelNotSignificant},
	}
	for _, c := range cases {
		got, err := metrics.FunnelSignificance(c.stat, c.x, c.n, c.tgt)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%v x=%v n=%v target=%v: %q, want %q", c.stat, c.x, c.n, c.tgt, got, c.want)
		}
	}
}

func TestCompareLabel(t *testing.T) {
	cases := []struct {
		bench, l95, u95, l998, u998 float64
		pol                         metrics.Polarity
		want                        string
	}{
		{10, 8, 12, 7, 13, metrics.NoJudgement, "similar"},
		{10, 11, 14, 10.5, 15, metrics.NoJudgement, "significantly higher"},
		{10, 11, 14, 9, 15, metrics.NoJudgement, "higher"},
		{10, 6, 9, 5, 9.5, metrics.NoJudgement, "significantly lower"},
		{10, 6, 9, 5, 11, metrics.HigherIsBetter, "worse"},
		{10, 6, 9, 5, 9.5, metrics.LowerIsBetter, "significantly better"},
		{10, 11, 14, 9, 15, metrics.LowerIsBetter, "worse"},
		{10, 11, 14, 10.5, 15, metrics.HigherIsBetter, "significantly better"},
		{10, math.NaN(), 12, math.NaN(), 14, metrics.HigherIsBetter, "similar"},
		{math.NaN(), 1, 2, 0, 3, metrics.HigherIsBetter, "not compared"},
	}
	for _, c := range cases {
		if got := metrics.CompareLabel(c.bench, c.l95, c.u95, c.l998, c.u998, c.pol); got != c.want {
			t.Errorf("%v in [%v,%v]/[%v,%v] %v: %q, want %q", c.bench, c.l95, c.u95, c.l998, c.u998, c.pol, got, c.want)
		}
	}
	got, err := metrics.CompareProportion(90, 100, 0.5, metrics.HigherIsBetter)
	if err != nil || got != "significantly better" {
		t.Errorf("CompareProportion(90,100,0.5) = %q, %v", got, err)
	}
	got, _ = metrics.CompareRate(5, 1000, 1000, 10, metrics.LowerIsBetter)
	if got != "similar" {
		t.Errorf("CompareRate(5/1000 vs 10 per 1000) = %q, want similar", got)
	}
}

func TestInvalidInputs(t *testing.T) {
	ctx := context.Background()
	five := []float64{1, 2, 3, 4, 5}
	cases := []struct {
		name string
		err  error
	}{
		{"x > n", second(metrics.Wilson(5, 3, 0.95))},
		{"negative count", second(metrics.Byars(-1, 0.95))},
		{"confidence 150", second(metrics.Byars(3, 150))},
		{"confidence 0", second(metrics.Byars(3, 0))},
		{"zero denominator", errOf(metrics.Rate(3, 0, 100, 0.95))},
		{"sii 4 groups", errOf(metrics.SII(ctx, five[:4], five[:4], five[:4], five[:4], metrics.SIIOptions{Reps: 1000}))},
		{"sii 101 groups", errOf(metrics.SII(ctx, make([]float64, 101), make([]float64, 101), make([]float64, 101), make([]float64, 101), metrics.SIIOptions{Reps: 1000}))},
		{"sii zero population", errOf(metrics.SII(ctx, five, []float64{1, 1, 0, 1, 1}, five, five, metrics.SIIOptions{Reps: 1000}))},
		{"sii proportion > 1", errOf(metrics.SII(ctx, five, five, five, five, metrics.SIIOptions{ValueType: 2, Reps: 1000}))},
		{"sii few reps", errOf(metrics.SII(ctx, five, five, five, five, metrics.SIIOptions{Reps: 10}))},
		{"spc fix_after 5", errOf(metrics.XmR(five, metrics.SPCOptions{FixAfter: 5}))},
		{"spc NaN", errOf(metrics.XmR([]float64{1, math.NaN(), 3}, metrics.SPCOptions{}))},
		{"mean 1 value", errOf(metrics.Mean([]float64{1}, 0.95))},
		{"qof points thresholds", errOf(metrics.QOFPoints(50, 90, 40, 20))},
	}
	for _, c := range cases {
		if !errors.Is(c.err, metrics.ErrInvalid) {
			t.Errorf("%s: error %v, want ErrInvalid", c.name, c.err)
		}
	}
}

func second[A, B any](_ A, b B, err error) error { return err }
func errOf[A any](_ A, err error) error          { return err }

func TestSQLNullsAndErrors(t *testing.T) {
	db := testDB(t)
	nulls := []string{
		"wilson_lower(NULL, 10)", "wilson_upper(3, NULL)", "wilson_lower(3, 10, NULL)",
		"byars_lower(NULL)", "poisson_upper(NULL, 95)", "rate_lower(3, NULL, 1000)",
		"isr_upper(NULL, 3.2)", "qof_points(NULL, 40, 90, 20)",
		"funnel_significance(NULL, 10, 0.5)", "funnel_limit(0.5, NULL, 0.95, 'lower')",
		"funnel_limit(0.5, 10, 0.95, NULL)",
		"byars_lower(1, 99.8)", // negative Byar's lower limit is missing
		"sii(NULL, [1,1,1,1,1.0], [1,1,1,1,1.0], [1,1,1,1,1.0])",
		"spc_xmr(NULL)",
	}
	for _, e := range nulls {
		var v any
		if err := db.QueryRow("SELECT " + e).Scan(&v); err != nil {
			t.Errorf("%s: %v", e, err)
		} else if v != nil {
			t.Errorf("%s = %v, want NULL", e, v)
		}
	}
	// NULLs inside a column leave the other rows alone (vectorised path).
	if got := sqlFloat(t, db, `SELECT count(w) FROM (SELECT wilson_lower(CASE WHEN i % 3 = 0 THEN NULL ELSE i END, 5000) AS w FROM range(4000) t(i))`); got != 2666 {
		t.Errorf("non-NULL results = %v, want 2666", got)
	}
	errs := map[string]string{
		"wilson_lower(5, 3)":                                   "exceeds denominator",
		"wilson_upper(-1, 3)":                                  "non-negative",
		"byars_upper(-2)":                                      "non-negative",
		"poisson_lower(3, 150)":                                "confidence",
		"funnel_limit(0.5, 10, 0.95, 'middle')":                "side",
		"funnel_significance(1, 10, 0.5, 'weird')":             "statistic",
		"funnel_significance(11, 10, 0.5)":                     "exceeds denominator",
		"sii([1,2,3,4.0],[1,1,1,1.0],[0,1,2,3.0],[2,3,4,5.0])": "5 to 100",
		"spc_xmr([1,2,NULL,4.0])":                              "NULL",
		"spc_xmr([1,2,3.0], 'sideways')":                       "improvement",
		"compare_proportion(3, 10, 0.5, 'up-ish')":             "polarity",
	}
	for e, want := range errs {
		var v any
		err := db.QueryRow("SELECT " + e).Scan(&v)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one mentioning %q", e, err, want)
		}
	}
	if got := sqlString(t, db, "SELECT compare_label(0.5, NULL, 0.4, NULL, 0.45, 'higher_is_better')"); got != "significantly worse" {
		t.Errorf("compare_label with NULL lower limits = %q", got)
	}
	if got := sqlString(t, db, "SELECT compare_proportion(90, 100, 0.5, 'lower_is_better')"); got != "significantly worse" {
		t.Errorf("compare_proportion = %q", got)
	}
	if got := sqlString(t, db, "SELECT compare_rate(50, 1000, 1000, 20)"); got != "significantly higher" {
		t.Errorf("compare_rate = %q", got)
	}
}

func TestSIIDeterminism(t *testing.T) {
	ctx := context.Background()
	v := []float64{70, 72, 74, 75, 77, 78, 80, 81, 83, 84}
	pop := []float64{9, 10, 11, 10, 9, 10, 11, 10, 9, 10}
	lo := make([]float64, len(v))
	hi := make([]float64, len(v))
	for i := range v {
		lo[i], hi[i] = v[i]-2, v[i]+2
	}
	o := metrics.SIIOptions{Reps: 2000, Seed: 7}
	a, err := metrics.SII(ctx, v, pop, lo, hi, o)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := metrics.SII(ctx, v, pop, lo, hi, o)
	if a != b {
		t.Errorf("same seed, different results: %+v vs %+v", a, b)
	}
	o.Seed = 8
	c, _ := metrics.SII(ctx, v, pop, lo, hi, o)
	if c.SIILower == a.SIILower && c.SIIUpper == a.SIIUpper {
		t.Error("different seeds gave identical limits")
	}
	if c.SII != a.SII {
		t.Error("point estimate depends on the seed")
	}
	if !(a.SIILower < a.SII && a.SII < a.SIIUpper && a.RIILower < a.RII && a.RII < a.RIIUpper) {
		t.Errorf("limits do not bracket: %+v", a)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := metrics.SII(cctx, v, pop, lo, hi, o); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
}

func TestOverdispersion(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	const units = 400
	x := make([]float64, units)
	n := make([]float64, units)
	for i := range x {
		n[i] = float64(200 + rng.IntN(5000))
		// True rates vary between units (sd 0.05 around 0.3): overdispersed.
		p := math.Min(0.95, math.Max(0.05, 0.3+0.05*rng.NormFloat64()))
		for range int(n[i]) {
			if rng.Float64() < p {
				x[i]++
			}
		}
	}
	od, target, err := metrics.ProportionOverdispersion(x, n, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	if od.Phi < 5 || od.Tau2 <= 0 {
		t.Fatalf("phi %v, tau2 %v: expected clear overdispersion", od.Phi, od.Tau2)
	}
	if math.Abs(math.Sqrt(od.Tau2)-0.05) > 0.015 {
		t.Errorf("tau = %v, want about 0.05", math.Sqrt(od.Tau2))
	}
	s := metrics.ProportionSE(target, 1000)
	plain, _ := od.AdjustedLimit(target, s, 0.998, metrics.Upper, metrics.NoAdjustment)
	mult, _ := od.AdjustedLimit(target, s, 0.998, metrics.Upper, metrics.Multiplicative)
	add, _ := od.AdjustedLimit(target, s, 0.998, metrics.Upper, metrics.Additive)
	if !(mult > plain && add > plain) {
		t.Errorf("adjusted limits %v, %v not wider than %v", mult, add, plain)
	}
	flagged := func(a metrics.Adjustment) (c int) {
		for i := range x {
			if od.AdjustedSignificance(x[i]/n[i], metrics.ProportionSE(target, n[i]), target, a) != metrics.FunnelNotSignificant {
				c++
			}
		}
		return c
	}
	if p, a := flagged(metrics.NoAdjustment), flagged(metrics.Additive); !(a < p/2) {
		t.Errorf("additive adjustment flags %d of %d plain-flagged units", a, p)
	}

	// Without extra variation φ stays near 1 (winsorising pulls it below).
	for i := range x {
		x[i] = 0
		for range int(n[i]) {
			if rng.Float64() < 0.3 {
				x[i]++
			}
		}
	}
	od, _, _ = metrics.ProportionOverdispersion(x, n, 0.3)
	if od.Phi < 0.5 || od.Phi > 1.2 {
		t.Errorf("binomial data: phi = %v, want about 1", od.Phi)
	}
}

func TestSimilarPeersAndOpportunity(t *testing.T) {
	// Units on a line, plus a second variable that is constant: neighbours
	// are the nearest positions on the square-root scale (so unit 5 is
	// nearer 6 than 4: √6−√5 < √5−√4).
	pos := []float64{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 100}
	constant := make([]float64, len(pos))
	peers, err := metrics.SimilarPeers(context.Background(), [][]float64{pos, constant}, nil, 3)
	if err != nil {
		t.Fatal(err)
	}
	want := map[int][]int{0: {1, 2, 3}, 5: {6, 4, 7}, 12: {11, 10, 9}}
	for i, w := range want {
		got := peers[i]
		if len(got) != 3 || got[0] != w[0] || got[1] != w[1] || got[2] != w[2] {
			t.Errorf("peers of %d = %v, want %v", i, got, w)
		}
		for _, p := range got {
			if p == i {
				t.Errorf("unit %d is its own peer", i)
			}
		}
	}
	z, _ := metrics.StandardiseForPeers([]float64{1, 4, 9, 16})
	var sum float64
	for _, v := range z {
		sum += v
	}
	if math.Abs(sum) > 1e-12 {
		t.Errorf("standardised values sum to %v, want 0", sum)
	}

	peerVals := []float64{0.5, 0.6, 0.7, 0.8, 0.9, 0.4, 0.3, 0.2, 0.1, 0.65}
	b, opp, err := metrics.Opportunity(0.5, peerVals, 1000, 5, metrics.HigherIsBetter)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(b-0.73) > 1e-12 || math.Abs(opp-230) > 1e-9 {
		t.Errorf("higher is better: benchmark %v opportunity %v, want 0.73 and 230", b, opp)
	}
	b, opp, _ = metrics.Opportunity(0.5, peerVals, 1000, 5, metrics.LowerIsBetter)
	if math.Abs(b-0.3) > 1e-12 || math.Abs(opp-200) > 1e-9 {
		t.Errorf("lower is better: benchmark %v opportunity %v, want 0.3 and 200", b, opp)
	}
	_, opp, _ = metrics.Opportunity(0.95, peerVals, 1000, 5, metrics.HigherIsBetter)
	if opp != 0 {
		t.Errorf("a practice better than its peers has opportunity %v, want 0", opp)
	}
}

func TestQuantileSmallGroup(t *testing.T) {
	q, err := metrics.PHEQuantiles([]float64{1, 2, 3}, 5, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range q {
		if v != 0 {
			t.Errorf("N < nq gave quantiles %v, want all missing", q)
			break
		}
	}
	q, _ = metrics.PHEQuantiles([]float64{5, 1, math.NaN(), 3, 3, 9}, 5, false)
	want := []int{4, 1, 0, 2, 2, 5}
	for i := range want {
		if q[i] != want[i] {
			t.Errorf("quantiles %v, want %v", q, want)
			break
		}
	}
}

func TestQOFHelpers(t *testing.T) {
	prev, _ := metrics.Prevalence(50, 1000)
	pay, err := metrics.QOFPayment(10, 200, 12000, 9000, prev, 0.04)
	if err != nil {
		t.Fatal(err)
	}
	if want := 10 * 200 * (12000.0 / 9000) * (0.05 / 0.04); math.Abs(pay-want) > 1e-9 {
		t.Errorf("payment %v, want %v", pay, want)
	}
	r, _ := metrics.QOFReceivingIntervention(80, 100, 25)
	if r != 64 {
		t.Errorf("receiving intervention = %v, want 64", r)
	}
}

func TestFunnelCurveAndRate(t *testing.T) {
	pts, err := metrics.FunnelCurve(metrics.StatProportion, 0.2, 10, 10000, 30)
	if err != nil {
		t.Fatal(err)
	}
	if len(pts) != 30 || pts[0].N != 10 || math.Abs(pts[29].N-10000) > 1e-6 {
		t.Fatalf("curve spans %v..%v with %d points", pts[0].N, pts[len(pts)-1].N, len(pts))
	}
	for i := 1; i < len(pts); i++ {
		if !(pts[i].N > pts[i-1].N && pts[i].Upper998 <= pts[i-1].Upper998 && pts[i].Lower95 >= pts[i-1].Lower95) {
			t.Errorf("curve not funnel-shaped at %d: %+v after %+v", i, pts[i], pts[i-1])
		}
	}
	// A rate funnel is the ratio funnel at expected count target·n, scaled.
	for _, n := range []float64{50, 800, 20000} {
		rate, _ := metrics.FunnelLimit(metrics.StatRate, 0.015, n, 0.998, metrics.Upper)
		ratio, _ := metrics.FunnelLimit(metrics.StatRatio, 1, 0.015*n, 0.998, metrics.Upper)
		if !nearRel(rate, ratio*0.015, 1e-12) {
			t.Errorf("n=%v: rate limit %v, ratio limit × target %v", n, rate, ratio*0.015)
		}
	}
	if _, err := metrics.FunnelLimit(metrics.StatRatio, 1e300, 1e300, 0.95, metrics.Lower); err == nil {
		t.Error("an overflowing expected count should be an error")
	}
}

func TestBuildFunnel(t *testing.T) {
	var x, n []float64
	for _, r := range readGolden(t, "phe_funnel_prop_inputs_significance.csv") {
		x = append(x, r.f(t, "numerator"))
		n = append(n, r.f(t, "denominator"))
	}
	ft, err := metrics.BuildFunnel(metrics.StatProportion, x, n, math.NaN(), metrics.Additive)
	if err != nil {
		t.Fatal(err)
	}
	av, _ := metrics.FunnelAverage(x, n)
	if ft.Target != av || len(ft.Rows) != len(x) || !(ft.Phi > 1) {
		t.Fatalf("target %v (want %v), %d rows, phi %v", ft.Target, av, len(ft.Rows), ft.Phi)
	}
	plain, adjusted := 0, 0
	for _, r := range ft.Rows {
		if r.Label != metrics.FunnelNotSignificant {
			plain++
		}
		if r.AdjLabel != metrics.FunnelNotSignificant {
			adjusted++
		}
		if !(r.AdjLower998 <= r.Lower998+1e-12 && r.AdjUpper998 >= r.Upper998-1e-12) {
			t.Errorf("n=%v: adjusted limits [%v, %v] inside plain [%v, %v]", r.N, r.AdjLower998, r.AdjUpper998, r.Lower998, r.Upper998)
			break
		}
	}
	if !(adjusted < plain) {
		t.Errorf("adjusted funnel flags %d units, plain %d", adjusted, plain)
	}
}
