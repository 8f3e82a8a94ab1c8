package metrics_test

import (
	"math"
	"testing"

	"github.com/gplens/gplens/metrics"
)

func alternate(n int, a, b float64) []float64 {
	y := make([]float64, n)
	for i := range y {
		y[i] = a
		if i%2 == 1 {
			y[i] = b
		}
	}
	return y
}

func TestXmROutsideLimits(t *testing.T) {
	y := alternate(20, 9, 11)
	y[5], y[14] = 30, -10 // mean stays 10; screening drops the four big ranges
	res, err := metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase})
	if err != nil {
		t.Fatal(err)
	}
	p := res.Points[0]
	if p.Mean != 10 || math.Abs(p.UPL-15.32) > 1e-12 || math.Abs(p.LPL-4.68) > 1e-12 {
		t.Fatalf("mean %v limits %v..%v, want 10, 4.68..15.32", p.Mean, p.LPL, p.UPL)
	}
	for i, p := range res.Points {
		want := metrics.CommonCause
		switch i {
		case 5:
			want = metrics.SpecialCauseImprovement
		case 14:
			want = metrics.SpecialCauseConcern
		}
		if p.PointType != want {
			t.Errorf("point %d (%v) = %s, want %s", i+1, p.Value, p.PointType, want)
		}
	}
	if res.VariationIcon != "common_cause" {
		t.Errorf("icon %q", res.VariationIcon)
	}
	// Without screening the big ranges stay in: AMR (15·2 + 4·21)/19 = 6.
	res, _ = metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase, NoScreen: true})
	if got := res.Points[0].UPL; math.Abs(got-(10+2.66*6)) > 1e-12 {
		t.Errorf("unscreened: upl %v, want %v", got, 10+2.66*6)
	}
}

func TestXmRTrendAndRuns(t *testing.T) {
	y := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9}
	res, _ := metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase})
	for i, p := range res.Points {
		// ptd types trend points by their side of the mean (on it: concern).
		want := metrics.SpecialCauseConcern
		if p.Value > 5 {
			want = metrics.SpecialCauseImprovement
		}
		if p.PointType != want {
			t.Errorf("trend point %d = %s, want %s", i+1, p.PointType, want)
		}
	}
	if res.VariationIcon != "improvement_high" {
		t.Errorf("icon %q, want improvement_high", res.VariationIcon)
	}

	// Ten points below the mean then ten above, with decrease as improvement.
	y = append(alternate(10, 9, 9.5), alternate(10, 10.5, 11)...)
	res, _ = metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Decrease})
	if res.Points[0].PointType != metrics.SpecialCauseImprovement || res.Points[19].PointType != metrics.SpecialCauseConcern {
		t.Errorf("run points: first %s, last %s", res.Points[0].PointType, res.Points[19].PointType)
	}
	if res.VariationIcon != "concern_high" {
		t.Errorf("icon %q, want concern_high", res.VariationIcon)
	}
	res, _ = metrics.XmR(y, metrics.SPCOptions{})
	if res.Points[0].PointType != metrics.SpecialCauseNeutralLow || res.Points[19].PointType != metrics.SpecialCauseNeutralHigh {
		t.Errorf("neutral: first %s, last %s", res.Points[0].PointType, res.Points[19].PointType)
	}
	// Six on one side is not yet a run.
	y = append(alternate(6, 9.9, 9.8), alternate(6, 10.1, 10.2)...)
	res, _ = metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase})
	for i, p := range res.Points {
		if p.PointType != metrics.CommonCause {
			t.Errorf("six-point runs: point %d = %s", i+1, p.PointType)
		}
	}
}

func TestXmRFixRebaseAssurance(t *testing.T) {
	base := alternate(12, 9, 11)
	y := append(append([]float64{}, base...), alternate(8, 19, 21)...)
	res, err := metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase, FixAfter: 12})
	if err != nil {
		t.Fatal(err)
	}
	if p := res.Points[19]; p.Mean != 10 || p.UPL != 10+2.66*2 {
		t.Errorf("fixed: mean %v upl %v, want 10 and %v", p.Mean, p.UPL, 10+2.66*2)
	}
	if res.Points[19].PointType != metrics.SpecialCauseImprovement {
		t.Errorf("shifted point = %s", res.Points[19].PointType)
	}
	res, _ = metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase, Rebase: []int{12}})
	if a, b := res.Points[0].Mean, res.Points[19].Mean; a != 10 || b != 20 {
		t.Errorf("rebased means %v and %v, want 10 and 20", a, b)
	}
	if res.Points[19].PointType != metrics.CommonCause {
		t.Errorf("after rebasing the last point is %s", res.Points[19].PointType)
	}
	cases := []struct {
		imp    metrics.Improvement
		target float64
		want   string
	}{
		{metrics.Increase, 30, metrics.AssuranceConsistentFail},
		{metrics.Increase, 10, metrics.AssuranceConsistentPass},
		{metrics.Increase, 20, metrics.AssuranceInconsistent},
		{metrics.Decrease, 30, metrics.AssuranceConsistentPass},
		{metrics.Decrease, 10, metrics.AssuranceConsistentFail},
		{metrics.Neutral, 30, ""},
	}
	for _, c := range cases {
		res, _ := metrics.XmR(y, metrics.SPCOptions{Improvement: c.imp, Rebase: []int{12}, Target: c.target, HasTarget: true})
		if res.Assurance != c.want {
			t.Errorf("improvement %v target %v: assurance %q, want %q", c.imp, c.target, res.Assurance, c.want)
		}
	}
	if _, err := metrics.XmR(y, metrics.SPCOptions{Rebase: []int{19}}); err == nil {
		t.Error("a one-point segment should be an error")
	}
}

func TestXmRConstantSeries(t *testing.T) {
	res, err := metrics.XmR([]float64{4, 4, 4, 4, 4, 4, 4, 4}, metrics.SPCOptions{Improvement: metrics.Increase})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Points {
		if p.LPL != 4 || p.UPL != 4 || p.PointType != metrics.CommonCause {
			t.Fatalf("constant series point %+v", p)
		}
	}
}
