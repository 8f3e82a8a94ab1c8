package metrics

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
)

// Value types for SII (PHEindicatormethods' value_type).
const (
	ValueOther      = 0
	ValueRate       = 1
	ValueProportion = 2
)

// SIIOptions configure SII. The zero value means PHE's defaults except
// Reps (see below).
type SIIOptions struct {
	// ValueType 0 other, 1 rate, 2 proportion (0–1). Rates and proportions
	// are simulated on the log/logit scale.
	ValueType int
	// Transform fits on the log (rate) or logit (proportion) scale.
	Transform bool
	// Multiplier scales the SII (0 means 1); a negative one inverts the RII.
	Multiplier float64
	// Confidence of the simulated limits (0 means 0.95; 95 also accepted).
	Confidence float64
	// Reps is the number of simulations (0 means 100,000 as PHE; at least 1,000).
	Reps int
	// Seed seeds the PCG generator so results are reproducible.
	Seed uint64
	// SE optionally gives standard errors on the fitted (transformed) scale
	// instead of deriving them from the limits.
	SE []float64
}

// SIIResult is the slope and relative index of inequality.
type SIIResult struct {
	SII, SIILower, SIIUpper float64
	RII, RIILower, RIIUpper float64
	Intercept               float64
}

// siiModel is the precomputed weighted least-squares fit for one set of groups.
type siiModel struct {
	sqrtA []float64
	// coef rows give intercept and slope as linear functions of √a·y.
	c0, c1 []float64
}

func newSIIModel(pops []float64) siiModel {
	k := len(pops)
	var total float64
	for _, p := range pops {
		total += p
	}
	m := siiModel{sqrtA: make([]float64, k), c0: make([]float64, k), c1: make([]float64, k)}
	b := make([]float64, k)
	var cum float64
	for i, p := range pops {
		a := p / total
		b[i] = cum + a/2
		cum += a
		m.sqrtA[i] = math.Sqrt(a)
	}
	// Regressors x1 = √a, x2 = b√a; (XᵀX)⁻¹Xᵀ in closed form.
	var s11, s12, s22 float64
	for i := range k {
		x1, x2 := m.sqrtA[i], b[i]*m.sqrtA[i]
		s11 += x1 * x1
		s12 += x1 * x2
		s22 += x2 * x2
	}
	det := s11*s22 - s12*s12
	for i := range k {
		x1, x2 := m.sqrtA[i], b[i]*m.sqrtA[i]
		m.c0[i] = (s22*x1 - s12*x2) / det
		m.c1[i] = (-s12*x1 + s11*x2) / det
	}
	return m
}

func (m siiModel) fit(y []float64) (c0, c1 float64) {
	for i, v := range y {
		w := m.sqrtA[i] * v
		c0 += m.c0[i] * w
		c1 += m.c1[i] * w
	}
	return c0, c1
}

func logit(p float64) float64 { return math.Log(p / (1 - p)) }
func expit(x float64) float64 { return 1 / (1 + math.Exp(-x)) }

// SII returns the slope and relative index of inequality (PHE phe_sii) for
// groups ordered from most deprived (first) to least. values, pops, lowers
// and uppers have one entry per group (5–100 groups). Confidence limits come
// from Reps simulations drawn N(value, SE) on the fitted scale, with SE =
// (upper − lower)/(2·z(0.95)) there; they are reproducible for a Seed.
func SII(ctx context.Context, values, pops, lowers, uppers []float64, o SIIOptions) (SIIResult, error) {
	k := len(values)
	if k < 5 || k > 100 {
		return SIIResult{}, invalid("sii: %d groups, need 5 to 100", k)
	}
	if len(pops) != k || (o.SE == nil && (len(lowers) != k || len(uppers) != k)) || (o.SE != nil && len(o.SE) != k) {
		return SIIResult{}, invalid("sii: values, populations and limits must have the same length (%d, %d, %d, %d)", k, len(pops), len(lowers), len(uppers))
	}
	if o.ValueType < 0 || o.ValueType > 2 {
		return SIIResult{}, invalid("sii: value_type %d, want 0, 1 or 2", o.ValueType)
	}
	if o.Transform && o.ValueType == ValueOther {
		return SIIResult{}, invalid("sii: transform needs value_type 1 (rate) or 2 (proportion)")
	}
	mult := o.Multiplier
	if mult == 0 {
		mult = 1
	}
	conf := o.Confidence
	if conf == 0 {
		conf = 0.95
	}
	conf, err := NormConfidence(conf)
	if err != nil {
		return SIIResult{}, err
	}
	reps := o.Reps
	if reps == 0 {
		reps = 100000
	}
	if reps < 1000 {
		return SIIResult{}, invalid("sii: %d repetitions, need at least 1000", reps)
	}
	fwd := func(v float64) float64 { return v }
	inv := fwd
	switch o.ValueType {
	case ValueRate:
		fwd, inv = math.Log, math.Exp
	case ValueProportion:
		fwd, inv = logit, expit
	}
	tv := make([]float64, k) // values on the simulation scale
	se := make([]float64, k)
	z95 := Z(0.95)
	for i := range k {
		v, p := values[i], pops[i]
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return SIIResult{}, invalid("sii: group %d value %v", i+1, v)
		}
		if !(p > 0) || math.IsInf(p, 0) {
			return SIIResult{}, invalid("sii: group %d population %v must be positive", i+1, p)
		}
		if o.ValueType == ValueRate && !(v > 0) {
			return SIIResult{}, invalid("sii: group %d rate %v must be positive", i+1, v)
		}
		if o.ValueType == ValueProportion && !(v > 0 && v < 1) {
			return SIIResult{}, invalid("sii: group %d proportion %v must be between 0 and 1", i+1, v)
		}
		tv[i] = fwd(v)
		if o.SE != nil {
			se[i] = o.SE[i]
		} else {
			lo, hi := lowers[i], uppers[i]
			if math.IsNaN(lo) || math.IsNaN(hi) || lo > hi {
				return SIIResult{}, invalid("sii: group %d limits %v–%v", i+1, lo, hi)
			}
			if o.ValueType == ValueRate && !(lo > 0) {
				return SIIResult{}, invalid("sii: group %d rate lower limit %v must be positive", i+1, lo)
			}
			if o.ValueType == ValueProportion && !(lo > 0 && hi < 1) {
				return SIIResult{}, invalid("sii: group %d proportion limits %v–%v must be inside (0, 1)", i+1, lo, hi)
			}
			se[i] = (fwd(hi) - fwd(lo)) / (2 * z95)
		}
		if !(se[i] >= 0) || math.IsInf(se[i], 0) {
			return SIIResult{}, invalid("sii: group %d standard error %v", i+1, se[i])
		}
	}
	m := newSIIModel(pops)
	// stats turns fitted coefficients into SII, RII and intercept.
	stats := func(c0, c1 float64) (sii, rii, icpt float64) {
		if o.Transform {
			a, b := inv(c0+c1), inv(c0)
			sii, rii, icpt = (a-b)*mult, a/b, b*math.Abs(mult)
		} else {
			sii, rii, icpt = c1*mult, (c0+c1)/c0, c0*math.Abs(mult)
		}
		if mult < 0 {
			rii = 1 / rii
		}
		return sii, rii, icpt
	}
	y := make([]float64, k)
	if o.Transform {
		copy(y, tv)
	} else {
		copy(y, values)
	}
	var res SIIResult
	res.SII, res.RII, res.Intercept = stats(m.fit(y))

	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	siis := make([]float64, reps)
	riis := make([]float64, reps)
	for r := range reps {
		if r%1024 == 0 && ctx.Err() != nil {
			return SIIResult{}, ctx.Err()
		}
		for i := range k {
			d := tv[i] + se[i]*rng.NormFloat64()
			if !o.Transform {
				d = inv(d)
			}
			y[i] = d
		}
		siis[r], riis[r], _ = stats(m.fit(y))
	}
	cv := conf + (1-conf)/2
	lo := int(math.RoundToEven(float64(reps) * (1 - cv)))
	hi := int(math.RoundToEven(float64(reps) * cv))
	lo = min(max(lo, 1), reps)
	hi = min(max(hi, 1), reps)
	res.SIILower, res.SIIUpper = orderStats(siis, lo-1, hi-1)
	res.RIILower, res.RIIUpper = orderStats(riis, lo-1, hi-1)
	return res, nil
}

// orderStats returns the i-th and j-th smallest values (0-based, i <= j) as
// sorting would place them, in linear time; v is reordered.
func orderStats(v []float64, i, j int) (float64, float64) {
	for _, x := range v {
		if math.IsNaN(x) { // NaN breaks the comparisons: sort instead
			slices.Sort(v)
			return v[i], v[j]
		}
	}
	quickselect(v, j)
	quickselect(v[:j+1], i)
	return v[i], v[j]
}

// quickselect reorders v so that v[k] holds the value sorting would put
// there, with smaller-or-equal values before it.
func quickselect(v []float64, k int) {
	lo, hi := 0, len(v)-1
	for hi > lo {
		// Median of three as pivot.
		mid := lo + (hi-lo)/2
		if v[mid] < v[lo] {
			v[mid], v[lo] = v[lo], v[mid]
		}
		if v[hi] < v[lo] {
			v[hi], v[lo] = v[lo], v[hi]
		}
		if v[hi] < v[mid] {
			v[hi], v[mid] = v[mid], v[hi]
		}
		pivot := v[mid]
		i, j := lo, hi
		for i <= j {
			for v[i] < pivot {
				i++
			}
			for v[j] > pivot {
				j--
			}
			if i <= j {
				v[i], v[j] = v[j], v[i]
				i++
				j--
			}
		}
		switch {
		case k <= j:
			hi = j
		case k >= i:
			lo = i
		default:
			return
		}
	}
}
