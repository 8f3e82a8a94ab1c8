package metrics_test

import (
	"context"
	"fmt"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/metrics"
)

func ExampleWilson() {
	lo, hi, _ := metrics.Wilson(65, 100, 0.95)
	fmt.Printf("65/100: %.4f to %.4f\n", lo, hi)
	// Output: 65/100: 0.5525 to 0.7364
}

func ExampleRate() {
	// 5 events in 100 person-years, per 100: exact interval below 10 events.
	r, _ := metrics.Rate(5, 100, 100, 0.95)
	fmt.Printf("%.1f (%.2f to %.2f) per 100\n", r.Value, r.Lower, r.Upper)
	// Output: 5.0 (1.62 to 11.67) per 100
}

func ExampleCompareProportion() {
	label, _ := metrics.CompareProportion(90, 100, 0.75, metrics.HigherIsBetter)
	fmt.Println(label)
	// Output: significantly better
}

func ExampleFunnelSignificance() {
	target := 0.5 // usually metrics.FunnelAverage(numerators, denominators)
	label, _ := metrics.FunnelSignificance(metrics.StatProportion, 62, 100, target)
	upper, _ := metrics.FunnelLimit(metrics.StatProportion, target, 100, 0.95, metrics.Upper)
	fmt.Printf("%s (95%% upper limit %.3f)\n", label, upper)
	// Output: High (0.025) (95% upper limit 0.598)
}

func ExampleSII() {
	// Life expectancy by deprivation decile, most deprived first.
	values := []float64{75.9, 78.3, 83.8, 83.6, 80.9, 82.8, 81.9, 84.3, 85.0, 84.9}
	pops := []float64{7291, 7997, 6105, 7666, 5790, 6934, 5918, 5974, 7147, 7534}
	lowers, uppers := make([]float64, 10), make([]float64, 10)
	for i, v := range values {
		lowers[i], uppers[i] = v-3, v+3
	}
	r, _ := metrics.SII(context.Background(), values, pops, lowers, uppers, metrics.SIIOptions{Reps: 10000, Seed: 1})
	fmt.Printf("SII %.2f years, RII %.3f\n", r.SII, r.RII)
	// Output: SII 8.22 years, RII 1.105
}

func ExampleXmR() {
	y := []float64{9, 11, 9, 11, 9, 30, 9, 11, 9, 11, 9, 11, 9, 11, -10, 11, 9, 11, 9, 11}
	res, _ := metrics.XmR(y, metrics.SPCOptions{Improvement: metrics.Increase})
	p := res.Points[5]
	fmt.Printf("point 6: %s (mean %.0f, limits %.2f to %.2f)\n", p.PointType, p.Mean, p.LPL, p.UPL)
	fmt.Printf("point 15: %s; icon %s\n", res.Points[14].PointType, res.VariationIcon)
	// Output:
	// point 6: special_cause_improvement (mean 10, limits 4.68 to 15.32)
	// point 15: special_cause_concern; icon common_cause
}

func ExamplePHEQuantiles() {
	q, _ := metrics.PHEQuantiles([]float64{12, 40, 7, 33, 25, 18, 29, 3, 50, 21}, 5, true)
	fmt.Println(q)
	// Output: [4 1 5 2 3 4 2 5 1 3]
}

func ExampleQOFPoints() {
	d, _ := metrics.QOFAchievement(117, 180) // denominator already net of PCAs
	pts, _ := metrics.QOFPoints(d, 40, 90, 20)
	fmt.Printf("achievement %.1f%%, %.1f of 20 points\n", d, pts)
	// Output: achievement 65.0%, 10.0 of 20 points
}

func ExampleOpportunity() {
	peers := []float64{0.71, 0.64, 0.80, 0.77, 0.69, 0.75, 0.82, 0.60, 0.73, 0.79}
	bench, opp, _ := metrics.Opportunity(0.66, peers, 850, 5, metrics.HigherIsBetter)
	fmt.Printf("best-5 peer mean %.3f: %.0f more patients\n", bench, opp)
	// Output: best-5 peer mean 0.786: 107 more patients
}

// The same methods as SQL functions, on any connection duck.Open returns.
func Example_sql() {
	ctx := context.Background()
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	defer db.Close()
	var lo, hi float64
	var label string
	err = db.QueryRowContext(ctx, `SELECT wilson_lower(65, 100), wilson_upper(65, 100, 99.8),
		funnel_significance(65, 100, 0.5)`).Scan(&lo, &hi, &label)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("%.4f %.4f %s\n", lo, hi, label)
	// Output: 0.5525 0.7784 High (0.025)
}
