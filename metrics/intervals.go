package metrics

import (
	"errors"
	"fmt"
	"math"
	"sync"
)

// Missing values are NaN throughout the Go API (SQL NULL in the SQL surface).

// ErrInvalid is wrapped by every input-validation error, so callers can test
// errors.Is(err, metrics.ErrInvalid).
var ErrInvalid = errors.New("invalid input")

func invalid(format string, a ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, a...))
}

// Interval is an estimate with confidence limits; a NaN limit is missing.
type Interval struct {
	Value, Lower, Upper float64
}

// NormConfidence accepts a confidence level as a fraction (0.95) or a
// percentage (95) and returns the fraction. Levels outside (0, 1] (or
// (0, 100]) are errors.
func NormConfidence(c float64) (float64, error) {
	if math.IsNaN(c) || c <= 0 {
		return 0, invalid("confidence %v: want a level such as 0.95 or 95", c)
	}
	if c > 1 {
		if c > 100 {
			return 0, invalid("confidence %v: want a level such as 0.95 or 95", c)
		}
		c /= 100
	}
	return c, nil
}

func checkCount(name string, x float64) error {
	if math.IsNaN(x) || math.IsInf(x, 0) || x < 0 {
		return invalid("%s %v: must be a non-negative number", name, x)
	}
	return nil
}

// WilsonLower returns the lower Wilson score limit of the proportion x/n (0–1).
func WilsonLower(x, n, confidence float64) (float64, error) {
	lo, _, err := Wilson(x, n, confidence)
	return lo, err
}

// WilsonUpper returns the upper Wilson score limit of the proportion x/n (0–1).
func WilsonUpper(x, n, confidence float64) (float64, error) {
	_, hi, err := Wilson(x, n, confidence)
	return hi, err
}

// Wilson returns the Wilson score interval of the proportion x/n:
// (2x + z² ∓ z√(z² + 4x(1 − x/n))) / (2(n + z²)). At confidence 1 it is [0, 1].
func Wilson(x, n, confidence float64) (lower, upper float64, err error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return 0, 0, err
	}
	if err := checkCount("numerator", x); err != nil {
		return 0, 0, err
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 {
		return 0, 0, invalid("denominator %v: must be positive", n)
	}
	if x > n {
		return 0, 0, invalid("numerator %v exceeds denominator %v", x, n)
	}
	if c == 1 {
		return 0, 1, nil
	}
	z := Z(c)
	return wilsonZ(x, n, z)
}

func wilsonZ(x, n, z float64) (float64, float64, error) {
	z2 := z * z
	root := z * math.Sqrt(z2+4*x*(1-x/n))
	den := 2 * (n + z2)
	lo, hi := (2*x+z2-root)/den, (2*x+z2+root)/den
	// At x = 0 and x = n the limits are exactly 0 and 1; rounding must not
	// leave them a hair outside [0, 1] or short of the estimate.
	if x == 0 {
		lo = 0
	}
	if x == n {
		hi = 1
	}
	return max0(lo), min1(hi), nil
}

// max0 and min1 are math.Max(v, 0) and math.Min(v, 1) for every v (NaN and
// −0 included) without the call: the SQL functions run them per row.
func max0(v float64) float64 {
	if v > 0 || v != v {
		return v
	}
	return 0
}

func min1(v float64) float64 {
	if v < 1 || v != v {
		return v
	}
	return 1
}

// Proportion returns x/n × multiplier with its Wilson interval (PHE phe_proportion).
func Proportion(x, n, multiplier, confidence float64) (Interval, error) {
	lo, hi, err := Wilson(x, n, confidence)
	if err != nil {
		return Interval{}, err
	}
	return Interval{Value: x / n * multiplier, Lower: lo * multiplier, Upper: hi * multiplier}, nil
}

// Byars returns Byar's approximate interval for a count x:
// x(1 − 1/(9x) − z/(3√x))³ and (x+1)(1 − 1/(9(x+1)) + z/(3√(x+1)))³.
// A negative (or undefined, x = 0) lower limit is missing (NaN).
func Byars(x, confidence float64) (lower, upper float64, err error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return 0, 0, err
	}
	if err := checkCount("count", x); err != nil {
		return 0, 0, err
	}
	lo, hi := byarsZ(x, Z(c))
	return lo, hi, nil
}

func byarsZ(x, z float64) (float64, float64) {
	return byarsLowerZ(x, z), byarsUpperZ(x, z)
}

func cube(t float64) float64 { return t * t * t }

func byarsLowerZ(x, z float64) float64 {
	if !(x > 0) {
		return math.NaN()
	}
	lo := x * cube(1-1/(9*x)-z/(3*math.Sqrt(x)))
	if lo < 0 {
		return math.NaN()
	}
	return lo
}

func byarsUpperZ(x, z float64) float64 {
	x1 := x + 1
	return x1 * cube(1-1/(9*x1)+z/(3*math.Sqrt(x1)))
}

// ExactPoisson returns the exact (chi-square) interval for a count x:
// χ²((1−c)/2; 2x)/2 and χ²(c+(1−c)/2; 2x+2)/2. It is accurate to about 1e-9
// relative for counts up to ten million (PHE uses it below 10).
func ExactPoisson(x, confidence float64) (lower, upper float64, err error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return 0, 0, err
	}
	if err := checkCount("count", x); err != nil {
		return 0, 0, err
	}
	lo, hi := exactPoisson(x, c)
	return lo, hi, nil
}

func exactPoisson(x, c float64) (float64, float64) {
	if i := int(x); float64(i) == x && i < 10 && (c == 0.95 || c == 0.998) {
		// Counts below 10 at the two standard levels are most of the small
		// counts a funnel or rate sees; a gamma inverse costs ~1 µs.
		t := smallExact()
		if c == 0.95 {
			return t[i][0][0], t[i][0][1]
		}
		return t[i][1][0], t[i][1][1]
	}
	return exactPoissonCalc(x, c)
}

// smallExact holds exactPoissonCalc(x, c) for x = 0..9 at c = 0.95, 0.998.
var smallExact = sync.OnceValue(func() (t [10][2][2]float64) {
	for i := range t {
		for j, c := range []float64{0.95, 0.998} {
			t[i][j][0], t[i][j][1] = exactPoissonCalc(float64(i), c)
		}
	}
	return t
})

func exactPoissonCalc(x, c float64) (float64, float64) {
	a := (1 - c) / 2
	return GammaPInv(x, a), GammaPInv(x+1, 1-a)
}

// PoissonCount returns the count interval as PHE's rates use it: exact below
// 10, Byar's from 10. Exact reports whether the exact method was used.
func PoissonCount(x, confidence float64) (lower, upper float64, exact bool, err error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return 0, 0, false, err
	}
	if err := checkCount("count", x); err != nil {
		return 0, 0, false, err
	}
	lower, upper, exact = poissonCount(x, c)
	return lower, upper, exact, nil
}

func poissonCount(x, c float64) (float64, float64, bool) {
	if x < 10 {
		lo, hi := exactPoisson(x, c)
		return lo, hi, true
	}
	lo, hi := byarsZ(x, Z(c))
	return lo, hi, false
}

// Rate returns x/n × multiplier with PHE's rate interval (exact for x < 10,
// Byar's otherwise). x may exceed n.
func Rate(x, n, multiplier, confidence float64) (Interval, error) {
	lo, hi, _, err := PoissonCount(x, confidence)
	if err != nil {
		return Interval{}, err
	}
	if math.IsNaN(n) || math.IsInf(n, 0) || n <= 0 {
		return Interval{}, invalid("denominator %v: must be positive", n)
	}
	f := multiplier / n
	return Interval{Value: x * f, Lower: lo * f, Upper: hi * f}, nil
}

// MeanResult is a mean with its t-based interval.
type MeanResult struct {
	Sum, Mean, SD float64
	Count         int
	Lower, Upper  float64
}

// Mean returns the mean with limits mean ± |t((1−c)/2; n−1)|·s/√n (PHE phe_mean),
// s the sample standard deviation. NaN values are errors; it needs n ≥ 2.
func Mean(values []float64, confidence float64) (MeanResult, error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return MeanResult{}, err
	}
	n := len(values)
	if n < 2 {
		return MeanResult{}, invalid("mean needs at least 2 values, got %d", n)
	}
	var sum float64
	for i, v := range values {
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return MeanResult{}, invalid("value %d is %v", i, v)
		}
		sum += v
	}
	mean := sum / float64(n)
	var ss float64
	for _, v := range values {
		ss += (v - mean) * (v - mean)
	}
	sd := math.Sqrt(ss / float64(n-1))
	t := math.Abs(StudentTQuantile((1-c)/2, float64(n-1)))
	h := t * sd / math.Sqrt(float64(n))
	return MeanResult{Sum: sum, Mean: mean, SD: sd, Count: n, Lower: mean - h, Upper: mean + h}, nil
}

// DSR returns the directly standardised rate (Dobson method) from counts,
// populations and standard-population weights per band, × multiplier.
// NaN counts count as 0. With a total count below 10 the result is missing
// (all NaN) as PHE reports it.
func DSR(counts, pops, stdpop []float64, multiplier, confidence float64) (Interval, error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return Interval{}, err
	}
	if len(counts) != len(pops) || len(pops) != len(stdpop) || len(counts) == 0 {
		return Interval{}, invalid("dsr: counts, populations and standard populations must have the same non-zero length (%d, %d, %d)", len(counts), len(pops), len(stdpop))
	}
	var o, sw, num, v float64
	for i := range counts {
		x := counts[i]
		if math.IsNaN(x) {
			x = 0
		}
		if x < 0 || math.IsInf(x, 0) {
			return Interval{}, invalid("dsr: count %d is %v", i, x)
		}
		if !(pops[i] > 0) {
			return Interval{}, invalid("dsr: population %d is %v, must be positive", i, pops[i])
		}
		if !(stdpop[i] >= 0) {
			return Interval{}, invalid("dsr: standard population %d is %v", i, stdpop[i])
		}
		o += x
		sw += stdpop[i]
		wn := stdpop[i] / pops[i]
		num += x * wn
		v += x * wn * wn
	}
	if !(sw > 0) {
		return Interval{}, invalid("dsr: standard populations sum to %v", sw)
	}
	nan := math.NaN()
	if o < 10 {
		return Interval{Value: nan, Lower: nan, Upper: nan}, nil
	}
	value := num / sw
	variance := v / (sw * sw)
	bl, bu := byarsZ(o, Z(c))
	s := math.Sqrt(variance / o)
	return Interval{
		Value: value * multiplier,
		Lower: (value + s*(bl-o)) * multiplier,
		Upper: (value + s*(bu-o)) * multiplier,
	}, nil
}

// ISResult is an indirectly standardised ratio or rate.
type ISResult struct {
	Observed, Expected float64
	Interval
}

// expected returns E = Σ refcountᵢ/refpopᵢ × popᵢ (NaN reference counts are 0).
func expectedCount(pops, refCounts, refPops []float64) (float64, error) {
	if len(pops) != len(refCounts) || len(pops) != len(refPops) || len(pops) == 0 {
		return 0, invalid("isr: populations and reference counts/populations must have the same non-zero length (%d, %d, %d)", len(pops), len(refCounts), len(refPops))
	}
	var e float64
	for i := range pops {
		rc := refCounts[i]
		if math.IsNaN(rc) {
			rc = 0
		}
		if !(refPops[i] > 0) {
			return 0, invalid("isr: reference population %d is %v, must be positive", i, refPops[i])
		}
		if !(pops[i] >= 0) || rc < 0 {
			return 0, invalid("isr: band %d has population %v, reference count %v", i, pops[i], rc)
		}
		e += rc / refPops[i] * pops[i]
	}
	if e <= 0 {
		return 0, invalid("isr: expected count is %v, must be positive", e)
	}
	return e, nil
}

func sumNonNaN(v []float64) float64 {
	var s float64
	for _, x := range v {
		if !math.IsNaN(x) {
			s += x
		}
	}
	return s
}

// ISRatio returns the indirectly standardised ratio O/E × refValue (refValue 1
// for a ratio, 100 for an index), with limits from the count interval on O
// (exact below 10, Byar's otherwise) divided by E.
func ISRatio(counts, pops, refCounts, refPops []float64, refValue, confidence float64) (ISResult, error) {
	return isr(counts, pops, refCounts, refPops, func(float64) float64 { return refValue }, confidence)
}

// ISRate returns the indirectly standardised rate O/E × (Σrefcount/Σrefpop × multiplier).
func ISRate(counts, pops, refCounts, refPops []float64, multiplier, confidence float64) (ISResult, error) {
	refRate := sumNonNaN(refCounts) / sumNonNaN(refPops) * multiplier
	return isr(counts, pops, refCounts, refPops, func(float64) float64 { return refRate }, confidence)
}

func isr(counts, pops, refCounts, refPops []float64, scale func(float64) float64, confidence float64) (ISResult, error) {
	c, err := NormConfidence(confidence)
	if err != nil {
		return ISResult{}, err
	}
	if len(counts) != len(pops) {
		return ISResult{}, invalid("isr: %d counts for %d populations", len(counts), len(pops))
	}
	e, err := expectedCount(pops, refCounts, refPops)
	if err != nil {
		return ISResult{}, err
	}
	o := sumNonNaN(counts)
	if o < 0 {
		return ISResult{}, invalid("isr: observed total %v is negative", o)
	}
	lo, hi, _ := poissonCount(o, c)
	f := scale(e) / e
	return ISResult{Observed: o, Expected: e, Interval: Interval{Value: o * f, Lower: lo * f, Upper: hi * f}}, nil
}
