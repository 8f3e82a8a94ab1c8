package metrics

import (
	"context"
	"database/sql/driver"
	"encoding/binary"
	"math"
	"reflect"
	"strings"
	"unsafe"

	"github.com/duckdb/duckdb-go/v2"
	"github.com/duckdb/duckdb-go/v2/mapping"
)

// Vectorised execution for functions whose arguments are DOUBLE or VARCHAR
// and whose result is DOUBLE or VARCHAR. duckdb-go's public vector views
// cover VARCHAR only, and going through driver.Value boxes every number (an
// allocation per value). For DOUBLE vectors we reach the underlying DuckDB
// vector handle (one unexported field, found by name and type through
// reflection) and read and write the flat float64 arrays and validity masks
// directly; VARCHAR goes through the public VectorView/VectorWriter. If the
// field is ever missing (a duckdb-go change), the function falls back to the
// row path, so results never depend on the hack; only speed does. DuckDB
// hands C-API scalar functions flat vectors (its own C-API tests index the
// data arrays by row), which is what duckdb-go's getters assume as well.

// kernelFn computes one row from non-NULL arguments: f holds the DOUBLE
// arguments and s the VARCHAR ones, each at its argument position. ok=false
// means a NULL (missing) result. fv is the result of DOUBLE functions, sv of
// VARCHAR ones.
type kernelFn func(f []float64, s []string) (fv float64, sv string, ok bool, err error)

// floatRowFn is a kernel over DOUBLE arguments with a DOUBLE result.
type floatRowFn func(a []float64) (v float64, ok bool, err error)

func floatKernel(newFn func() floatRowFn) func() kernelFn {
	return func() kernelFn {
		fn := newFn()
		return func(f []float64, _ []string) (float64, string, bool, error) {
			v, ok, err := fn(f)
			return v, "", ok, err
		}
	}
}

var mappingVectorType = reflect.TypeOf(mapping.Vector{})

// rawVector returns the DuckDB vector behind a duckdb.Vector.
func rawVector(v duckdb.Vector) (mapping.Vector, bool) {
	outer := reflect.ValueOf(&v).Elem()
	if outer.Kind() != reflect.Struct {
		return mapping.Vector{}, false
	}
	p := outer.FieldByName("v")
	if !p.IsValid() || p.Kind() != reflect.Pointer || p.IsNil() || p.Type().Elem().Kind() != reflect.Struct {
		return mapping.Vector{}, false
	}
	f := p.Elem().FieldByName("vec")
	if !f.IsValid() || f.Type() != mappingVectorType || !f.CanAddr() {
		return mapping.Vector{}, false
	}
	mv := *(*mapping.Vector)(unsafe.Pointer(f.UnsafeAddr()))
	if mv.Ptr == nil {
		return mapping.Vector{}, false
	}
	return mv, true
}

func vectorType(mv mapping.Vector) mapping.Type {
	lt := mapping.VectorGetColumnType(mv)
	defer mapping.DestroyLogicalType(&lt)
	return mapping.GetTypeId(lt)
}

func rowValid(mask unsafe.Pointer, r int) bool {
	return *(*uint64)(unsafe.Add(mask, (r/64)*8))&(1<<(uint(r)%64)) != 0
}

func setRowValid(mask unsafe.Pointer, r int, valid bool) {
	e := (*uint64)(unsafe.Add(mask, (r/64)*8))
	if valid {
		*e |= 1 << (uint(r) % 64)
	} else {
		*e &^= 1 << (uint(r) % 64)
	}
}

// column is one input vector of a chunk: DOUBLE values or VARCHAR entries,
// with the last string read (constant arguments such as 'lower' repeat on
// every row, so most rows reuse it).
type column struct {
	f     []float64
	s     []stringT
	mask  unsafe.Pointer
	last  stringT
	lastS string
	have  bool
}

// str returns the string at row r.
func (c *column) str(r int) string {
	e := c.s[r]
	if c.have && e == c.last {
		return c.lastS
	}
	n := int(binary.LittleEndian.Uint32(e[:4]))
	if n <= inlineLen {
		c.lastS = string(e[4 : 4+n])
	} else {
		// The heap pointer follows the length and a 4-byte prefix. Read
		// from the vector itself, 8-aligned, not from e: a byte array's
		// copy may sit at any address, and the race detector's pointer
		// checks stop on a misaligned pointer read.
		p := *(**byte)(unsafe.Pointer(&c.s[r][8]))
		c.lastS = strings.Clone(unsafe.String(p, n))
	}
	c.last, c.have = e, true
	return c.lastS
}

// kernelRows adapts a kernel to the row path (driver values in and out). The
// vectorised functions handle NULLs themselves (a NULL argument gives NULL,
// or with nullNaN reads as NaN or ""), so this path must too.
func kernelRows(stringResult, nullNaN bool, newFn func() kernelFn) func() rowFn {
	return func() rowFn {
		fn := newFn()
		var fs []float64
		var ss []string
		return func(args []driver.Value) (any, error) {
			fs, ss = fs[:0], ss[:0]
			for _, a := range args {
				var f float64
				var s string
				switch x := a.(type) {
				case nil:
					if !nullNaN {
						return nil, nil
					}
					f = math.NaN()
				case string:
					s = x
				default:
					var err error
					if f, err = f64(a); err != nil {
						return nil, err
					}
				}
				fs, ss = append(fs, f), append(ss, s)
			}
			fv, sv, ok, err := fn(fs, ss)
			switch {
			case err != nil || !ok:
				return nil, err
			case stringResult:
				return sv, nil
			}
			return fv, nil
		}
	}
}

// nullRows returns which of the first n rows have a NULL in any column, or
// nil when none has: the masks are read a 64-row word at a time.
func nullRows(cols []column, n int) []bool {
	var null []bool
	for c := range cols {
		mask := cols[c].mask
		if mask == nil {
			continue
		}
		for w := 0; w*64 < n; w++ {
			bits := *(*uint64)(unsafe.Add(mask, w*8))
			if bits == ^uint64(0) {
				continue
			}
			if null == nil {
				null = make([]bool, n)
			}
			for r := w * 64; r < n && r < (w+1)*64; r++ {
				if bits&(1<<(uint(r)%64)) == 0 {
					null[r] = true
				}
			}
		}
	}
	return null
}

// result is the output vector of a chunk, written in place: DOUBLE values
// straight into the data array, VARCHAR as duckdb_string_t entries.
type result struct {
	mv   mapping.Vector
	f    []float64
	s    []stringT
	mask unsafe.Pointer
	// long strings (over 12 bytes) already stored in this chunk's string
	// heap, with the entry that points at them; longMap instead, when set,
	// for results with many different long strings
	long    []longString
	longMap map[string]stringT
}

// stringT is DuckDB's duckdb_string_t: a 4-byte length, then up to 12 bytes
// inline, or a 4-byte prefix and a pointer into the vector's string heap.
type stringT [16]byte

type longString struct {
	s string
	e stringT
}

const inlineLen = 12

func newResult(mv mapping.Vector, n int, stringResult bool) (*result, bool) {
	want := mapping.TypeDouble
	if stringResult {
		want = mapping.TypeVarchar
	}
	if vectorType(mv) != want {
		return nil, false
	}
	r := &result{mv: mv}
	if stringResult {
		r.s = unsafe.Slice((*stringT)(mapping.VectorGetData(mv)), n)
	} else {
		r.f = unsafe.Slice((*float64)(mapping.VectorGetData(mv)), n)
	}
	// A reused result vector may carry NULLs from an earlier chunk: mark
	// every row valid first.
	if r.mask = mapping.VectorGetValidity(mv); r.mask != nil {
		for w := 0; w*64 < n; w++ {
			*(*uint64)(unsafe.Add(r.mask, w*8)) = ^uint64(0)
		}
	}
	return r, true
}

func (r *result) setNull(row int) {
	if r.mask == nil {
		mapping.VectorEnsureValidityWritable(r.mv)
		r.mask = mapping.VectorGetValidity(r.mv)
	}
	setRowValid(r.mask, row, false)
}

// setString stores s at row. Short strings are written inline; a long one
// is copied into the vector's heap once per chunk (one cgo call) and later
// rows with the same string share that copy, as DuckDB's own vectors do.
func (r *result) setString(row int, s string) {
	if len(s) <= inlineLen {
		var e stringT
		binary.LittleEndian.PutUint32(e[:4], uint32(len(s)))
		copy(e[4:], s)
		r.s[row] = e
		return
	}
	if r.longMap != nil {
		if e, ok := r.longMap[s]; ok {
			r.s[row] = e
			return
		}
		mapping.VectorAssignStringElementLen(r.mv, mapping.IdxT(row), []byte(s))
		r.longMap[s] = r.s[row]
		return
	}
	for i := range r.long {
		if r.long[i].s == s {
			r.s[row] = r.long[i].e
			return
		}
	}
	mapping.VectorAssignStringElementLen(r.mv, mapping.IdxT(row), []byte(s))
	r.long = append(r.long, longString{s: s, e: r.s[row]})
}

// vecExec executes a kernel over whole chunks, falling back to the row path.
// newFloat, if set, is the same function over DOUBLE arguments only, used
// when every argument of the overload is DOUBLE (no per-row string work).
// With nullNaN, NULL arguments reach the kernel as NaN (DOUBLE) or ""
// (VARCHAR) instead of making the result NULL.
//
// prep, if set, binds VARCHAR arguments that are the same on every row of a
// chunk (such as 'lower') once and returns the function of the DOUBLE ones,
// which then runs in the DOUBLE loop. If it fails, the chunk takes the
// general path, which reports the error on the first row that has one.
func vecExec(name string, stringResult, nullNaN bool, newFn func() kernelFn, newFloat func() floatRowFn, prep func(s []string) (floatRowFn, error)) duckdb.ScalarFuncExecutor {
	slow := chunkExec(name, kernelRows(stringResult, nullNaN, newFn)).ChunkContextExecutor
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(ctx context.Context, st *duckdb.ChunkIteratorState) error {
		in := st.GetInputChunk()
		n := in.GetSize()
		if n == 0 {
			return nil
		}
		cols := make([]column, in.ColumnCount())
		allFloat := true
		for i := range cols {
			vec, err := in.GetVector(i)
			if err != nil {
				return slow(ctx, st)
			}
			mv, ok := rawVector(vec)
			if !ok {
				return slow(ctx, st)
			}
			cols[i].mask = mapping.VectorGetValidity(mv)
			switch vectorType(mv) {
			case mapping.TypeDouble:
				cols[i].f = unsafe.Slice((*float64)(mapping.VectorGetData(mv)), n)
			case mapping.TypeVarchar:
				cols[i].s = unsafe.Slice((*stringT)(mapping.VectorGetData(mv)), n)
				allFloat = false
			default:
				return slow(ctx, st)
			}
		}
		outMV, ok := rawVector(st.GetResultVector())
		if !ok {
			return slow(ctx, st)
		}
		out, ok := newResult(outMV, n, stringResult)
		if !ok {
			return slow(ctx, st)
		}
		var null []bool
		if !nullNaN {
			null = nullRows(cols, n)
		}
		if allFloat && newFloat != nil && !stringResult && !nullNaN {
			return floatRows(name, newFloat(), cols, null, out, n)
		}
		if prep != nil && !stringResult && !nullNaN {
			if ss, ok := constStrings(cols, n); ok {
				if fn, err := prep(ss); err == nil {
					return floatRows(name, fn, cols, null, out, n)
				}
			}
		}
		fn := newFn()
		fs := make([]float64, len(cols))
		ss := make([]string, len(cols))
		for r := range n {
			if null != nil && null[r] {
				out.setNull(r)
				continue
			}
			for c := range cols {
				col := &cols[c]
				switch {
				case nullNaN && col.mask != nil && !rowValid(col.mask, r):
					fs[c], ss[c] = math.NaN(), ""
				case col.s != nil:
					ss[c] = col.str(r)
				default:
					fs[c] = col.f[r]
				}
			}
			fv, sv, ok, err := fn(fs, ss)
			switch {
			case err != nil:
				return nameErr(name, err)
			case !ok:
				out.setNull(r)
			case stringResult:
				out.setString(r, sv)
			default:
				out.f[r] = fv
			}
		}
		return nil
	}}
}

// constStrings returns the VARCHAR arguments (at their positions; "" at
// the others) when each is the same, and not NULL, on all n rows.
func constStrings(cols []column, n int) ([]string, bool) {
	ss := make([]string, len(cols))
	for c := range cols {
		col := &cols[c]
		if col.s == nil {
			continue
		}
		if col.mask != nil {
			for w := 0; w*64 < n; w++ {
				bits := *(*uint64)(unsafe.Add(col.mask, w*8))
				if left := n - w*64; left < 64 {
					bits |= ^uint64(0) << uint(left)
				}
				if bits != ^uint64(0) {
					return nil, false
				}
			}
		}
		first := col.str(0)
		for r := 1; r < n; r++ {
			if col.s[r] != col.last && col.str(r) != first {
				return nil, false
			}
		}
		ss[c] = first
	}
	return ss, true
}

// floatRows is the loop for DOUBLE arguments and result: no interface
// values, no per-row calls into DuckDB. VARCHAR columns (bound by prep)
// are skipped.
func floatRows(name string, fn floatRowFn, cols []column, null []bool, out *result, n int) error {
	args := make([]float64, len(cols))
	var fcols [][]float64
	var pos []int
	for c := range cols {
		if cols[c].s == nil {
			fcols, pos = append(fcols, cols[c].f), append(pos, c)
		}
	}
	for r := range n {
		if null != nil && null[r] {
			out.setNull(r)
			continue
		}
		for i, col := range fcols {
			args[pos[i]] = col[r]
		}
		v, ok, err := fn(args)
		if err != nil {
			return nameErr(name, err)
		}
		if !ok {
			out.setNull(r)
			continue
		}
		out.f[r] = v
	}
	return nil
}
