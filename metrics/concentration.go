package metrics

import (
	"context"
	"math"
	"math/rand/v2"
)

// ConcentrationOptions configure ConcentrationIndex.
type ConcentrationOptions struct {
	// Confidence of the interval (0 means 0.95; 0.95 or 95).
	Confidence float64
	// Reps is the number of bootstrap resamples (0 means 1,000; at least 200).
	Reps int
	// Seed seeds the PCG generator so the interval is reproducible.
	Seed uint64
}

// ConcentrationResult is a concentration index with its interval.
type ConcentrationResult struct {
	CI, Lower, Upper float64
}

// ConcentrationIndex returns the concentration index of values (e.g. £ per
// need-weighted patient of each practice) over units ordered from most
// deprived (first) to least, each weighted by its population (O'Donnell,
// van Doorslaer, Wagstaff and Lindelow, "Analyzing Health Equity Using
// Household Survey Data", World Bank 2008, ch. 8):
//
//	C = 2·cov_w(h, r) / μ_w
//
// with μ_w the population-weighted mean of h, rᵢ the fractional rank (the
// cumulative population share up to the midpoint of unit i) and cov_w the
// population-weighted covariance. C lies in (−1, 1): negative when the
// quantity is concentrated among the more deprived, positive when among the
// less deprived (an inverse care law), 0 when flat. Units with zero weight
// are skipped. The interval is a seeded percentile bootstrap over units
// (units resampled with replacement, keeping their order and weights), with
// the sorted positions round(reps·(1−cv)) and round(reps·cv), cv = c + (1−c)/2,
// as sii's simulation uses.
func ConcentrationIndex(ctx context.Context, values, weights []float64, o ConcentrationOptions) (ConcentrationResult, error) {
	if len(values) != len(weights) {
		return ConcentrationResult{}, invalid("concentration_index: %d values and %d weights", len(values), len(weights))
	}
	conf := o.Confidence
	if conf == 0 {
		conf = 0.95
	}
	conf, err := NormConfidence(conf)
	if err != nil {
		return ConcentrationResult{}, err
	}
	reps := o.Reps
	if reps == 0 {
		reps = 1000
	}
	if reps < 200 {
		return ConcentrationResult{}, invalid("concentration_index: %d resamples, need at least 200", reps)
	}
	var h, w []float64
	for i := range values {
		v, p := values[i], weights[i]
		if math.IsNaN(p) || p < 0 || math.IsInf(p, 0) {
			return ConcentrationResult{}, invalid("concentration_index: unit %d weight %v must be non-negative", i+1, p)
		}
		if p == 0 {
			continue
		}
		if math.IsNaN(v) || math.IsInf(v, 0) {
			return ConcentrationResult{}, invalid("concentration_index: unit %d value %v", i+1, v)
		}
		h = append(h, v)
		w = append(w, p)
	}
	if len(h) < 2 {
		return ConcentrationResult{}, invalid("concentration_index: %d units with a weight, need at least 2", len(h))
	}
	c := concentration(h, w)
	if math.IsNaN(c) {
		return ConcentrationResult{}, invalid("concentration_index: the weighted mean is 0")
	}
	res := ConcentrationResult{CI: c}
	rng := rand.New(rand.NewPCG(o.Seed, 0x9e3779b97f4a7c15))
	n := len(h)
	counts := make([]float64, n)
	bw := make([]float64, n)
	cs := make([]float64, 0, reps)
	for r := range reps {
		if r%64 == 0 && ctx.Err() != nil {
			return ConcentrationResult{}, ctx.Err()
		}
		clear(counts)
		for range n {
			counts[rng.IntN(n)]++
		}
		for i := range n {
			bw[i] = counts[i] * w[i]
		}
		if b := concentration(h, bw); !math.IsNaN(b) {
			cs = append(cs, b)
		}
	}
	if len(cs) == 0 {
		return ConcentrationResult{}, invalid("concentration_index: no usable resample")
	}
	cv := conf + (1-conf)/2
	m := len(cs)
	lo := min(max(int(math.RoundToEven(float64(m)*(1-cv))), 1), m)
	hi := min(max(int(math.RoundToEven(float64(m)*cv)), 1), m)
	res.Lower, res.Upper = orderStats(cs, lo-1, hi-1)
	return res, nil
}

// concentration is 2·cov_w(h, r)/μ_w for units in rank order; zero weights
// take no rank. NaN when the weighted mean is 0 or there is no weight.
func concentration(h, w []float64) float64 {
	var tw, mu float64
	for i := range h {
		tw += w[i]
		mu += w[i] * h[i]
	}
	if !(tw > 0) {
		return math.NaN()
	}
	mu /= tw
	if mu == 0 {
		return math.NaN()
	}
	var cum, cov float64
	for i := range h {
		if w[i] == 0 {
			continue
		}
		r := (cum + w[i]/2) / tw
		cum += w[i]
		cov += w[i] * (h[i] - mu) * (r - 0.5)
	}
	return 2 * (cov / tw) / mu
}
