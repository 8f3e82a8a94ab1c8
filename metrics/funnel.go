package metrics

import (
	"math"
	"strings"
)

// Funnel significance labels (PHEindicatormethods' vocabulary), checked in
// this order.
const (
	FunnelLow001         = "Low (0.001)"
	FunnelLow025         = "Low (0.025)"
	FunnelHigh001        = "High (0.001)"
	FunnelHigh025        = "High (0.025)"
	FunnelNotSignificant = "Not significant"
)

// Statistic is what a funnel plots.
type Statistic int

// Funnel statistics.
const (
	// StatProportion: x events of n, target a proportion (0–1).
	StatProportion Statistic = iota
	// StatRatio: x observed, n expected, target a ratio (usually 1).
	StatRatio
	// StatRate: x events, n person-years (or patients), target a rate per unit of n.
	StatRate
)

// ParseStatistic accepts "proportion", "ratio" or "rate".
func ParseStatistic(s string) (Statistic, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "proportion", "prop":
		return StatProportion, nil
	case "ratio", "isr", "smr":
		return StatRatio, nil
	case "rate":
		return StatRate, nil
	}
	return 0, invalid("statistic %q: want proportion, ratio or rate", s)
}

// Side of a funnel limit.
type Side int

// Sides.
const (
	Lower Side = iota
	Upper
)

// ParseSide accepts "lower"/"low" or "upper"/"high".
func ParseSide(s string) (Side, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "lower", "low":
		return Lower, nil
	case "upper", "high":
		return Upper, nil
	}
	return 0, invalid("side %q: want lower or upper", s)
}

// FunnelAverage returns the overall average Σx/Σn, the usual funnel target.
func FunnelAverage(x, n []float64) (float64, error) {
	if len(x) != len(n) || len(x) == 0 {
		return 0, invalid("funnel average: %d numerators for %d denominators", len(x), len(n))
	}
	var sx, sn float64
	for i := range x {
		if math.IsNaN(x[i]) || math.IsNaN(n[i]) {
			continue
		}
		sx += x[i]
		sn += n[i]
	}
	if sn <= 0 {
		return 0, invalid("funnel average: total denominator %v", sn)
	}
	return sx / sn, nil
}

// FunnelLimit returns the funnel limit at denominator n (for ratios, the
// expected count) around target, for a confidence level and side.
//
//   - proportion: the p whose Wilson interval just reaches the target,
//     which is target ± z·√(target(1−target)/n), clamped to [0, 1] (as PHE);
//   - ratio: the ratio O/n at which the exact Poisson interval of a
//     (continuous) count O just reaches target·n; the lower limit is 0 where
//     no count is low enough;
//   - rate: the ratio limit at expected count target·n, times target.
func FunnelLimit(stat Statistic, target, n, confidence float64, side Side) (float64, error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return 0, err
	}
	return funnelLimit(stat, target, n, c, Z(c), side)
}

// funnelLimit is FunnelLimit with the confidence c already normalised and z = Z(c).
func funnelLimit(stat Statistic, target, n, c, z float64, side Side) (float64, error) {
	if math.IsNaN(n) || n <= 0 || math.IsInf(n, 0) {
		return 0, invalid("funnel limit: denominator %v must be positive", n)
	}
	if math.IsNaN(target) || target < 0 || math.IsInf(target, 0) {
		return 0, invalid("funnel limit: target %v must be non-negative", target)
	}
	switch stat {
	case StatProportion:
		if target > 1 {
			return 0, invalid("funnel limit: proportion target %v is above 1", target)
		}
		d := z * math.Sqrt(target*(1-target)/n)
		if side == Lower {
			return max0(target - d), nil
		}
		return min1(target + d), nil
	case StatRatio, StatRate:
		e := target * n
		if !(e > 0) || e > 1e12 {
			return 0, invalid("funnel limit: expected count %v must be positive and at most 1e12", e)
		}
		if stat == StatRatio {
			return ratioLimit(e, c, side) / n, nil
		}
		return ratioLimit(e, c, side) / e * target, nil
	}
	return 0, invalid("funnel limit: unknown statistic %d", stat)
}

// ratioLimit returns the continuous count O whose exact interval just
// reaches e: for the lower limit, upper(O) = e, i.e. P(O+1, e) = 1 − α/2; for
// the upper, lower(O) = e, i.e. P(O, e) = α/2. P(a, e) falls as a grows.
func ratioLimit(e, c float64, side Side) float64 {
	alpha := 1 - c
	var f func(o float64) float64
	if side == Lower {
		p := 1 - alpha/2
		if GammaP(1, e) <= p {
			return 0
		}
		f = func(o float64) float64 { return GammaP(o+1, e) - p }
	} else {
		p := alpha / 2
		f = func(o float64) float64 { return GammaP(o, e) - p }
	}
	lo, hi := 1e-12, math.Max(2*e, 10)
	for f(hi) > 0 && hi < 1e300 {
		hi *= 2
	}
	if f(lo) <= 0 {
		return lo
	}
	for range 200 {
		mid := (lo + hi) / 2
		if f(mid) > 0 {
			lo = mid
		} else {
			hi = mid
		}
		if hi-lo <= 1e-14*hi {
			break
		}
	}
	return (lo + hi) / 2
}

// RatioFunnelPoint returns the expected count E at which an observed count O
// lies on the funnel limit (PHE's ratio limits are tabulated this way):
// for the lower limit E = upper(O), for the upper limit E = lower(O), using
// the exact Poisson interval.
func RatioFunnelPoint(observed, confidence float64, side Side) (float64, error) {
	lo, hi, err := ExactPoisson(observed, confidence)
	if err != nil {
		return 0, err
	}
	if side == Lower {
		return hi, nil
	}
	return lo, nil
}

// z(0.95) and z(0.998), the two standard levels.
const (
	z95  = 1.959963984540054
	z998 = 3.090232306167813
)

// FunnelSignificance labels a point against the funnel around target at
// 99.8% and 95%: Low (0.001), Low (0.025), High (0.001), High (0.025) or Not
// significant, checked in that order.
//
//   - proportion: x/n against the limits at n (PHE's rule);
//   - ratio: the count interval of x (exact below 10, Byar's otherwise)
//     divided by the expected count n, against target;
//   - rate: as ratio with expected count target·n.
func FunnelSignificance(stat Statistic, x, n, target float64) (string, error) {
	if err := checkCount("numerator", x); err != nil {
		return "", err
	}
	if math.IsNaN(n) || n <= 0 || math.IsInf(n, 0) {
		return "", invalid("funnel significance: denominator %v must be positive", n)
	}
	if math.IsNaN(target) || target < 0 || math.IsInf(target, 0) {
		return "", invalid("funnel significance: target %v must be non-negative", target)
	}
	switch stat {
	case StatProportion:
		if x > n {
			return "", invalid("funnel significance: numerator %v exceeds denominator %v", x, n)
		}
		if target > 1 {
			return "", invalid("funnel significance: proportion target %v is above 1", target)
		}
		p := x / n
		se := math.Sqrt(target * (1 - target) / n)
		l3, l2 := max0(target-z998*se), max0(target-z95*se)
		u3, u2 := min1(target+z998*se), min1(target+z95*se)
		return labelFromLimits(p, l3, l2, u3, u2), nil
	case StatRatio, StatRate:
		e, t := n, target
		if stat == StatRate {
			e, t = target*n, 1
			if e <= 0 {
				return "", invalid("funnel significance: rate target must be positive")
			}
		}
		var lo3, hi3, lo2, hi2 float64
		if x < 10 {
			lo3, hi3 = exactPoisson(x, 0.998)
			lo2, hi2 = exactPoisson(x, 0.95)
		} else {
			lo3, hi3 = byarsZ(x, z998)
			lo2, hi2 = byarsZ(x, z95)
		}
		switch {
		case hi3/e < t:
			return FunnelLow001, nil
		case hi2/e < t:
			return FunnelLow025, nil
		case !math.IsNaN(lo3) && lo3/e > t:
			return FunnelHigh001, nil
		case !math.IsNaN(lo2) && lo2/e > t:
			return FunnelHigh025, nil
		}
		return FunnelNotSignificant, nil
	}
	return "", invalid("funnel significance: unknown statistic %d", stat)
}

func labelFromLimits(v, l3, l2, u3, u2 float64) string {
	switch {
	case v < l3:
		return FunnelLow001
	case v < l2:
		return FunnelLow025
	case v > u3:
		return FunnelHigh001
	case v > u2:
		return FunnelHigh025
	}
	return FunnelNotSignificant
}

// FunnelPoint is one point of a funnel curve.
type FunnelPoint struct {
	N                  float64
	Lower95, Upper95   float64
	Lower998, Upper998 float64
}

// FunnelCurve returns limits at points spaced evenly on a log scale from
// nMin to nMax, so plots draw smooth curves across the denominators present.
func FunnelCurve(stat Statistic, target, nMin, nMax float64, points int) ([]FunnelPoint, error) {
	if !(nMin > 0) || !(nMax >= nMin) || points < 2 {
		return nil, invalid("funnel curve: need 0 < nMin <= nMax and at least 2 points (got %v, %v, %d)", nMin, nMax, points)
	}
	out := make([]FunnelPoint, points)
	step := math.Log(nMax/nMin) / float64(points-1)
	for i := range out {
		n := nMin * math.Exp(step*float64(i))
		p := FunnelPoint{N: n}
		var err error
		if p.Lower95, err = FunnelLimit(stat, target, n, 0.95, Lower); err != nil {
			return nil, err
		}
		p.Upper95, _ = FunnelLimit(stat, target, n, 0.95, Upper)
		p.Lower998, _ = FunnelLimit(stat, target, n, 0.998, Lower)
		p.Upper998, _ = FunnelLimit(stat, target, n, 0.998, Upper)
		out[i] = p
	}
	return out, nil
}
