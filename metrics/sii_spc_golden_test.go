package metrics_test

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"testing"

	"github.com/gplens/gplens/metrics"
)

type siiBlock struct {
	values, pops, lowers, uppers, se []float64
}

func siiInputs(t *testing.T) map[string]*siiBlock {
	in := map[string]*siiBlock{}
	for _, r := range readGolden(t, "phe_sii_inputs.csv") {
		k := r["block_start_record"]
		b := in[k]
		if b == nil {
			b = &siiBlock{}
			in[k] = b
		}
		v := r.f(t, "value")
		if math.IsNaN(v) { // proportions given as counts
			v = r.f(t, "count") / r.f(t, "population")
		}
		b.values = append(b.values, v)
		b.pops = append(b.pops, r.f(t, "population"))
		b.lowers = append(b.lowers, r.f(t, "lower_cl"))
		b.uppers = append(b.uppers, r.f(t, "upper_cl"))
		b.se = append(b.se, r.f(t, "standard_error"))
	}
	// Blocks 266/286 take their inputs from 71/91 (golden README).
	in["266"], in["286"] = in["71"], in["91"]
	return in
}

func TestGoldenSII(t *testing.T) {
	in := siiInputs(t)
	db := testDB(t)
	for _, r := range readGolden(t, "phe_sii_expected.csv") {
		b := in[r["block_start_record"]]
		if b == nil {
			t.Fatalf("no inputs for block %s", r["block_start_record"])
		}
		confs := strings.Split(r["confidence"], ";")
		for ci, cs := range confs {
			conf, _ := strconv.ParseFloat(cs, 64)
			o := metrics.SIIOptions{
				ValueType:  int(r.f(t, "value_type")),
				Transform:  r["transform"] == "TRUE",
				Multiplier: r.f(t, "multiplier"),
				Confidence: conf,
				Reps:       10000,
				Seed:       uint64(ci + 1),
			}
			name := fmt.Sprintf("block %s conf %v", r["block_start_record"], conf)
			res, err := metrics.SII(context.Background(), b.values, b.pops, b.lowers, b.uppers, o)
			if err != nil {
				t.Fatalf("%s: %v", name, err)
			}
			point := []struct {
				what      string
				got, want float64
			}{
				{"sii", res.SII, r.f(t, "expected_sii")},
				{"rii", res.RII, r.f(t, "expected_rii")},
				{"intercept", res.Intercept, r.f(t, "expected_intercept")},
			}
			for _, p := range point {
				if math.IsNaN(p.want) {
					continue // not asserted upstream
				}
				if !nearRel(p.got, p.want, 1e-6) {
					t.Errorf("%s %s = %.12g, want %.12g", name, p.what, p.got, p.want)
				}
			}
			// Simulated limits (upstream tests allow 0.05 on 10,000
			// repetitions): within 5% of the interval's width.
			n := strconv.Itoa(ci + 1)
			width := math.Abs(r.f(t, "expected_sii_upper_conf"+n) - r.f(t, "expected_sii_lower_conf"+n))
			for _, p := range []struct {
				what      string
				got, want float64
				scale     float64
			}{
				{"sii_lower", res.SIILower, r.f(t, "expected_sii_lower_conf"+n), width},
				{"sii_upper", res.SIIUpper, r.f(t, "expected_sii_upper_conf"+n), width},
				{"rii_lower", res.RIILower, r.f(t, "expected_rii_lower_conf"+n), math.Abs(r.f(t, "expected_rii_upper_conf"+n) - r.f(t, "expected_rii_lower_conf"+n))},
				{"rii_upper", res.RIIUpper, r.f(t, "expected_rii_upper_conf"+n), math.Abs(r.f(t, "expected_rii_upper_conf"+n) - r.f(t, "expected_rii_lower_conf"+n))},
			} {
				if math.IsNaN(p.want) {
					continue
				}
				if math.Abs(p.got-p.want) > 0.05*p.scale {
					t.Errorf("%s %s = %.6g, want about %.6g", name, p.what, p.got, p.want)
				}
			}
			if ci == 0 {
				q := `SELECT s.sii, s.sii_lower, s.sii_upper, s.rii, s.intercept FROM (SELECT sii(?::DOUBLE[], ?::DOUBLE[], ?::DOUBLE[], ?::DOUBLE[], ?, ?, ?, ?, 10000, ?) AS s)`
				var sii, lo, hi, intercept float64
				var rii *float64
				err := db.QueryRow(q, listLit(b.values), listLit(b.pops), listLit(b.lowers), listLit(b.uppers),
					o.ValueType, o.Multiplier, o.Transform, conf*100, int64(o.Seed)).Scan(&sii, &lo, &hi, &rii, &intercept)
				if err != nil {
					t.Fatalf("%s sql: %v", name, err)
				}
				if !nearRel(sii, res.SII, 1e-12) || lo != res.SIILower || hi != res.SIIUpper || !nearRel(intercept, res.Intercept, 1e-12) {
					t.Errorf("%s sql sii %v [%v, %v] icpt %v, Go %v [%v, %v] %v", name, sii, lo, hi, intercept, res.SII, res.SIILower, res.SIIUpper, res.Intercept)
				}
			}
		}
	}
}

// listLit renders a Go slice as a DuckDB list literal string for casting.
func listLit(v []float64) string {
	parts := make([]string, len(v))
	for i, x := range v {
		parts[i] = strconv.FormatFloat(x, 'g', -1, 64)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

func TestGoldenXmRLimits(t *testing.T) {
	series := map[string][]float64{}
	for _, r := range readGolden(t, "ptd_xmr_inputs.csv") {
		series[r["case"]] = append(series[r["case"]], r.f(t, "y"))
	}
	db := testDB(t)
	for _, r := range readGolden(t, "ptd_xmr_limits.csv") {
		y := series[r["case"]]
		if len(y) != int(r.f(t, "n")) {
			t.Fatalf("%s: %d values, want %v", r["case"], len(y), r["n"])
		}
		o := metrics.SPCOptions{Improvement: metrics.Increase, NoScreen: r["screen_outliers"] != "True"}
		res, err := metrics.XmR(y, o)
		if err != nil {
			t.Fatal(err)
		}
		p := res.Points[len(y)-1]
		for _, c := range []struct {
			what      string
			got, want float64
		}{
			{"mean", p.Mean, r.f(t, "recomputed_mean")},
			{"lpl", p.LPL, r.f(t, "recomputed_lpl")},
			{"upl", p.UPL, r.f(t, "recomputed_upl")},
			{"near_lpl", p.NearLPL, r.f(t, "recomputed_near_lpl_2sigma")},
			{"near_upl", p.NearUPL, r.f(t, "recomputed_near_upl_2sigma")},
		} {
			if !near(c.got, c.want, 1e-9) {
				t.Errorf("%s %s = %v, want %v", r["case"], c.what, c.got, c.want)
			}
		}
		// Through SQL: the same limits on every point.
		screen := r["screen_outliers"] == "True"
		var lpl, upl float64
		err = db.QueryRow(`SELECT min(p.lpl), max(p.upl) FROM (SELECT unnest(spc_xmr(?::DOUBLE[], 'increase', ?)) AS p)`, listLit(y), screen).Scan(&lpl, &upl)
		if err != nil {
			t.Fatal(err)
		}
		if !near(lpl, r.f(t, "recomputed_lpl"), 1e-9) || !near(upl, r.f(t, "recomputed_upl"), 1e-9) {
			t.Errorf("%s sql limits %v %v", r["case"], lpl, upl)
		}
		switch r["case"] {
		case "vignette_deviation_screen":
			if got := res.Points[4].PointType; got != metrics.SpecialCauseImprovement {
				t.Errorf("%s point 5 = %s, want special_cause_improvement", r["case"], got)
			}
		case "two_in_three_opposite_sides":
			for _, i := range []int{len(y) - 2, len(y) - 1} {
				if got := res.Points[i].PointType; got != metrics.CommonCause {
					t.Errorf("%s point %d = %s, want common_cause", r["case"], i+1, got)
				}
			}
		}
	}
}

func parseInts(t *testing.T, s string) []float64 {
	if s == "" {
		return nil
	}
	var out []float64
	for _, p := range strings.Split(s, ";") {
		v, err := strconv.ParseFloat(p, 64)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, v)
	}
	return out
}

func TestGoldenPTDRules(t *testing.T) {
	for _, r := range readGolden(t, "ptd_rule_unit_cases.csv") {
		a, b, want := parseInts(t, r["input_a"]), parseInts(t, r["input_b"]), parseInts(t, r["expected"])
		var got []float64
		switch r["function"] {
		case "seven_point_one_side_mean":
			got = metrics.SevenPointOneSideMean(a)
		case "part_of_seven_trend":
			got = metrics.PartOfSevenTrend(a)
		case "seven_point_trend":
			got = metrics.SevenPointTrend(a)
		case "two_in_three":
			got = metrics.TwoInThree(a, b)
		case "part_of_two_in_three(two_in_three(close,rtm),close)":
			got = metrics.PartOfTwoInThree(metrics.TwoInThree(a, b), a)
		default:
			t.Fatalf("unknown function %q", r["function"])
		}
		if fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s(%v, %v) = %v, want %v", r["function"], a, b, got, want)
		}
	}
}
