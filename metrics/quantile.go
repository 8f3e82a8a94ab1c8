package metrics

import (
	"math"
	"slices"
)

// PHEQuantiles assigns quantiles 1..nq by PHEindicatormethods' rule: rank
// with ties at the minimum (ranking −value when invert, PHE's argument for
// higher-is-better indicators, so the highest values get quantile 1; without
// it the lowest values do), then
// q = floor((nq+1) − ceiling(((N+1) − rank)/(N/nq))), with 0 becoming 1.
// NaN values get 0 (missing) and are not counted in N; if N < nq every
// quantile is 0 (missing).
//
// The same rule in DuckDB SQL (N non-null values per group, rank ties "min"):
//
//	CASE WHEN value IS NOT NULL AND count(value) OVER (PARTITION BY g) >= nq
//	THEN greatest(1, floor((nq + 1) - ceil(((count(value) OVER (PARTITION BY g) + 1)
//	  - rank() OVER (PARTITION BY g ORDER BY value))
//	  / (count(value) OVER (PARTITION BY g) / nq))))::INTEGER END
//
// (ORDER BY value DESC for invert; DuckDB sorts NULLs last either way.)
func PHEQuantiles(values []float64, nq int, invert bool) ([]int, error) {
	if nq < 1 {
		return nil, invalid("quantiles: %d quantiles", nq)
	}
	out := make([]int, len(values))
	idx := make([]int, 0, len(values))
	for i, v := range values {
		if !math.IsNaN(v) {
			idx = append(idx, i)
		}
	}
	n := len(idx)
	if n < nq {
		return out, nil
	}
	key := func(i int) float64 {
		if invert {
			return -values[i]
		}
		return values[i]
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ka, kb := key(a), key(b)
		switch {
		case ka < kb:
			return -1
		case ka > kb:
			return 1
		}
		return 0
	})
	width := float64(n) / float64(nq)
	rank := 1
	for j, i := range idx {
		if j > 0 && key(i) != key(idx[j-1]) {
			rank = j + 1
		}
		q := int(math.Floor(float64(nq+1) - math.Ceil((float64(n+1)-float64(rank))/width)))
		if q == 0 {
			q = 1
		}
		out[i] = q
	}
	return out, nil
}
