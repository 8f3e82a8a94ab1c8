package metrics

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
)

// StandardiseForPeers prepares one peer-grouping variable as NHS RightCare's
// "similar 10" does: cap at mean + 5 SD, take the square root, and convert to
// z-scores with the population SD. Values must be non-negative; NaN is an
// error (impute before grouping). A constant variable gives all zeros.
func StandardiseForPeers(v []float64) ([]float64, error) {
	mean, sd := meanSD(v)
	capv := mean + 5*sd
	out := make([]float64, len(v))
	for i, x := range v {
		if math.IsNaN(x) || x < 0 || math.IsInf(x, 0) {
			return nil, invalid("peers: value %d is %v, must be a non-negative number", i, x)
		}
		out[i] = math.Sqrt(math.Min(x, capv))
	}
	m2, sd2 := meanSD(out)
	for i := range out {
		if sd2 > 0 {
			out[i] = (out[i] - m2) / sd2
		} else {
			out[i] = 0
		}
	}
	return out, nil
}

// meanSD returns the mean and population standard deviation.
func meanSD(v []float64) (float64, float64) {
	if len(v) == 0 {
		return math.NaN(), math.NaN()
	}
	var s float64
	for _, x := range v {
		s += x
	}
	m := s / float64(len(v))
	var ss float64
	for _, x := range v {
		ss += (x - m) * (x - m)
	}
	return m, math.Sqrt(ss / float64(len(v)))
}

// SimilarPeers returns, for each unit, the indices of its k nearest units
// (excluding itself; ties by index) by the distance Σ wⱼ(zᵢⱼ − zₒⱼ)² over the
// standardised variables. vars holds one slice per variable (each one value
// per unit, raw: they are standardised here); weights nil means equal
// weights. k is usually 10.
func SimilarPeers(ctx context.Context, vars [][]float64, weights []float64, k int) ([][]int, error) {
	if len(vars) == 0 {
		return nil, invalid("peers: no variables")
	}
	n := len(vars[0])
	if k < 1 || k >= n {
		return nil, invalid("peers: k = %d with %d units", k, n)
	}
	if weights == nil {
		weights = make([]float64, len(vars))
		for j := range weights {
			weights[j] = 1
		}
	}
	if len(weights) != len(vars) {
		return nil, invalid("peers: %d weights for %d variables", len(weights), len(vars))
	}
	for j, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, invalid("peers: weight %d is %v", j, w)
		}
	}
	z := make([][]float64, len(vars))
	for j, v := range vars {
		if len(v) != n {
			return nil, invalid("peers: variable %d has %d values, want %d", j, len(v), n)
		}
		var err error
		if z[j], err = StandardiseForPeers(v); err != nil {
			return nil, err
		}
	}
	// Row-major copy for cache-friendly distance loops.
	rows := make([]float64, n*len(vars))
	for i := range n {
		for j := range vars {
			rows[i*len(vars)+j] = z[j][i]
		}
	}
	type cand struct {
		d float64
		i int
	}
	out := make([][]int, n)
	cands := make([]cand, 0, n)
	nv := len(vars)
	for i := range n {
		if i%256 == 0 && ctx.Err() != nil {
			return nil, ctx.Err()
		}
		cands = cands[:0]
		ri := rows[i*nv : i*nv+nv]
		for o := range n {
			if o == i {
				continue
			}
			ro := rows[o*nv : o*nv+nv]
			var d float64
			for j := range nv {
				t := ri[j] - ro[j]
				d += weights[j] * t * t
			}
			cands = append(cands, cand{d, o})
		}
		slices.SortFunc(cands, func(a, b cand) int {
			switch {
			case a.d < b.d:
				return -1
			case a.d > b.d:
				return 1
			}
			return a.i - b.i
		})
		peers := make([]int, k)
		for j := range k {
			peers[j] = cands[j].i
		}
		out[i] = peers
	}
	return out, nil
}

// Opportunity returns the benchmark (mean of the best `best` peer values,
// usually 5 of 10) and the opportunity (benchmark − value) × denominator,
// counted only in the direction of improvement (0 otherwise): the patients,
// pounds or referrals the gap stands for. value and peer values are rates
// per unit of denominator. NaN peer values are skipped.
func Opportunity(value float64, peerValues []float64, denominator float64, best int, p Polarity) (benchmark, opportunity float64, err error) {
	if p == NoJudgement {
		return 0, 0, invalid("opportunity needs a polarity")
	}
	vals := make([]float64, 0, len(peerValues))
	for _, v := range peerValues {
		if !math.IsNaN(v) {
			vals = append(vals, v)
		}
	}
	if best < 1 || len(vals) < best {
		return 0, 0, invalid("opportunity: %d peer values for the best %d", len(vals), best)
	}
	slices.Sort(vals)
	if p == HigherIsBetter {
		slices.Reverse(vals)
	}
	for _, v := range vals[:best] {
		benchmark += v
	}
	benchmark /= float64(best)
	gap := benchmark - value
	if p == LowerIsBetter {
		gap = -gap
	}
	if gap > 0 && !math.IsNaN(value) {
		opportunity = gap * denominator
	}
	return benchmark, opportunity, nil
}

// Neighbour is one of a unit's nearest units.
type Neighbour struct {
	Index    int
	Distance float64
}

// NearestPeers returns, for each unit, its k nearest other units (nearest
// first, ties by index) by the weighted Euclidean distance
// √Σⱼ wⱼ(zᵢⱼ − zₒⱼ)² over variables standardised as StandardiseForPeers does
// (cap at mean + 5 SD, square root, population z-score). vars holds one slice
// per variable, one raw value per unit; NaN is a missing value, standardised
// over the units that have one and then set to 0 (the variable's mean), so a
// missing variable adds no distance of its own. A variable missing or
// constant everywhere contributes nothing. With fewer than k+1 units each
// unit gets all the others. The ranking is the same as SimilarPeers' (the
// square root is monotone); this one reports the distances, accepts missing
// values and keeps only the k best per unit, which is what makes 6,300
// practices fast (see BenchmarkNearestPeers).
func NearestPeers(ctx context.Context, vars [][]float64, weights []float64, k int) ([][]Neighbour, error) {
	if len(vars) == 0 {
		return nil, invalid("peers: no variables")
	}
	if k < 1 {
		return nil, invalid("peers: k = %d, want at least 1", k)
	}
	if len(weights) != len(vars) {
		return nil, invalid("peers: %d weights for %d variables", len(weights), len(vars))
	}
	for j, w := range weights {
		if !(w >= 0) || math.IsInf(w, 0) {
			return nil, invalid("peers: weight %d is %v, want a non-negative number", j, w)
		}
	}
	n := len(vars[0])
	nv := len(vars)
	rows := make([]float64, n*nv) // row-major z-scores
	for j, v := range vars {
		if len(v) != n {
			return nil, invalid("peers: variable %d has %d values, want %d", j, len(v), n)
		}
		var have []float64
		var at []int
		for i, x := range v {
			if !math.IsNaN(x) {
				have = append(have, x)
				at = append(at, i)
			}
		}
		if len(have) == 0 {
			continue
		}
		z, err := StandardiseForPeers(have)
		if err != nil {
			return nil, fmt.Errorf("peers: variable %d: %w", j, err)
		}
		for m, i := range at {
			rows[i*nv+j] = z[m]
		}
	}
	k = min(k, max(n-1, 0))
	out := make([][]Neighbour, n)
	if k == 0 {
		for i := range out {
			out[i] = []Neighbour{}
		}
		return out, nil
	}
	// Rows are independent: split them over the CPUs. Each worker's result
	// depends only on its rows, so the output is the same for any split.
	workers := min(runtime.GOMAXPROCS(0), max(1, n/256))
	var wg sync.WaitGroup
	errs := make([]error, workers)
	for w := range workers {
		wg.Add(1)
		go func(w int) {
			defer wg.Done()
			best := make([]Neighbour, 0, k+1)
			for i := w; i < n; i += workers {
				if i%512 == w && ctx.Err() != nil {
					errs[w] = ctx.Err()
					return
				}
				best = best[:0]
				ri := rows[i*nv : i*nv+nv]
				for o := range n {
					if o == i {
						continue
					}
					ro := rows[o*nv : o*nv+nv]
					var d float64
					for j := range nv {
						t := ri[j] - ro[j]
						d += weights[j] * t * t
					}
					// keep the k smallest (d, index) in order: insertion into a short list
					if len(best) == k && d >= best[k-1].Distance {
						continue // o > every kept index, so a tie loses too
					}
					p := len(best)
					if p < k {
						best = append(best, Neighbour{})
					} else {
						p = k - 1
					}
					for p > 0 && best[p-1].Distance > d {
						best[p] = best[p-1]
						p--
					}
					best[p] = Neighbour{Index: o, Distance: d}
				}
				res := make([]Neighbour, len(best))
				for m, b := range best {
					res[m] = Neighbour{Index: b.Index, Distance: math.Sqrt(b.Distance)}
				}
				out[i] = res
			}
		}(w)
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}
