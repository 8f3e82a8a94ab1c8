package metrics_test

import (
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

func TestSQLDistributionQuantiles(t *testing.T) {
	db := testDB(t)
	cases := []struct {
		q    string
		want float64
	}{
		{"normal_quantile(0.975)", metrics.Z(0.95)},
		{"chisq_quantile(0.975, 4)", metrics.ChiSquareQuantile(0.975, 4)},
		{"t_quantile(0.975, 7)", 2.364624251592784},
		{"normal_quantile(1)", math.Inf(1)},
	}
	for _, c := range cases {
		if got := sqlFloat(t, db, "SELECT "+c.q); !(got == c.want || nearRel(got, c.want, 1e-14)) {
			t.Errorf("%s = %v, want %v", c.q, got, c.want)
		}
	}
	for _, q := range []string{"normal_quantile(1.5)", "t_quantile(0.5, 0)", "chisq_quantile(0.5, -1)"} {
		var v any
		if err := db.QueryRow("SELECT " + q).Scan(&v); err == nil {
			t.Errorf("%s: no error", q)
		}
	}
}

func TestSQLOverdispersion(t *testing.T) {
	rows := readGolden(t, "phe_funnel_prop_inputs_significance.csv")
	var x, n []float64
	for _, r := range rows {
		x = append(x, r.f(t, "numerator"))
		n = append(n, r.f(t, "denominator"))
	}
	od, target, err := metrics.FunnelOverdispersion(metrics.StatProportion, x, n, math.NaN())
	if err != nil {
		t.Fatal(err)
	}
	db := testDB(t)
	var gotT, phi, tau2 float64
	var units int
	err = db.QueryRow(`SELECT o.target, o.phi, o.tau2, o.units FROM (SELECT overdispersion(?::DOUBLE[], ?::DOUBLE[]) AS o)`,
		listLit(x), listLit(n)).Scan(&gotT, &phi, &tau2, &units)
	if err != nil {
		t.Fatal(err)
	}
	if !nearRel(gotT, target, 1e-12) || !nearRel(phi, od.Phi, 1e-12) || !nearRel(tau2, od.Tau2, 1e-12) || units != len(x) {
		t.Errorf("sql overdispersion %v %v %v %d, Go %v %v %v %d", gotT, phi, tau2, units, target, od.Phi, od.Tau2, od.N)
	}
	if !(phi > 1) {
		t.Errorf("PCT proportions phi = %v: expected overdispersion", phi)
	}
	// The lists come from aggregates in no fixed order: any order gives the same bits.
	rng := rand.New(rand.NewPCG(1, 2))
	for range 5 {
		perm := rng.Perm(len(x))
		px, pn := make([]float64, len(x)), make([]float64, len(x))
		for i, j := range perm {
			px[i], pn[i] = x[j], n[j]
		}
		var p2, t2 float64
		if err := db.QueryRow(`SELECT o.phi, o.tau2 FROM (SELECT overdispersion(?::DOUBLE[], ?::DOUBLE[]) AS o)`,
			listLit(px), listLit(pn)).Scan(&p2, &t2); err != nil {
			t.Fatal(err)
		}
		if math.Float64bits(p2) != math.Float64bits(phi) || math.Float64bits(t2) != math.Float64bits(tau2) {
			t.Errorf("shuffled units: phi %v tau2 %v, in file order %v %v", p2, t2, phi, tau2)
		}
	}
	// An invalid unit is named by its place in the list as given.
	var o any
	err = db.QueryRow(`SELECT overdispersion([5, 1, 2, 3]::DOUBLE[], [10, 10, 0, 10]::DOUBLE[])`).Scan(&o)
	if err == nil || !strings.Contains(err.Error(), "unit 3 ") {
		t.Errorf("zero denominator third: %v", err)
	}
	// With no adjustment the limits and labels are the plain funnel's.
	for _, q := range []struct{ od, plain string }{
		{"funnel_limit_od(0.8, 500, 0.998, 'lower', 1, 0, 'proportion', 'none')", "funnel_limit(0.8, 500, 0.998, 'lower')"},
		{"funnel_limit_od(0.8, 500, 95, 'upper', 1, 0)", "funnel_limit(0.8, 500, 0.95, 'upper')"},
	} {
		a, b := sqlFloat(t, db, "SELECT "+q.od), sqlFloat(t, db, "SELECT "+q.plain)
		if !nearRel(a, b, 1e-12) {
			t.Errorf("%s = %v, %s = %v", q.od, a, q.plain, b)
		}
	}
	plainFlags := sqlFloat(t, db, `SELECT count(*) FROM (SELECT unnest(?::DOUBLE[]) AS x, unnest(?::DOUBLE[]) AS n)
		WHERE funnel_significance(x, n, ?) <> 'Not significant'`, listLit(x), listLit(n), target)
	adjFlags := sqlFloat(t, db, `SELECT count(*) FROM (SELECT unnest(?::DOUBLE[]) AS x, unnest(?::DOUBLE[]) AS n)
		WHERE funnel_significance_od(x, n, ?, ?, ?) <> 'Not significant'`, listLit(x), listLit(n), target, phi, tau2)
	noneFlags := sqlFloat(t, db, `SELECT count(*) FROM (SELECT unnest(?::DOUBLE[]) AS x, unnest(?::DOUBLE[]) AS n)
		WHERE funnel_significance_od(x, n, ?, ?, ?, 'proportion', 'none') <> 'Not significant'`, listLit(x), listLit(n), target, phi, tau2)
	if noneFlags != plainFlags || !(adjFlags < plainFlags) {
		t.Errorf("flagged: plain %v, unadjusted od %v, additive %v", plainFlags, noneFlags, adjFlags)
	}
	wide := sqlFloat(t, db, "SELECT funnel_limit_od(?, 500, 0.95, 'upper', ?, ?, 'proportion', 'multiplicative')", target, phi, tau2)
	narrow := sqlFloat(t, db, "SELECT funnel_limit(?, 500, 0.95, 'upper')", target)
	if !(wide > narrow) {
		t.Errorf("multiplicative limit %v not above plain %v", wide, narrow)
	}
}

func TestSQLMeanAndDSR(t *testing.T) {
	db := testDB(t)
	var vals []float64
	for _, r := range readGolden(t, "phe_mean_inputs.csv") {
		if r["area"] == "Area1" {
			vals = append(vals, r.f(t, "value"))
		}
	}
	for _, r := range readGolden(t, "phe_mean_expected.csv") {
		if r["area"] != "Area1" {
			continue
		}
		var mean, lo, hi float64
		var n int
		if err := db.QueryRow(`SELECT m.mean, m.lower, m.upper, m.n FROM (SELECT mean_ci(?::DOUBLE[], 99.8) AS m)`, listLit(vals)).Scan(&mean, &lo, &hi, &n); err != nil {
			t.Fatal(err)
		}
		if !nearRel(mean, r.f(t, "expected_mean"), 1e-9) || !nearRel(lo, r.f(t, "expected_lower99_8"), 1e-9) || !nearRel(hi, r.f(t, "expected_upper99_8"), 1e-9) || n != 8 {
			t.Errorf("mean_ci: %v [%v, %v] n=%d", mean, lo, hi, n)
		}
	}
	type bands struct{ x, n, w []float64 }
	in := map[string]*bands{}
	for _, r := range readGolden(t, "phe_dsr_inputs.csv") {
		b := in[r["area"]]
		if b == nil {
			b = &bands{}
			in[r["area"]] = b
		}
		b.x = append(b.x, r.f(t, "count"))
		b.n = append(b.n, r.f(t, "pop"))
		b.w = append(b.w, r.f(t, "stdpop"))
	}
	checked := 0
	for _, r := range readGolden(t, "phe_dsr_expected.csv") {
		checked++
		b := in[r["area"]]
		if strings.Contains(listLit(b.x), "NaN") {
			checked--
			continue // NULL counts cannot go in a list; the Go test covers them
		}
		var v, lo, hi *float64
		err := db.QueryRow(`SELECT d.value, d.lower, d.upper FROM (SELECT dsr(?::DOUBLE[], ?::DOUBLE[], ?::DOUBLE[], ?) AS d)`,
			listLit(b.x), listLit(b.n), listLit(b.w), r.f(t, "multiplier")).Scan(&v, &lo, &hi)
		if err != nil {
			t.Fatal(err)
		}
		want := r.f(t, "expected_value")
		if math.IsNaN(want) {
			if v != nil {
				t.Errorf("%s: dsr %v, want NULL", r["area"], *v)
			}
			continue
		}
		if v == nil || !nearRel(*v, want, 1e-9) || !nearRel(*lo, r.f(t, "expected_lower95_0"), 1e-9) || !nearRel(*hi, r.f(t, "expected_upper95_0"), 1e-9) {
			t.Errorf("%s: dsr %v [%v, %v]", r["area"], v, lo, hi)
		}
	}
	if checked < 5 {
		t.Errorf("only %d DSR rows checked through SQL", checked)
	}
}

// TestSQLVectorisedMatchesGo checks the vectorised path row by row against
// the Go API across many chunks, with NULLs and missing results mixed in.
func TestSQLVectorisedMatchesGo(t *testing.T) {
	db := testDB(t)
	rows, err := db.Query(`SELECT i, x, n, wilson_lower(x, n), rate_upper(x, n, 1000, 99.8), byars_lower(x, 99.8),
			funnel_significance(x, n, 0.2), funnel_limit(0.2, n, 95, 'upper')
		FROM (SELECT i, CASE WHEN i % 17 = 0 THEN NULL ELSE (i % 50)::DOUBLE END AS x, (50 + i % 300)::DOUBLE AS n
		      FROM range(30000) t(i)) ORDER BY i`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	count := 0
	for rows.Next() {
		var i int
		var x, wl, ru, bl, fl *float64
		var n float64
		var fs *string
		if err := rows.Scan(&i, &x, &n, &wl, &ru, &bl, &fs, &fl); err != nil {
			t.Fatal(err)
		}
		count++
		if want, _ := metrics.FunnelLimit(metrics.StatProportion, 0.2, n, 0.95, metrics.Upper); fl == nil || *fl != want {
			t.Fatalf("row %d funnel_limit %v, want %v", i, fl, want)
		}
		if x == nil {
			if wl != nil || ru != nil || bl != nil || fs != nil {
				t.Fatalf("row %d: NULL x gave non-NULL results", i)
			}
			continue
		}
		wlo, _, _ := metrics.Wilson(*x, n, 0.95)
		r, _ := metrics.Rate(*x, n, 1000, 0.998)
		blo, _, _ := metrics.Byars(*x, 0.998)
		sig, _ := metrics.FunnelSignificance(metrics.StatProportion, *x, n, 0.2)
		if wl == nil || !nearRel(*wl, wlo, 1e-15) && *wl != wlo {
			t.Fatalf("row %d wilson_lower %v, want %v", i, wl, wlo)
		}
		if ru == nil || !nearRel(*ru, r.Upper, 1e-15) {
			t.Fatalf("row %d rate_upper %v, want %v", i, ru, r.Upper)
		}
		if (bl == nil) != math.IsNaN(blo) || (bl != nil && !nearRel(*bl, blo, 1e-15)) {
			t.Fatalf("row %d byars_lower %v, want %v", i, bl, blo)
		}
		if fs == nil || *fs != sig {
			t.Fatalf("row %d funnel_significance %v, want %q", i, fs, sig)
		}
	}
	if count != 30000 {
		t.Errorf("%d rows", count)
	}
}

func TestSQLSPCSummary(t *testing.T) {
	db := testDB(t)
	y := append(alternate(12, 9, 11), alternate(8, 19, 21)...)
	var icon string
	var assurance *string
	err := db.QueryRow(`SELECT s.variation_icon, s.assurance FROM (SELECT spc_summary(?::DOUBLE[], 'increase', 40) AS s)`, listLit(y)).Scan(&icon, &assurance)
	if err != nil {
		t.Fatal(err)
	}
	res, _ := metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase, Target: 40, HasTarget: true})
	if icon != res.VariationIcon || assurance == nil || *assurance != res.Assurance || res.Assurance != metrics.AssuranceConsistentFail {
		t.Errorf("sql %q %v, Go %q %q", icon, assurance, res.VariationIcon, res.Assurance)
	}
	err = db.QueryRow(`SELECT s.variation_icon, s.assurance FROM (SELECT spc_summary(?::DOUBLE[]) AS s)`, listLit(y)).Scan(&icon, &assurance)
	if err != nil || assurance != nil || icon != "neutral_high" {
		t.Errorf("neutral summary %q %v %v", icon, assurance, err)
	}
}
