package metrics

import (
	"context"
	"database/sql/driver"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"
)

// sqlNearestPeers is nearest_peers(ids, features, names, weights, k): ids
// one per unit, features one list per unit (NULL elements are missing),
// names the features' names in list order, weights "name=w;name=w" giving
// every named feature its weight (an unknown or missing name is an error,
// so a typo in data/peer_weights.csv never silently drops a variable).
func sqlNearestPeers(a []driver.Value) (any, error) {
	for i, what := range []string{"ids", "features", "names", "weights", "k"} {
		if a[i] == nil {
			return nil, invalid("nearest_peers: %s is NULL", what)
		}
	}
	ids, err := stringList("ids", a[0])
	if err != nil {
		return nil, err
	}
	names, err := stringList("names", a[2])
	if err != nil {
		return nil, err
	}
	spec, _ := a[3].(string)
	weights, err := ParsePeerWeights(spec, names)
	if err != nil {
		return nil, err
	}
	k, ok := a[4].(int64)
	if !ok || k < 1 {
		return nil, invalid("nearest_peers: k = %v, want a positive integer", a[4])
	}
	rows, ok := a[1].([]any)
	if !ok || len(rows) != len(ids) {
		return nil, invalid("nearest_peers: want one feature list per id (%d ids)", len(ids))
	}
	vars := make([][]float64, len(names))
	for j := range vars {
		vars[j] = make([]float64, len(ids))
	}
	for i, r := range rows {
		l, ok := r.([]any)
		if !ok || len(l) != len(names) {
			return nil, invalid("nearest_peers: unit %d (%s) has %v features, want %d", i+1, ids[i], r, len(names))
		}
		for j, e := range l {
			f, err := f64(e) // NULL reads as NaN: missing
			if err != nil {
				return nil, err
			}
			vars[j][i] = f
		}
	}
	nn, err := NearestPeers(context.Background(), vars, weights, int(k))
	if err != nil {
		return nil, err
	}
	return peerRows{ids: ids, nn: nn}, nil
}

// peerRows is nearest_peers' result: each unit's neighbours, nearest first.
type peerRows struct {
	ids []string
	nn  [][]Neighbour
}

func (p peerRows) pairs() int {
	n := 0
	for _, ps := range p.nn {
		n += len(ps)
	}
	return n
}

var peerFieldTypes = []mapping.Type{mapping.TypeVarchar, mapping.TypeVarchar, mapping.TypeBigInt, mapping.TypeDouble}

var peersOut = nestedOut{write: writePeers, value: peersValue}

// peersValue is the row path's form (field names and order as peerStruct
// in newSQLTypes).
func peersValue(v any) any {
	p, ok := v.(peerRows)
	if !ok {
		return v
	}
	out := make([]any, 0, p.pairs())
	for i, ps := range p.nn {
		for r, n := range ps {
			out = append(out, map[string]any{"id": p.ids[i], "peer": p.ids[n.Index], "rank": int64(r + 1), "distance": n.Distance})
		}
	}
	return out
}

func writePeers(mv mapping.Vector, res []any) bool {
	total, ok := nestedTotal(res, peerRows.pairs)
	if !ok {
		return false
	}
	l, ok := reserveStructList(mv, len(res), total, peerFieldTypes)
	if !ok {
		return false
	}
	id, peer := l.strings(0, total), l.strings(1, total)
	// ids repeat on every element: a map, not the short list of setString,
	// keeps the copies of long ones
	id.longMap, peer.longMap = map[string]stringT{}, map[string]stringT{}
	rank := unsafe.Slice((*int64)(mapping.VectorGetData(l.fields[2])), l.base+total)
	rankMask := mapping.VectorGetValidity(l.fields[2])
	dist, distMask := l.doubles(3, total)
	at := l.base
	for row, v := range res {
		if v == nil {
			l.setNull(row, at)
			continue
		}
		p := v.(peerRows)
		start := at
		for i, ps := range p.nn {
			for r, n := range ps {
				id.setString(at, p.ids[i])
				peer.setString(at, p.ids[n.Index])
				setRowValid(id.mask, at, true)
				setRowValid(peer.mask, at, true)
				rank[at] = int64(r + 1)
				setRowValid(rankMask, at, true)
				dist[at] = n.Distance
				setRowValid(distMask, at, true)
				at++
			}
		}
		l.setRow(row, start, at)
	}
	l.done(total)
	return true
}

// ParsePeerWeights reads "name=w;name=w" into weights in the order of names.
// Every name needs exactly one non-negative weight and every weight a name.
func ParsePeerWeights(spec string, names []string) ([]float64, error) {
	byName := map[string]float64{}
	for _, part := range strings.Split(spec, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		n, v, ok := strings.Cut(part, "=")
		n = strings.TrimSpace(n)
		w, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
		if !ok || err != nil || !(w >= 0) || math.IsInf(w, 0) {
			return nil, invalid("peer weights: %q: want name=weight with a non-negative weight", part)
		}
		if _, dup := byName[n]; dup {
			return nil, invalid("peer weights: %q given twice", n)
		}
		byName[n] = w
	}
	out := make([]float64, len(names))
	for j, n := range names {
		w, ok := byName[n]
		if !ok {
			return nil, invalid("peer weights: no weight for variable %q", n)
		}
		out[j] = w
		delete(byName, n)
	}
	if len(byName) > 0 {
		extra := make([]string, 0, len(byName))
		for n := range byName {
			extra = append(extra, n)
		}
		slices.Sort(extra)
		return nil, invalid("peer weights: %s not a peer variable (want one of %s)", strings.Join(extra, ", "), strings.Join(names, ", "))
	}
	return out, nil
}

func stringList(name string, v driver.Value) ([]string, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: want a list of strings, got %T", ErrInvalid, name, v)
	}
	out := make([]string, len(l))
	for i, e := range l {
		s, ok := e.(string)
		if !ok {
			return nil, fmt.Errorf("%w: %s: element %d is %v, want a string", ErrInvalid, name, i+1, e)
		}
		out[i] = s
	}
	return out, nil
}

// sqlConcentrationIndex is concentration_index(values, weights [, confidence, reps, seed]).
func sqlConcentrationIndex(a []driver.Value) (any, error) {
	v, err := floatList("values", a[0])
	if err != nil {
		return nil, err
	}
	w, err := floatList("weights", a[1])
	if err != nil {
		return nil, err
	}
	var o ConcentrationOptions
	if len(a) > 2 {
		if o.Confidence, _ = f64(a[2]); o.Confidence == 0 {
			return nil, invalid("concentration_index: confidence 0")
		}
	}
	if len(a) > 3 {
		r, _ := a[3].(int64)
		if o.Reps = int(r); o.Reps == 0 {
			return nil, invalid("concentration_index: 0 resamples")
		}
	}
	if len(a) > 4 {
		s, _ := a[4].(int64)
		o.Seed = uint64(s)
	}
	r, err := ConcentrationIndex(context.Background(), v, w, o)
	if err != nil {
		return nil, err
	}
	return map[string]any{"ci": r.CI, "ci_lower": r.Lower, "ci_upper": r.Upper}, nil
}
