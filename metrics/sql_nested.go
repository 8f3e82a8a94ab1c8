package metrics

import (
	"math"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2/mapping"
)

// Nested results written in place. duckdb-go sets a LIST(STRUCT) result one
// element at a time: it grows the list's child vector for every row and
// sets each field through a map and reflection. spc_xmr over England's
// 54,000 monthly series (1.4 M points) spent about 1 s of its 1.3 s there;
// the charts themselves take 0.2 s. A function with a nestedOut returns a
// typed value that write stores straight into the result vector (one
// reserve per chunk, flat field arrays); when the vector cannot be reached
// (see rawVector) value converts it for duckdb-go's setter instead, so
// results never depend on the fast path.

// nestedOut writes a chunk's results (nil for a NULL row) into the result
// vector mv, or says false without writing anything; value converts one
// result to what duckdb-go's SetResult takes.
type nestedOut struct {
	write func(mv mapping.Vector, res []any) bool
	value func(v any) any
}

// listEntry is DuckDB's duckdb_list_entry.
type listEntry struct{ offset, length uint64 }

// structList is a LIST(STRUCT) result vector reserved for total more
// elements: its entries, and each field's vector.
type structList struct {
	mv      mapping.Vector
	entries []listEntry
	mask    unsafe.Pointer
	base    int
	fields  []mapping.Vector
}

// reserveStructList checks that mv is a LIST of a STRUCT whose fields have
// the given types, and makes room for total more elements.
func reserveStructList(mv mapping.Vector, n, total int, types []mapping.Type) (*structList, bool) {
	if vectorType(mv) != mapping.TypeList {
		return nil, false
	}
	child := mapping.ListVectorGetChild(mv)
	if child.Ptr == nil || vectorType(child) != mapping.TypeStruct {
		return nil, false
	}
	lt := mapping.VectorGetColumnType(child)
	count := int(mapping.StructTypeChildCount(lt))
	mapping.DestroyLogicalType(&lt)
	if count != len(types) {
		return nil, false
	}
	fields := make([]mapping.Vector, count)
	for k := range fields {
		fields[k] = mapping.StructVectorGetChild(child, mapping.IdxT(k))
		if fields[k].Ptr == nil || vectorType(fields[k]) != types[k] {
			return nil, false
		}
	}
	// Validity masks are allocated before the reserve, which then grows
	// them with the data (as duckdb-go does): one allocated afterwards
	// would hold a standard vector's 2,048 rows, not the list's elements.
	mapping.VectorEnsureValidityWritable(mv)
	mapping.VectorEnsureValidityWritable(child)
	for _, f := range fields {
		mapping.VectorEnsureValidityWritable(f)
	}
	base := int(mapping.ListVectorGetSize(mv))
	if mapping.ListVectorReserve(mv, mapping.IdxT(base+total)) != mapping.StateSuccess {
		return nil, false
	}
	l := &structList{
		mv:      mv,
		entries: unsafe.Slice((*listEntry)(mapping.VectorGetData(mv)), n),
		mask:    mapping.VectorGetValidity(mv),
		base:    base,
		fields:  fields,
	}
	// The struct elements are never NULL; a reused vector may say so.
	if total > 0 {
		cm := mapping.VectorGetValidity(child)
		for i := base; i < base+total; i++ {
			setRowValid(cm, i, true)
		}
	}
	return l, true
}

// doubles returns field k's values and validity mask, from base on.
func (l *structList) doubles(k, total int) ([]float64, unsafe.Pointer) {
	f := l.fields[k]
	return unsafe.Slice((*float64)(mapping.VectorGetData(f)), l.base+total), mapping.VectorGetValidity(f)
}

// strings returns field k as a result whose rows are element indexes.
func (l *structList) strings(k, total int) *result {
	f := l.fields[k]
	return &result{mv: f, s: unsafe.Slice((*stringT)(mapping.VectorGetData(f)), l.base+total), mask: mapping.VectorGetValidity(f)}
}

// nestedTotal counts the elements of a chunk's results, each a T or nil (a
// NULL row); false when one is of another type.
func nestedTotal[T any](res []any, size func(T) int) (int, bool) {
	total := 0
	for _, v := range res {
		switch p := v.(type) {
		case nil:
		case T:
			total += size(p)
		default:
			return 0, false
		}
	}
	return total, true
}

// setRow makes row the list of elements [start, end).
func (l *structList) setRow(row, start, end int) {
	l.entries[row] = listEntry{offset: uint64(start), length: uint64(end - start)}
	setRowValid(l.mask, row, true)
}

// setNull makes row NULL (an empty entry at the next element).
func (l *structList) setNull(row, at int) {
	l.entries[row] = listEntry{offset: uint64(at)}
	setRowValid(l.mask, row, false)
}

// done sets the list's new size.
func (l *structList) done(total int) {
	mapping.ListVectorSetSize(l.mv, mapping.IdxT(l.base+total))
}

// setDouble stores v at element i, NaN as NULL.
func setDouble(data []float64, mask unsafe.Pointer, i int, v float64) {
	if math.IsNaN(v) {
		setRowValid(mask, i, false)
		return
	}
	data[i] = v
	setRowValid(mask, i, true)
}

// spcPoints is spc_xmr's result for one series.
type spcPoints []SPCPoint

var spcFieldTypes = []mapping.Type{mapping.TypeDouble, mapping.TypeDouble, mapping.TypeDouble,
	mapping.TypeDouble, mapping.TypeDouble, mapping.TypeDouble, mapping.TypeVarchar}

var spcOut = nestedOut{write: writeSPC, value: spcValue}

// spcValue is the row path's form of spc_xmr's result (field order and
// names as spcStruct in newSQLTypes).
func spcValue(v any) any {
	pts, ok := v.(spcPoints)
	if !ok {
		return v
	}
	out := make([]any, len(pts))
	for i, p := range pts {
		out[i] = map[string]any{
			"value": p.Value, "mean": p.Mean, "lpl": nullIfNaN(p.LPL), "upl": nullIfNaN(p.UPL),
			"near_lpl": nullIfNaN(p.NearLPL), "near_upl": nullIfNaN(p.NearUPL), "point_type": p.PointType,
		}
	}
	return out
}

func writeSPC(mv mapping.Vector, res []any) bool {
	total, ok := nestedTotal(res, func(p spcPoints) int { return len(p) })
	if !ok {
		return false
	}
	l, ok := reserveStructList(mv, len(res), total, spcFieldTypes)
	if !ok {
		return false
	}
	var data [6][]float64
	var masks [6]unsafe.Pointer
	for k := range data {
		data[k], masks[k] = l.doubles(k, total)
	}
	types := l.strings(6, total)
	at := l.base
	for row, v := range res {
		if v == nil {
			l.setNull(row, at)
			continue
		}
		pts := v.(spcPoints)
		l.setRow(row, at, at+len(pts))
		for _, p := range pts {
			// value and mean as they are (a NaN input stays NaN), the
			// limits NULL where there are none, as spcValue
			data[0][at], data[1][at] = p.Value, p.Mean
			setRowValid(masks[0], at, true)
			setRowValid(masks[1], at, true)
			setDouble(data[2], masks[2], at, p.LPL)
			setDouble(data[3], masks[3], at, p.UPL)
			setDouble(data[4], masks[4], at, p.NearLPL)
			setDouble(data[5], masks[5], at, p.NearUPL)
			types.setString(at, p.PointType)
			setRowValid(types.mask, at, true)
			at++
		}
	}
	l.done(total)
	return true
}
