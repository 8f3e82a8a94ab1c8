package metrics

import (
	"context"
	"database/sql/driver"
	"fmt"
	"reflect"
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
	if mask == nil {
		return true
	}
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

// column is one input vector of a chunk.
type column struct {
	f    []float64
	mask unsafe.Pointer
	s    *duckdb.VectorView[string]
}

// kernelRows adapts a kernel to the row path (driver values in and out).
func kernelRows(stringResult bool, newFn func() kernelFn) func() rowFn {
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

// vecExec executes a kernel over whole chunks, falling back to the row path.
func vecExec(name string, stringResult bool, newFn func() kernelFn) duckdb.ScalarFuncExecutor {
	slow := chunkExec(name, kernelRows(stringResult, newFn)).ChunkContextExecutor
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(ctx context.Context, st *duckdb.ChunkIteratorState) error {
		in := st.GetInputChunk()
		n := in.GetSize()
		if n == 0 {
			return nil
		}
		cols := make([]column, in.ColumnCount())
		for i := range cols {
			vec, err := in.GetVector(i)
			if err != nil {
				return slow(ctx, st)
			}
			mv, ok := rawVector(vec)
			if !ok {
				return slow(ctx, st)
			}
			switch vectorType(mv) {
			case mapping.TypeDouble:
				cols[i].f = unsafe.Slice((*float64)(mapping.VectorGetData(mv)), n)
				cols[i].mask = mapping.VectorGetValidity(mv)
			case mapping.TypeVarchar:
				view, err := duckdb.GetVectorView[string](vec)
				if err != nil {
					return slow(ctx, st)
				}
				cols[i].s = &view
			default:
				return slow(ctx, st)
			}
		}
		res := st.GetResultVector()
		var out []float64
		var outMask unsafe.Pointer
		var outMV mapping.Vector
		var sw duckdb.VectorWriter[string]
		if stringResult {
			var err error
			if sw, err = duckdb.GetVectorWriter[string](res); err != nil {
				return slow(ctx, st)
			}
		} else {
			var ok bool
			if outMV, ok = rawVector(res); !ok || vectorType(outMV) != mapping.TypeDouble {
				return slow(ctx, st)
			}
			out = unsafe.Slice((*float64)(mapping.VectorGetData(outMV)), n)
			outMask = mapping.VectorGetValidity(outMV)
		}
		fn := newFn()
		fs := make([]float64, len(cols))
		ss := make([]string, len(cols))
	rows:
		for r := range n {
			for c := range cols {
				if col := &cols[c]; col.s != nil {
					v, valid, err := col.s.GetValueBorrowed(r)
					if err != nil {
						return nameErr(name, err)
					}
					if !valid {
						continue rows // default NULL handling nulls this row afterwards
					}
					ss[c] = v
				} else {
					if !rowValid(col.mask, r) {
						continue rows
					}
					fs[c] = col.f[r]
				}
			}
			fv, sv, ok, err := fn(fs, ss)
			if err != nil {
				return nameErr(name, err)
			}
			switch {
			case stringResult && ok:
				err = sw.Set(r, sv)
			case stringResult:
				err = sw.SetNull(r)
			case !ok:
				if outMask == nil {
					mapping.VectorEnsureValidityWritable(outMV)
					outMask = mapping.VectorGetValidity(outMV)
				}
				setRowValid(outMask, r, false)
			default:
				out[r] = fv
				if outMask != nil {
					setRowValid(outMask, r, true)
				}
			}
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	}}
}
