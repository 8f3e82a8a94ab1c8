package metrics

import (
	"math"
	"strings"
)

// Point types, as NHSRplotthedots names them.
const (
	CommonCause             = "common_cause"
	SpecialCauseImprovement = "special_cause_improvement"
	SpecialCauseConcern     = "special_cause_concern"
	SpecialCauseNeutralHigh = "special_cause_neutral_high"
	SpecialCauseNeutralLow  = "special_cause_neutral_low"
)

// Assurance types (empty when there is no target or the measure is neutral).
const (
	AssuranceConsistentPass = "consistent_pass"
	AssuranceConsistentFail = "consistent_fail"
	AssuranceInconsistent   = "inconsistent"
)

// Improvement direction of an SPC measure.
type Improvement int

// Directions (Making Data Count: 1 increase, −1 decrease, 0 neutral).
const (
	Neutral  Improvement = 0
	Increase Improvement = 1
	Decrease Improvement = -1
)

// ParseImprovement accepts "increase", "decrease" or "neutral" (or "").
func ParseImprovement(s string) (Improvement, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "increase", "higher_is_better", "up":
		return Increase, nil
	case "decrease", "lower_is_better", "down":
		return Decrease, nil
	case "", "neutral", "no_judgement":
		return Neutral, nil
	}
	return 0, invalid("improvement direction %q: want increase, decrease or neutral", s)
}

// SPCOptions configure an XmR chart.
type SPCOptions struct {
	Improvement Improvement
	// NoScreen turns off screening of moving ranges (on by default, as ptd).
	NoScreen bool
	// FixAfter fixes mean and limits on the first FixAfter points of each
	// segment (0: use all points; otherwise at least 12).
	FixAfter int
	// Rebase lists indices where a new segment (recalculation) starts.
	Rebase []int
	// Target, if HasTarget, is compared with the last limits for assurance.
	Target    float64
	HasTarget bool
}

// SPCPoint is one point of an XmR chart.
type SPCPoint struct {
	Value                    float64
	Mean, LPL, UPL           float64
	NearLPL, NearUPL         float64
	PointType                string
	RelativeToMean           int
	OutsideLimits, NearLimit bool
}

// SPCResult is a whole XmR chart.
type SPCResult struct {
	Points []SPCPoint
	// VariationIcon summarises the last point: common_cause, improvement_high,
	// improvement_low, concern_high, concern_low, neutral_high or neutral_low.
	VariationIcon string
	// Assurance is consistent_pass, consistent_fail, inconsistent or "".
	Assurance string
}

const (
	spcLimit      = 2.66
	spcNear       = 2 * spcLimit / 3
	spcScreenMult = 3.267
)

// XmR computes an XmR chart with NHSRplotthedots' rules: mean of the points
// (or of the first FixAfter), average moving range screened once for ranges
// ≥ 3.267·AMR, limits mean ± 2.66·AMR, near limits at two thirds of that, and
// special causes (outside limits; a 7-point trend; two of three beyond a near
// limit on one side; 7 on one side of the mean). Values must be finite and
// each segment needs at least 2 points.
func XmR(values []float64, o SPCOptions) (SPCResult, error) {
	if len(values) == 0 {
		return SPCResult{}, invalid("spc: no values")
	}
	if o.FixAfter != 0 && o.FixAfter < 12 {
		return SPCResult{}, invalid("spc: fix_after %d, must be at least 12", o.FixAfter)
	}
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return SPCResult{}, invalid("spc: value %d is %v", i+1, v)
		}
	}
	starts := []int{0}
	for _, r := range o.Rebase {
		if r <= 0 || r >= len(values) {
			if r == 0 {
				continue
			}
			return SPCResult{}, invalid("spc: rebase at %d outside 1..%d", r, len(values)-1)
		}
		if r > starts[len(starts)-1] {
			starts = append(starts, r)
		}
	}
	res := SPCResult{Points: make([]SPCPoint, len(values))}
	for s, start := range starts {
		end := len(values)
		if s+1 < len(starts) {
			end = starts[s+1]
		}
		if end-start < 2 {
			return SPCResult{}, invalid("spc: segment starting at %d has %d point(s), need 2", start+1, end-start)
		}
		xmrSegment(values[start:end], o, res.Points[start:end])
	}
	last := res.Points[len(res.Points)-1]
	res.VariationIcon = variationIcon(last.PointType, o.Improvement)
	if o.HasTarget && o.Improvement != Neutral {
		res.Assurance = assurance(o.Target, last, o.Improvement)
	}
	return res, nil
}

// assurance compares a target with the last limits: a target beyond them
// will consistently be met or missed, depending on the direction.
func assurance(target float64, last SPCPoint, imp Improvement) string {
	switch {
	case target > last.UPL && imp == Increase, target < last.LPL && imp == Decrease:
		return AssuranceConsistentFail
	case target > last.UPL, target < last.LPL:
		return AssuranceConsistentPass
	}
	return AssuranceInconsistent
}

func variationIcon(pt string, imp Improvement) string {
	switch pt {
	case SpecialCauseImprovement:
		if imp == Decrease {
			return "improvement_low"
		}
		return "improvement_high"
	case SpecialCauseConcern:
		if imp == Decrease {
			return "concern_high"
		}
		return "concern_low"
	case SpecialCauseNeutralHigh:
		return "neutral_high"
	case SpecialCauseNeutralLow:
		return "neutral_low"
	}
	return "common_cause"
}

func xmrSegment(y []float64, o SPCOptions, out []SPCPoint) {
	n := len(y)
	fix := n
	if o.FixAfter > 0 && o.FixAfter < n {
		fix = o.FixAfter
	}
	var sum float64
	for _, v := range y[:fix] {
		sum += v
	}
	mean := sum / float64(fix)
	mr := make([]float64, 0, fix-1)
	var mrSum float64
	for i := 1; i < fix; i++ {
		d := math.Abs(y[i] - y[i-1])
		mr = append(mr, d)
		mrSum += d
	}
	amr := mrSum / float64(len(mr))
	if !o.NoScreen {
		ul := spcScreenMult * amr
		var s float64
		var c int
		for _, d := range mr {
			if d < ul {
				s += d
				c++
			}
		}
		// Every range is screened out only when all are 0 (a constant
		// series); ptd then gives NaN limits, here they sit on the mean.
		if c > 0 {
			amr = s / float64(c)
		}
	}
	lpl, upl := mean-spcLimit*amr, mean+spcLimit*amr
	nlpl, nupl := mean-spcNear*amr, mean+spcNear*amr
	rtm := make([]float64, n)
	close := make([]float64, n)
	outside := make([]bool, n)
	for i, v := range y {
		outside[i] = v > upl || v < lpl
		rtm[i] = sign(v - mean)
		if !outside[i] && (v < nlpl || v > nupl) {
			close[i] = 1
		}
	}
	sideRun := partOfSevenTrend(sevenPointOneSideMean(rtm))
	trend := partOfSevenTrend(sevenPointTrend(y))
	twoThree := partOfTwoInThree(twoInThree(close, rtm), close)
	for i, v := range y {
		p := SPCPoint{Value: v, Mean: mean, LPL: lpl, UPL: upl, NearLPL: nlpl, NearUPL: nupl,
			RelativeToMean: int(rtm[i]), OutsideLimits: outside[i], NearLimit: close[i] == 1}
		special := outside[i] || math.Abs(sideRun[i]) == 1 || math.Abs(trend[i]) == 1 || twoThree[i] == 1
		switch {
		case !special:
			p.PointType = CommonCause
		case o.Improvement == Neutral:
			// ptd tests relative_to_mean for truth, so a point on the mean
			// (0) reads low; below it (−1) reads high there, which we treat as
			// an upstream slip: below the mean is low here.
			if rtm[i] > 0 {
				p.PointType = SpecialCauseNeutralHigh
			} else {
				p.PointType = SpecialCauseNeutralLow
			}
		case int(rtm[i]) == int(o.Improvement):
			p.PointType = SpecialCauseImprovement
		default:
			p.PointType = SpecialCauseConcern
		}
		out[i] = p
	}
}

func sign(x float64) float64 {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return 0
}

// sevenPointOneSideMean marks (1) the 7th and later points of a run on one
// side of the mean.
func sevenPointOneSideMean(v []float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		if i < 6 || v[i] == 0 {
			continue
		}
		all := true
		for j := 1; j <= 6; j++ {
			if v[i-j] != v[i] {
				all = false
				break
			}
		}
		if all {
			out[i] = 1
		}
	}
	return out
}

// partOfSevenTrend marks a point when it or one of the next 6 ends a run
// (marker 1 or −1, so falling trends count as rising ones do).
func partOfSevenTrend(v []float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		for j := i; j < len(v) && j <= i+6; j++ {
			if math.Abs(v[j]) == 1 {
				out[i] = 1
				break
			}
		}
	}
	return out
}

// sevenPointTrend marks the 7th point of 7 strictly rising (1) or falling
// (−1) points.
func sevenPointTrend(y []float64) []float64 {
	out := make([]float64, len(y))
	for i := 6; i < len(y); i++ {
		up, down := true, true
		for j := i - 5; j <= i; j++ {
			d := y[j] - y[j-1]
			if !(d > 0) {
				up = false
			}
			if !(d < 0) {
				down = false
			}
		}
		switch {
		case up:
			out[i] = 1
		case down:
			out[i] = -1
		}
	}
	return out
}

// twoInThree marks points in a window of three with at least two close to
// the limits and all three on the same side of the mean.
func twoInThree(close, rtm []float64) []float64 {
	n := len(close)
	vp := make([]float64, n+4)
	rp := make([]float64, n+4)
	copy(vp[2:], close)
	copy(rp[2:], rtm)
	out := make([]float64, n)
	win := func(s int) bool {
		return vp[s]+vp[s+1]+vp[s+2] >= 2 && math.Abs(rp[s]+rp[s+1]+rp[s+2]) == 3
	}
	for i := range n {
		if win(i) || win(i+1) || win(i+2) {
			out[i] = 1
		}
	}
	return out
}

// partOfTwoInThree keeps only the marked points that are themselves close.
func partOfTwoInThree(v, close []float64) []float64 {
	out := make([]float64, len(v))
	for i := range v {
		if v[i] == 1 && math.Abs(close[i]) == 1 {
			out[i] = 1
		}
	}
	return out
}
