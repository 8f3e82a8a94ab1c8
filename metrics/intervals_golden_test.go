package metrics_test

import (
	"math"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

func TestGoldenByarsWilson(t *testing.T) {
	db := testDB(t)
	for _, r := range readGolden(t, "phe_byars_wilson_internal.csv") {
		x, n, c := r.f(t, "x"), r.f(t, "n"), r.f(t, "confidence")
		wantLo, wantHi := r.f(t, "expected_lower"), r.f(t, "expected_upper")
		var lo, hi, sqlLo, sqlHi float64
		var err error
		switch r["method"] {
		case "byars":
			lo, hi, err = metrics.Byars(x, c)
			sqlLo = sqlFloat(t, db, "SELECT byars_lower(?, ?)", x, c*100) // percent form
			sqlHi = sqlFloat(t, db, "SELECT byars_upper(?, ?)", x, c)
		case "wilson":
			lo, hi, err = metrics.Wilson(x, n, c)
			sqlLo = sqlFloat(t, db, "SELECT wilson_lower(?, ?, ?)", x, n, c)
			sqlHi = sqlFloat(t, db, "SELECT wilson_upper(?, ?, ?)", x, n, c*100)
		}
		if err != nil {
			t.Fatal(err)
		}
		for _, g := range []struct {
			what      string
			got, want float64
		}{{"lower", lo, wantLo}, {"upper", hi, wantHi}, {"sql lower", sqlLo, wantLo}, {"sql upper", sqlHi, wantHi}} {
			if !nearRel(g.got, g.want, 1e-9) {
				t.Errorf("%s x=%v n=%v c=%v %s = %v, want %v", r["method"], x, n, c, g.what, g.got, g.want)
			}
		}
	}
}

func TestGoldenProportion(t *testing.T) {
	db := testDB(t)
	for _, r := range readGolden(t, "phe_proportion.csv") {
		x, n, m := r.f(t, "numerator"), r.f(t, "denominator"), r.f(t, "multiplier")
		p95, err := metrics.Proportion(x, n, m, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		p998, _ := metrics.Proportion(x, n, m, 0.998)
		checks := []struct {
			what      string
			got, want float64
		}{
			{"value", p95.Value, r.f(t, "expected_value")},
			{"lower95", p95.Lower, r.f(t, "expected_lower95_0")},
			{"upper95", p95.Upper, r.f(t, "expected_upper95_0")},
			{"lower998", p998.Lower, r.f(t, "expected_lower99_8")},
			{"upper998", p998.Upper, r.f(t, "expected_upper99_8")},
			{"sql lower95", m * sqlFloat(t, db, "SELECT wilson_lower(?, ?)", x, n), r.f(t, "expected_lower95_0")},
			{"sql upper998", m * sqlFloat(t, db, "SELECT wilson_upper(?, ?, 99.8)", x, n), r.f(t, "expected_upper99_8")},
		}
		for _, c := range checks {
			if !near(c.got, c.want, 1e-9) {
				t.Errorf("%s %s = %v, want %v", r["area"], c.what, c.got, c.want)
			}
		}
	}
}

func TestGoldenRate(t *testing.T) {
	db := testDB(t)
	for _, r := range readGolden(t, "phe_rate.csv") {
		x, n, m := r.f(t, "numerator"), r.f(t, "denominator"), r.f(t, "multiplier")
		r95, err := metrics.Rate(x, n, m, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		r998, _ := metrics.Rate(x, n, m, 0.998)
		_, _, exact, _ := metrics.PoissonCount(x, 0.95)
		if want := r["expected_method"] == "Exact"; exact != want {
			t.Errorf("%s: exact = %v, want %v", r["area"], exact, want)
		}
		checks := []struct {
			what      string
			got, want float64
		}{
			{"value", r95.Value, r.f(t, "expected_value")},
			{"lower95", r95.Lower, r.f(t, "expected_lower95_0")},
			{"upper95", r95.Upper, r.f(t, "expected_upper95_0")},
			{"lower998", r998.Lower, r.f(t, "expected_lower99_8")},
			{"upper998", r998.Upper, r.f(t, "expected_upper99_8")},
			{"sql lower95", sqlFloat(t, db, "SELECT rate_lower(?, ?, ?)", x, n, m), r.f(t, "expected_lower95_0")},
			{"sql upper998", sqlFloat(t, db, "SELECT rate_upper(?, ?, ?, 0.998)", x, n, m), r.f(t, "expected_upper99_8")},
			{"sql poisson lower998", sqlFloat(t, db, "SELECT poisson_lower(?, 99.8)", x) / n * m, r.f(t, "expected_lower99_8")},
			{"sql poisson upper95", sqlFloat(t, db, "SELECT poisson_upper(?)", x) / n * m, r.f(t, "expected_upper95_0")},
		}
		for _, c := range checks {
			if !nearRel(c.got, c.want, 1e-7) {
				t.Errorf("%s x=%v m=%v %s = %v, want %v", r["area"], x, m, c.what, c.got, c.want)
			}
		}
	}
}

func TestGoldenMean(t *testing.T) {
	in := map[string][]float64{}
	for _, r := range readGolden(t, "phe_mean_inputs.csv") {
		v := r.f(t, "value")
		in[r["area"]] = append(in[r["area"]], v)
		in["ALL"] = append(in["ALL"], v)
	}
	for _, r := range readGolden(t, "phe_mean_expected.csv") {
		vals := in[r["area"]]
		m95, err := metrics.Mean(vals, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		m998, _ := metrics.Mean(vals, 99.8)
		checks := []struct {
			what      string
			got, want float64
		}{
			{"sum", m95.Sum, r.f(t, "expected_sum")},
			{"count", float64(m95.Count), r.f(t, "expected_count")},
			{"sd", m95.SD, r.f(t, "expected_sd")},
			{"mean", m95.Mean, r.f(t, "expected_mean")},
			{"lower95", m95.Lower, r.f(t, "expected_lower95_0")},
			{"upper95", m95.Upper, r.f(t, "expected_upper95_0")},
			{"lower998", m998.Lower, r.f(t, "expected_lower99_8")},
			{"upper998", m998.Upper, r.f(t, "expected_upper99_8")},
		}
		for _, c := range checks {
			if !nearRel(c.got, c.want, 1e-9) {
				t.Errorf("%s %s = %.15g, want %.15g", r["area"], c.what, c.got, c.want)
			}
		}
	}
}

func TestGoldenDSR(t *testing.T) {
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
	for _, r := range readGolden(t, "phe_dsr_expected.csv") {
		b := in[r["area"]]
		m := r.f(t, "multiplier")
		d95, err := metrics.DSR(b.x, b.n, b.w, m, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		d998, _ := metrics.DSR(b.x, b.n, b.w, m, 0.998)
		checks := []struct {
			what      string
			got, want float64
		}{
			{"value", d95.Value, r.f(t, "expected_value")},
			{"lower95", d95.Lower, r.f(t, "expected_lower95_0")},
			{"upper95", d95.Upper, r.f(t, "expected_upper95_0")},
			{"lower998", d998.Lower, r.f(t, "expected_lower99_8")},
			{"upper998", d998.Upper, r.f(t, "expected_upper99_8")},
		}
		for _, c := range checks {
			if !nearRel(c.got, c.want, 1e-9) {
				t.Errorf("%s m=%v %s = %.15g, want %.15g", r["area"], m, c.what, c.got, c.want)
			}
		}
	}
}

func TestGoldenISR(t *testing.T) {
	type bands struct{ x, n, rx, rn []float64 }
	in := map[string]*bands{}
	for _, r := range readGolden(t, "phe_isr_inputs.csv") {
		b := in[r["area"]]
		if b == nil {
			b = &bands{}
			in[r["area"]] = b
		}
		b.x = append(b.x, r.f(t, "count"))
		b.n = append(b.n, r.f(t, "pop"))
		b.rx = append(b.rx, r.f(t, "refcount"))
		b.rn = append(b.rn, r.f(t, "refpop"))
	}
	db := testDB(t)
	for _, r := range readGolden(t, "phe_isr_expected.csv") {
		b := in[r["area"]]
		m := r.f(t, "multiplier_or_refvalue")
		f := metrics.ISRatio
		if r["statistic"] == "rate" {
			f = metrics.ISRate
		}
		res95, err := f(b.x, b.n, b.rx, b.rn, m, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		res998, _ := f(b.x, b.n, b.rx, b.rn, m, 0.998)
		checks := []struct {
			what      string
			got, want float64
		}{
			{"observed", res95.Observed, r.f(t, "expected_observed")},
			{"expected", res95.Expected, r.f(t, "expected_expected")},
			{"value", res95.Value, r.f(t, "expected_value")},
			{"lower95", res95.Lower, r.f(t, "expected_lower95_0")},
			{"upper95", res95.Upper, r.f(t, "expected_upper95_0")},
			{"lower998", res998.Lower, r.f(t, "expected_lower99_8")},
			{"upper998", res998.Upper, r.f(t, "expected_upper99_8")},
		}
		if r["statistic"] == "ratio" {
			o, e := res95.Observed, res95.Expected
			checks = append(checks,
				struct {
					what      string
					got, want float64
				}{"sql isr_lower", m * sqlFloat(t, db, "SELECT isr_lower(?, ?)", o, e), r.f(t, "expected_lower95_0")},
				struct {
					what      string
					got, want float64
				}{"sql isr_upper 99.8", m * sqlFloat(t, db, "SELECT isr_upper(?, ?, 99.8)", o, e), r.f(t, "expected_upper99_8")})
		}
		for _, c := range checks {
			if math.IsNaN(c.want) && strings.HasPrefix(r["area"], "zeropop") {
				continue // these areas are checked at 95% only
			}
			if !nearRel(c.got, c.want, 1e-7) {
				t.Errorf("%s %s m=%v %s = %.15g, want %.15g", r["statistic"], r["area"], m, c.what, c.got, c.want)
			}
		}
	}
}

func TestGoldenQOF(t *testing.T) {
	db := testDB(t)
	for _, r := range readGolden(t, "qof_points_formula_cases_DERIVED.csv") {
		a, b, c := r.f(t, "numerator_A"), r.f(t, "register_or_eligible_B"), r.f(t, "pca_plus_exclusions_C")
		e, f, g := r.f(t, "lower_threshold_E_pct"), r.f(t, "upper_threshold_F_pct"), r.f(t, "max_points_G")
		d, err := metrics.QOFAchievement(a, b-c)
		if err != nil {
			t.Fatal(err)
		}
		pts, err := metrics.QOFPoints(d, e, f, g)
		if err != nil {
			t.Fatal(err)
		}
		pca, _ := metrics.QOFPCARate(c, b-c)
		sqlPts := sqlFloat(t, db, "SELECT qof_points(?, ?, ?, ?)", d, e, f, g)
		for _, ch := range []struct {
			what      string
			got, want float64
		}{
			{"achievement", d, r.f(t, "derived_achievement_pct_D")},
			{"points", pts, r.f(t, "derived_points_H")},
			{"sql points", sqlPts, r.f(t, "derived_points_H")},
			{"pca rate", pca, r.f(t, "derived_pca_rate_pct")},
		} {
			if !near(ch.got, ch.want, 1e-9) {
				t.Errorf("%s %s = %v, want %v", r["case"], ch.what, ch.got, ch.want)
			}
		}
	}
}
