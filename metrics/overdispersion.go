package metrics

import (
	"fmt"
	"math"
	"slices"
)

// Overdispersion holds Spiegelhalter's (2005) overdispersion estimates for a
// set of units compared with one target.
type Overdispersion struct {
	// N is the number of units used.
	N int
	// Phi is the multiplicative factor Σz²/N from z-scores winsorised at the
	// 10th and 90th percentiles. Limits widen by √φ only when φ > 1.
	Phi float64
	// Tau2 is the additive random-effects variance (DerSimonian–Laird),
	// max(0, (Nφ − (N−1)) / (Σw − Σw²/Σw)) with w = 1/s².
	Tau2 float64
	// Z are the raw z-scores (y − target)/s, in input order.
	Z []float64
}

// Quantile7 returns the p quantile of sorted values with R's default
// (type 7) linear interpolation.
func Quantile7(sorted []float64, p float64) float64 {
	n := len(sorted)
	if n == 0 {
		return math.NaN()
	}
	h := float64(n-1) * p
	lo := math.Floor(h)
	i := int(lo)
	if i+1 >= n {
		return sorted[n-1]
	}
	return sorted[i] + (h-lo)*(sorted[i+1]-sorted[i])
}

// EstimateOverdispersion computes z-scores zᵢ = (yᵢ − target)/sᵢ, winsorises
// them at the 10th and 90th percentiles and returns φ and τ². y are the
// unit estimates (proportions, ratios or rates) and s their standard errors
// under the null (for a proportion √(target(1−target)/n), for a ratio
// O/E 1/√E). Units with a NaN or non-positive s are errors.
func EstimateOverdispersion(y, s []float64, target float64) (Overdispersion, error) {
	if len(y) != len(s) {
		return Overdispersion{}, invalid("overdispersion: %d estimates for %d standard errors", len(y), len(s))
	}
	if len(y) < 2 {
		return Overdispersion{}, invalid("overdispersion: need at least 2 units, got %d", len(y))
	}
	z := make([]float64, len(y))
	var sw, sw2 float64
	for i := range y {
		if math.IsNaN(y[i]) || !(s[i] > 0) || math.IsInf(s[i], 0) {
			return Overdispersion{}, invalid("overdispersion: unit %d has estimate %v, standard error %v", i, y[i], s[i])
		}
		z[i] = (y[i] - target) / s[i]
		w := 1 / (s[i] * s[i])
		sw += w
		sw2 += w * w
	}
	sorted := slices.Clone(z)
	slices.Sort(sorted)
	q10, q90 := Quantile7(sorted, 0.1), Quantile7(sorted, 0.9)
	var ss float64
	for _, v := range z {
		v = math.Min(math.Max(v, q10), q90)
		ss += v * v
	}
	n := float64(len(z))
	phi := ss / n
	tau2 := (n*phi - (n - 1)) / (sw - sw2/sw)
	if tau2 < 0 || math.IsNaN(tau2) {
		tau2 = 0
	}
	return Overdispersion{N: len(z), Phi: phi, Tau2: tau2, Z: z}, nil
}

// ProportionSE returns √(p(1−p)/n), the null standard error of a proportion.
func ProportionSE(p, n float64) float64 { return math.Sqrt(p * (1 - p) / n) }

// ProportionOverdispersion estimates overdispersion of proportions x/n around
// their overall average (or target, if not NaN).
func ProportionOverdispersion(x, n []float64, target float64) (Overdispersion, float64, error) {
	return FunnelOverdispersion(StatProportion, x, n, target)
}

// Adjustment selects how overdispersion widens funnel limits.
type Adjustment int

// Adjustments.
const (
	NoAdjustment Adjustment = iota
	Multiplicative
	Additive
)

// AdjustedLimit returns target ± z(c)·s', with s' = s·√max(φ,1)
// (multiplicative) or √(s² + τ²) (additive).
func (o Overdispersion) AdjustedLimit(target, s, confidence float64, side Side, a Adjustment) (float64, error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return 0, err
	}
	d := Z(c) * o.adjustSE(s, a)
	if side == Lower {
		return target - d, nil
	}
	return target + d, nil
}

func (o Overdispersion) adjustSE(s float64, a Adjustment) float64 {
	switch a {
	case Multiplicative:
		return s * math.Sqrt(math.Max(o.Phi, 1))
	case Additive:
		return math.Sqrt(s*s + o.Tau2)
	}
	return s
}

// AdjustedSignificance labels an estimate y (standard error s) against the
// overdispersion-adjusted limits, with the funnel vocabulary.
func (o Overdispersion) AdjustedSignificance(y, s, target float64, a Adjustment) string {
	se := o.adjustSE(s, a)
	z3, z2 := Z(0.998), Z(0.95)
	return labelFromLimits(y, target-z3*se, target-z2*se, target+z3*se, target+z2*se)
}

// NullSE returns the standard error of a unit's estimate under the funnel's
// null hypothesis: for a proportion √(target(1−target)/n), for a ratio O/E
// 1/√E (n the expected count, target 1), for a rate √(target/n).
func NullSE(stat Statistic, target, n float64) float64 {
	switch stat {
	case StatRatio, StatRate:
		return math.Sqrt(target / n)
	}
	return ProportionSE(target, n)
}

// FunnelOverdispersion estimates overdispersion for units x/n around target
// (NaN: Σx/Σn for proportions and rates, 1 for ratios) and returns it with
// the target used.
func FunnelOverdispersion(stat Statistic, x, n []float64, target float64) (Overdispersion, float64, error) {
	if len(x) != len(n) {
		return Overdispersion{}, 0, invalid("overdispersion: %d numerators for %d denominators", len(x), len(n))
	}
	if math.IsNaN(target) {
		if stat == StatRatio {
			target = 1
		} else {
			var err error
			if target, err = FunnelAverage(x, n); err != nil {
				return Overdispersion{}, 0, err
			}
		}
	}
	if !(target > 0) || (stat == StatProportion && target >= 1) {
		return Overdispersion{}, 0, invalid("overdispersion: target %v out of range", target)
	}
	y := make([]float64, len(x))
	s := make([]float64, len(x))
	for i := range x {
		if !(n[i] > 0) || !(x[i] >= 0) {
			return Overdispersion{}, 0, invalid("overdispersion: unit %d has numerator %v, denominator %v", i+1, x[i], n[i])
		}
		if stat == StatProportion && x[i] > n[i] {
			return Overdispersion{}, 0, invalid("overdispersion: unit %d numerator %v exceeds denominator %v", i+1, x[i], n[i])
		}
		y[i] = x[i] / n[i]
		s[i] = NullSE(stat, target, n[i])
	}
	od, err := EstimateOverdispersion(y, s, target)
	return od, target, err
}

// ParseAdjustment accepts "additive" (or "random_effects"), "multiplicative"
// or "none".
func ParseAdjustment(s string) (Adjustment, error) {
	switch s {
	case "additive", "random_effects", "":
		return Additive, nil
	case "multiplicative", "phi":
		return Multiplicative, nil
	case "none":
		return NoAdjustment, nil
	}
	return 0, invalid("adjustment %q: want additive, multiplicative or none", s)
}

// FunnelRow is one unit of a funnel plot.
type FunnelRow struct {
	X, N, Value        float64
	Lower95, Upper95   float64
	Lower998, Upper998 float64
	Label              string
	// Adjusted* use the overdispersion adjustment chosen for the table.
	AdjLower998, AdjUpper998 float64
	AdjLabel                 string
}

// FunnelTable is everything a pack needs to draw and label one funnel.
type FunnelTable struct {
	Statistic  Statistic
	Target     float64
	Adjustment Adjustment
	Overdispersion
	Rows []FunnelRow
}

// BuildFunnel computes a funnel for units x/n (target NaN: Σx/Σn, or 1 for
// ratios): exact limits and labels at each unit's denominator, and limits and
// labels adjusted for overdispersion by adj (on the normal approximation).
// Overdispersion needs at least 2 units.
func BuildFunnel(stat Statistic, x, n []float64, target float64, adj Adjustment) (FunnelTable, error) {
	od, target, err := FunnelOverdispersion(stat, x, n, target)
	if err != nil {
		return FunnelTable{}, err
	}
	ft := FunnelTable{Statistic: stat, Target: target, Adjustment: adj, Overdispersion: od, Rows: make([]FunnelRow, len(x))}
	for i := range x {
		r := FunnelRow{X: x[i], N: n[i], Value: x[i] / n[i]}
		lim := func(c float64, s Side) float64 {
			v, e := FunnelLimit(stat, target, n[i], c, s)
			if e != nil && err == nil {
				err = e
			}
			return v
		}
		r.Lower95, r.Upper95 = lim(0.95, Lower), lim(0.95, Upper)
		r.Lower998, r.Upper998 = lim(0.998, Lower), lim(0.998, Upper)
		if err != nil {
			return FunnelTable{}, fmt.Errorf("funnel unit %d: %w", i+1, err)
		}
		if r.Label, err = FunnelSignificance(stat, x[i], n[i], target); err != nil {
			return FunnelTable{}, fmt.Errorf("funnel unit %d: %w", i+1, err)
		}
		s := NullSE(stat, target, n[i])
		r.AdjLower998, _ = od.AdjustedLimit(target, s, 0.998, Lower, adj)
		r.AdjUpper998, _ = od.AdjustedLimit(target, s, 0.998, Upper, adj)
		r.AdjLower998 = math.Max(0, r.AdjLower998)
		if stat == StatProportion {
			r.AdjUpper998 = math.Min(1, r.AdjUpper998)
		}
		r.AdjLabel = od.AdjustedSignificance(r.Value, s, target, adj)
		ft.Rows[i] = r
	}
	return ft, nil
}
