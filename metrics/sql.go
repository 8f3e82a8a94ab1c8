package metrics

import (
	"cmp"
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math"
	"math/big"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/duckdb/duckdb-go/v2"
)

// The SQL surface: DuckDB scalar functions over the methods in this package.
// Confidence defaults to 0.95 and may be given as 0.95 or 95. NULL in gives
// NULL out (except compare_label, which reads a NULL limit as missing);
// missing results (a negative Byar's lower limit) are NULL; invalid input is
// a SQL error naming the function.

type scalarUDF struct {
	cfg  duckdb.ScalarFuncConfig
	exec duckdb.ScalarFuncExecutor
}

func (s *scalarUDF) Config() duckdb.ScalarFuncConfig     { return s.cfg }
func (s *scalarUDF) Executor() duckdb.ScalarFuncExecutor { return s.exec }

// rowFn computes one row; a fresh one is made per chunk so it may cache
// (e.g. z for the last confidence level) without locking.
type rowFn func(args []driver.Value) (any, error)

// nameErr prefixes err with the SQL function name unless it already says it.
func nameErr(name string, err error) error {
	if strings.Contains(err.Error(), name+":") {
		return err
	}
	return fmt.Errorf("%s: %w", name, err)
}

func chunkExec(name string, newFn func() rowFn) duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(ctx context.Context, st *duckdb.ChunkIteratorState) error {
		fn := newFn()
		args := make([]driver.Value, st.ColumnCount())
		for row, err := range st.Rows() {
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			// Rows of sii or spc_xmr can take milliseconds: stop when the
			// query is cancelled.
			if ctx != nil && ctx.Err() != nil {
				return fmt.Errorf("%s: %w", name, ctx.Err())
			}
			for i := range args {
				args[i] = *row.GetValuePtr(i)
			}
			v, err := fn(args)
			if err != nil {
				return nameErr(name, err)
			}
			if err := row.SetResult(v); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
		}
		return nil
	}}
}

// parallelExec runs a row function on the rows of a chunk concurrently, for
// functions that take milliseconds a row (sii, spc_xmr, concentration_index,
// nearest_peers):
// DuckDB hands a GROUP BY's few dozen results to one call, which would
// otherwise use one core. Each row is computed exactly as the row path
// would (its own seed), results are set in row order and the first error
// by row wins, so the output is the same whatever the scheduling.
//
// out, if set, writes the chunk's results into the result vector at once
// (see nestedOut).
//
// special: the function takes NULL arguments itself (SpecialNullHandling),
// so a row with one is computed like any other.
func parallelExec(name string, newFn func() rowFn, out *nestedOut, special bool) duckdb.ScalarFuncExecutor {
	return duckdb.ScalarFuncExecutor{ChunkContextExecutor: func(ctx context.Context, st *duckdb.ChunkIteratorState) error {
		if ctx == nil {
			ctx = context.Background()
		}
		// Read from the chunk directly, as Rows() does (which skips a row
		// with a NULL argument, its result NULL, unless the function is
		// special), keeping each row's place for writing in place.
		var rows [][]driver.Value
		var at []int
		in := st.GetInputChunk()
	chunk:
		for r := range in.GetSize() {
			args := make([]driver.Value, in.ColumnCount())
			for i := range args {
				v, err := in.GetValue(i, r)
				if err != nil {
					return fmt.Errorf("%s: %w", name, err)
				}
				if v == nil && !special {
					continue chunk
				}
				args[i] = v
			}
			rows, at = append(rows, args), append(at, r)
		}
		res := make([]any, len(rows))
		errs := make([]error, len(rows))
		next := atomic.Int64{}
		var wg sync.WaitGroup
		for range min(runtime.GOMAXPROCS(0), len(rows)) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				fn := newFn()
				for {
					i := int(next.Add(1) - 1)
					if i >= len(rows) {
						return
					}
					if err := ctx.Err(); err != nil {
						errs[i] = err
						continue
					}
					res[i], errs[i] = fn(rows[i])
				}
			}()
		}
		wg.Wait()
		for _, err := range errs {
			if err != nil {
				return nameErr(name, err)
			}
		}
		if out != nil {
			chunk := make([]any, in.GetSize())
			for k, r := range at {
				chunk[r] = res[k]
			}
			if mv, ok := rawVector(st.GetResultVector()); ok && out.write(mv, chunk) {
				return nil
			}
			for i := range res {
				res[i] = out.value(res[i])
			}
		}
		i := 0
		for row, err := range st.Rows() {
			if err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			if err := row.SetResult(res[i]); err != nil {
				return fmt.Errorf("%s: %w", name, err)
			}
			i++
		}
		return nil
	}}
}

type sqlTypes struct {
	double, varchar, bigint, boolean, doubleList duckdb.TypeInfo
	sii, spcList, od, meanCI, dsr, spcSummary    duckdb.TypeInfo
	// nearest_peers and concentration_index
	varcharList, doubleListList, peerList, conc duckdb.TypeInfo
}

func newSQLTypes() (sqlTypes, error) {
	var t sqlTypes
	var err error
	mk := func(typ duckdb.Type) duckdb.TypeInfo {
		if err != nil {
			return nil
		}
		var ti duckdb.TypeInfo
		ti, err = duckdb.NewTypeInfo(typ)
		return ti
	}
	t.double = mk(duckdb.TYPE_DOUBLE)
	t.varchar = mk(duckdb.TYPE_VARCHAR)
	t.bigint = mk(duckdb.TYPE_BIGINT)
	t.boolean = mk(duckdb.TYPE_BOOLEAN)
	if err != nil {
		return t, err
	}
	if t.doubleList, err = duckdb.NewListInfo(t.double); err != nil {
		return t, err
	}
	entries := func(typ duckdb.TypeInfo, names ...string) ([]duckdb.StructEntry, error) {
		var out []duckdb.StructEntry
		for _, n := range names {
			e, err := duckdb.NewStructEntry(typ, n)
			if err != nil {
				return nil, err
			}
			out = append(out, e)
		}
		return out, nil
	}
	se, err := entries(t.double, "sii", "sii_lower", "sii_upper", "rii", "rii_lower", "rii_upper", "intercept")
	if err != nil {
		return t, err
	}
	if t.sii, err = duckdb.NewStructInfo(se[0], se[1:]...); err != nil {
		return t, err
	}
	structOf := func(doubles []string, bigints ...string) (duckdb.TypeInfo, error) {
		e, err := entries(t.double, doubles...)
		if err != nil {
			return nil, err
		}
		b, err := entries(t.bigint, bigints...)
		if err != nil {
			return nil, err
		}
		e = append(e, b...)
		return duckdb.NewStructInfo(e[0], e[1:]...)
	}
	if t.od, err = structOf([]string{"target", "phi", "tau2"}, "units"); err != nil {
		return t, err
	}
	if t.meanCI, err = structOf([]string{"mean", "lower", "upper", "sd"}, "n"); err != nil {
		return t, err
	}
	if t.dsr, err = structOf([]string{"value", "lower", "upper"}); err != nil {
		return t, err
	}
	ss, err := entries(t.varchar, "variation_icon", "assurance")
	if err != nil {
		return t, err
	}
	if t.spcSummary, err = duckdb.NewStructInfo(ss[0], ss[1:]...); err != nil {
		return t, err
	}
	pe, err := entries(t.double, "value", "mean", "lpl", "upl", "near_lpl", "near_upl")
	if err != nil {
		return t, err
	}
	pt, err := duckdb.NewStructEntry(t.varchar, "point_type")
	if err != nil {
		return t, err
	}
	pe = append(pe, pt)
	spcStruct, err := duckdb.NewStructInfo(pe[0], pe[1:]...)
	if err != nil {
		return t, err
	}
	if t.spcList, err = duckdb.NewListInfo(spcStruct); err != nil {
		return t, err
	}
	if t.varcharList, err = duckdb.NewListInfo(t.varchar); err != nil {
		return t, err
	}
	if t.doubleListList, err = duckdb.NewListInfo(t.doubleList); err != nil {
		return t, err
	}
	ids, err := entries(t.varchar, "id", "peer")
	if err != nil {
		return t, err
	}
	rank, err := duckdb.NewStructEntry(t.bigint, "rank")
	if err != nil {
		return t, err
	}
	dist, err := duckdb.NewStructEntry(t.double, "distance")
	if err != nil {
		return t, err
	}
	peerStruct, err := duckdb.NewStructInfo(ids[0], ids[1], rank, dist)
	if err != nil {
		return t, err
	}
	if t.peerList, err = duckdb.NewListInfo(peerStruct); err != nil {
		return t, err
	}
	t.conc, err = structOf([]string{"ci", "ci_lower", "ci_upper"})
	return t, err
}

func f64(v driver.Value) (float64, error) {
	switch x := v.(type) {
	case float64:
		return x, nil
	case float32:
		return float64(x), nil
	case int64:
		return float64(x), nil
	case int32:
		return float64(x), nil
	case int16:
		return float64(x), nil
	case int8:
		return float64(x), nil
	case uint64:
		return float64(x), nil
	case uint32:
		return float64(x), nil
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, nil
	case nil:
		return math.NaN(), nil
	}
	return 0, fmt.Errorf("%w: unexpected argument type %T", ErrInvalid, v)
}

func floatList(name string, v driver.Value) ([]float64, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("%w: %s: want a list of numbers, got %T", ErrInvalid, name, v)
	}
	out := make([]float64, len(l))
	for i, e := range l {
		if e == nil {
			return nil, fmt.Errorf("%w: %s: element %d is NULL", ErrInvalid, name, i+1)
		}
		f, err := f64(e)
		if err != nil {
			return nil, err
		}
		out[i] = f
	}
	return out, nil
}

func nullIfNaN(f float64) any {
	if math.IsNaN(f) {
		return nil
	}
	return f
}

// zCache remembers z for the last confidence level seen.
type zCache struct {
	raw, c, z float64
	ok        bool
}

func (zc *zCache) get(raw float64) (c, z float64, err error) {
	if zc.ok && raw == zc.raw {
		return zc.c, zc.z, nil
	}
	c, err = NormConfidence(raw)
	if err != nil {
		return 0, 0, err
	}
	zc.raw, zc.c, zc.z, zc.ok = raw, c, Z(c), true
	return c, zc.z, nil
}

// optConf returns the optional confidence argument at i (default 0.95).
func optConf(args []float64, i int) float64 {
	if i >= len(args) {
		return 0.95
	}
	return args[i]
}

// udfSet describes one SQL name with its overloads: fixed leading types and
// optional trailing ones, all sharing one row function.
type udfSet struct {
	name     string
	fixed    []duckdb.TypeInfo
	optional []duckdb.TypeInfo
	result   duckdb.TypeInfo
	special  bool // NULL handling done by the function
	newFn    func() rowFn
	// kernel, if set, runs vectorised (DOUBLE/VARCHAR arguments and result);
	// float is the same for DOUBLE arguments and result only. Vectorised
	// functions handle NULLs themselves (NULL in, NULL out), which spares
	// duckdb-go a second pass over every row.
	kernel func() kernelFn
	float  func() floatRowFn
	// prep binds constant VARCHAR arguments for the DOUBLE loop (see vecExec).
	prep func(s []string) (floatRowFn, error)
	// parallel runs newFn on a chunk's rows concurrently (slow rows).
	parallel bool
	// nested writes a parallel function's results in place (see nestedOut).
	nested *nestedOut
	// nullNaN: the kernel takes NULL arguments as NaN or "" (compare_label
	// reads a NULL limit as missing).
	nullNaN      bool
	stringResult bool
}

func (u udfSet) register(c *sql.Conn) error {
	var fns []duckdb.ScalarFunc
	if u.nested != nil && !u.parallel {
		return fmt.Errorf("register %s: in-place results need a parallel function", u.name)
	}
	for k := 0; k <= len(u.optional); k++ {
		in := append(append([]duckdb.TypeInfo{}, u.fixed...), u.optional[:k]...)
		exec, special := chunkExec(u.name, u.newFn), u.special
		switch {
		case u.parallel:
			exec = parallelExec(u.name, u.newFn, u.nested, u.special)
		case u.float != nil:
			exec, special = vecExec(u.name, false, false, floatKernel(u.float), u.float, nil), true
		case u.kernel != nil:
			exec, special = vecExec(u.name, u.stringResult, u.nullNaN, u.kernel, nil, u.prep), true
		}
		fns = append(fns, &scalarUDF{
			cfg:  duckdb.ScalarFuncConfig{InputTypeInfos: in, ResultTypeInfo: u.result, SpecialNullHandling: special},
			exec: exec,
		})
	}
	if err := duckdb.RegisterScalarUDFSet(c, u.name, fns...); err != nil {
		return fmt.Errorf("register %s: %w", u.name, err)
	}
	return nil
}

// RegisterSQL registers the metrics functions on a DuckDB connection. They
// go into DuckDB's system catalog, so the functions are visible to every
// connection of the same database; registering again replaces them.
func RegisterSQL(c *sql.Conn) error {
	t, err := newSQLTypes()
	if err != nil {
		return fmt.Errorf("metrics sql types: %w", err)
	}
	for _, u := range sqlFunctions(t) {
		if err := u.register(c); err != nil {
			return err
		}
	}
	return nil
}

// SQLFunctionNames lists the registered function names.
func SQLFunctionNames() []string {
	t, err := newSQLTypes()
	if err != nil {
		return nil
	}
	var out []string
	for _, u := range sqlFunctions(t) {
		out = append(out, u.name)
	}
	return out
}

func sqlFunctions(t sqlTypes) []udfSet {
	d, s := t.double, t.varchar
	wilson := func(upper bool) func() floatRowFn {
		return func() floatRowFn {
			var zc zCache
			return func(a []float64) (float64, bool, error) {
				x, n := a[0], a[1]
				c, z, err := zc.get(optConf(a, 2))
				if err != nil {
					return 0, false, err
				}
				if err := checkCount("numerator", x); err != nil {
					return 0, false, err
				}
				if !(n > 0) || math.IsInf(n, 0) {
					return 0, false, invalid("denominator %v: must be positive", n)
				}
				if x > n {
					return 0, false, invalid("numerator %v exceeds denominator %v", x, n)
				}
				if c == 1 {
					if upper {
						return 1, true, nil
					}
					return 0, true, nil
				}
				lo, hi, _ := wilsonZ(x, n, z)
				if upper {
					return hi, true, nil
				}
				return lo, true, nil
			}
		}
	}
	// countRule returns the lower and upper limits of a count; upper says
	// which one the caller needs, so the other may be skipped (NaN).
	type countRule func(x, c, z float64, upper bool) (float64, float64)
	byars := func(x, _, z float64, upper bool) (float64, float64) {
		if upper {
			return math.NaN(), byarsUpperZ(x, z)
		}
		return byarsLowerZ(x, z), math.NaN()
	}
	poisson := func() countRule {
		// Exact limits need a gamma inverse (~1 µs); counts below 10 are
		// nearly always whole numbers, so cache them per confidence level.
		var cacheC float64
		var cache [10][2]float64
		var have [10]bool
		return func(x, c, z float64, upper bool) (float64, float64) {
			if x >= 10 {
				return byars(x, c, z, upper)
			}
			i := int(x)
			if float64(i) != x {
				return exactPoisson(x, c)
			}
			if c != cacheC {
				cacheC, have = c, [10]bool{}
			}
			if !have[i] {
				lo, hi := exactPoisson(x, c)
				cache[i], have[i] = [2]float64{lo, hi}, true
			}
			return cache[i][0], cache[i][1]
		}
	}
	count := func(upper bool, newRule func() countRule) func() floatRowFn {
		return func() floatRowFn {
			var zc zCache
			rule := newRule()
			return func(a []float64) (float64, bool, error) {
				x := a[0]
				c, z, err := zc.get(optConf(a, 1))
				if err != nil {
					return 0, false, err
				}
				if err := checkCount("count", x); err != nil {
					return 0, false, err
				}
				lo, hi := rule(x, c, z, upper)
				v := lo
				if upper {
					v = hi
				}
				return v, !math.IsNaN(v), nil
			}
		}
	}
	fixed := func(r countRule) func() countRule { return func() countRule { return r } }
	// scaledCount divides PHE's count interval by a denominator (× multiplier).
	scaledCount := func(upper, hasMult bool) func() floatRowFn {
		return func() floatRowFn {
			var zc zCache
			rule := poisson()
			return func(a []float64) (float64, bool, error) {
				x, n := a[0], a[1]
				mult, ci := 1.0, 2
				if hasMult {
					mult, ci = a[2], 3
				}
				c, z, err := zc.get(optConf(a, ci))
				if err != nil {
					return 0, false, err
				}
				if err := checkCount("count", x); err != nil {
					return 0, false, err
				}
				if !(n > 0) || math.IsInf(n, 0) {
					return 0, false, invalid("denominator %v: must be positive", n)
				}
				lo, hi := rule(x, c, z, upper)
				v := lo
				if upper {
					v = hi
				}
				return v / n * mult, !math.IsNaN(v), nil
			}
		}
	}
	qofPoints := func() floatRowFn {
		return func(a []float64) (float64, bool, error) {
			p, err := QOFPoints(a[0], a[1], a[2], a[3])
			return p, err == nil, err
		}
	}
	plain := func(f rowFn) func() rowFn { return func() rowFn { return f } }

	return []udfSet{
		{name: "wilson_lower", fixed: []duckdb.TypeInfo{d, d}, optional: []duckdb.TypeInfo{d}, result: d, float: wilson(false)},
		{name: "wilson_upper", fixed: []duckdb.TypeInfo{d, d}, optional: []duckdb.TypeInfo{d}, result: d, float: wilson(true)},
		{name: "byars_lower", fixed: []duckdb.TypeInfo{d}, optional: []duckdb.TypeInfo{d}, result: d, float: count(false, fixed(byars))},
		{name: "byars_upper", fixed: []duckdb.TypeInfo{d}, optional: []duckdb.TypeInfo{d}, result: d, float: count(true, fixed(byars))},
		{name: "poisson_lower", fixed: []duckdb.TypeInfo{d}, optional: []duckdb.TypeInfo{d}, result: d, float: count(false, poisson)},
		{name: "poisson_upper", fixed: []duckdb.TypeInfo{d}, optional: []duckdb.TypeInfo{d}, result: d, float: count(true, poisson)},
		{name: "rate_lower", fixed: []duckdb.TypeInfo{d, d, d}, optional: []duckdb.TypeInfo{d}, result: d, float: scaledCount(false, true)},
		{name: "rate_upper", fixed: []duckdb.TypeInfo{d, d, d}, optional: []duckdb.TypeInfo{d}, result: d, float: scaledCount(true, true)},
		{name: "isr_lower", fixed: []duckdb.TypeInfo{d, d}, optional: []duckdb.TypeInfo{d}, result: d, float: scaledCount(false, false)},
		{name: "isr_upper", fixed: []duckdb.TypeInfo{d, d}, optional: []duckdb.TypeInfo{d}, result: d, float: scaledCount(true, false)},
		{name: "funnel_significance", fixed: []duckdb.TypeInfo{d, d, d}, optional: []duckdb.TypeInfo{s}, result: s, kernel: sqlFunnelSignificance, stringResult: true},
		{name: "funnel_limit", fixed: []duckdb.TypeInfo{d, d, d, s}, optional: []duckdb.TypeInfo{s}, result: d, kernel: sqlFunnelLimit, prep: funnelLimitPrep},
		{name: "compare_label", fixed: []duckdb.TypeInfo{d, d, d, d, d}, optional: []duckdb.TypeInfo{s}, result: s, kernel: sqlCompareLabel, stringResult: true, nullNaN: true},
		{name: "compare_proportion", fixed: []duckdb.TypeInfo{d, d, d}, optional: []duckdb.TypeInfo{s}, result: s, newFn: plain(sqlCompareProportion)},
		{name: "compare_rate", fixed: []duckdb.TypeInfo{d, d, d, d}, optional: []duckdb.TypeInfo{s}, result: s, newFn: plain(sqlCompareRate)},
		{name: "qof_points", fixed: []duckdb.TypeInfo{d, d, d, d}, result: d, float: qofPoints},
		{name: "sii", fixed: []duckdb.TypeInfo{t.doubleList, t.doubleList, t.doubleList, t.doubleList},
			optional: []duckdb.TypeInfo{t.bigint, d, t.boolean, d, t.bigint, t.bigint}, result: t.sii, newFn: plain(sqlSII), parallel: true},
		{name: "normal_quantile", fixed: []duckdb.TypeInfo{d}, result: d, float: quantileFn(0, false, func(a []float64) float64 { return NormalQuantile(a[0]) })},
		{name: "chisq_quantile", fixed: []duckdb.TypeInfo{d, d}, result: d, float: quantileFn(0, false, func(a []float64) float64 { return ChiSquareQuantile(a[0], a[1]) })},
		{name: "t_quantile", fixed: []duckdb.TypeInfo{d, d}, result: d, float: quantileFn(0, true, func(a []float64) float64 { return StudentTQuantile(a[0], a[1]) })},
		{name: "overdispersion", fixed: []duckdb.TypeInfo{t.doubleList, t.doubleList}, optional: []duckdb.TypeInfo{s, d}, result: t.od, newFn: plain(sqlOverdispersion)},
		{name: "funnel_limit_od", fixed: []duckdb.TypeInfo{d, d, d, s, d, d}, optional: []duckdb.TypeInfo{s, s}, result: d, kernel: sqlFunnelLimitOD},
		{name: "funnel_significance_od", fixed: []duckdb.TypeInfo{d, d, d, d, d}, optional: []duckdb.TypeInfo{s, s}, result: s, kernel: sqlFunnelSignificanceOD, stringResult: true},
		{name: "mean_ci", fixed: []duckdb.TypeInfo{t.doubleList}, optional: []duckdb.TypeInfo{d}, result: t.meanCI, newFn: plain(sqlMeanCI)},
		{name: "dsr", fixed: []duckdb.TypeInfo{t.doubleList, t.doubleList, t.doubleList}, optional: []duckdb.TypeInfo{d, d}, result: t.dsr, newFn: plain(sqlDSR)},
		{name: "spc_summary", fixed: []duckdb.TypeInfo{t.doubleList}, optional: []duckdb.TypeInfo{s, d}, result: t.spcSummary, newFn: plain(sqlSPCSummary)},
		{name: "spc_xmr", fixed: []duckdb.TypeInfo{t.doubleList}, optional: []duckdb.TypeInfo{s, t.boolean, t.bigint}, result: t.spcList, newFn: plain(sqlSPC), parallel: true, nested: &spcOut},
		{name: "nearest_peers", fixed: []duckdb.TypeInfo{t.varcharList, t.doubleListList, t.varcharList, s, t.bigint}, result: t.peerList, special: true, newFn: plain(sqlNearestPeers), parallel: true, nested: &peersOut},
		{name: "concentration_index", fixed: []duckdb.TypeInfo{t.doubleList, t.doubleList}, optional: []duckdb.TypeInfo{d, t.bigint, t.bigint}, result: t.conc, newFn: plain(sqlConcentrationIndex), parallel: true},
	}
}

func optString(a []driver.Value, i int, def string) string {
	if i < len(a) {
		if s, ok := a[i].(string); ok {
			return s
		}
	}
	return def
}

// statCache parses a statistic name once per distinct string.
type statCache struct {
	s   string
	st  Statistic
	err error
	ok  bool
}

func (c *statCache) get(s string) (Statistic, error) {
	if !c.ok || s != c.s {
		c.st, c.err = ParseStatistic(s)
		c.s, c.ok = s, true
	}
	return c.st, c.err
}

func sqlFunnelSignificance() kernelFn {
	var sc statCache
	return func(f []float64, s []string) (float64, string, bool, error) {
		stat := "proportion"
		if len(s) > 3 {
			stat = s[3]
		}
		st, err := sc.get(stat)
		if err != nil {
			return 0, "", false, err
		}
		label, err := FunnelSignificance(st, f[0], f[1], f[2])
		return 0, label, err == nil, err
	}
}

func sqlFunnelLimit() kernelFn {
	var sc statCache
	var zc zCache
	var sideS string
	var side Side
	var sideOK bool
	return func(f []float64, s []string) (float64, string, bool, error) {
		if !sideOK || s[3] != sideS {
			var err error
			if side, err = ParseSide(s[3]); err != nil {
				return 0, "", false, err
			}
			sideS, sideOK = s[3], true
		}
		stat := "proportion"
		if len(s) > 4 {
			stat = s[4]
		}
		st, err := sc.get(stat)
		if err != nil {
			return 0, "", false, err
		}
		c, z, err := zc.get(f[2])
		if err != nil {
			return 0, "", false, err
		}
		v, err := funnelLimit(st, f[0], f[1], c, z, side)
		return v, "", err == nil, err
	}
}

// sqlCompareLabel reads a NULL benchmark or limit as missing (NaN) and a
// NULL polarity as no judgement.
// funnelLimitPrep is funnel_limit with its side and statistic bound.
func funnelLimitPrep(s []string) (floatRowFn, error) {
	side, err := ParseSide(s[3])
	if err != nil {
		return nil, err
	}
	stat := "proportion"
	if len(s) > 4 {
		stat = s[4]
	}
	st, err := ParseStatistic(stat)
	if err != nil {
		return nil, err
	}
	var zc zCache
	return func(f []float64) (float64, bool, error) {
		c, z, err := zc.get(f[2])
		if err != nil {
			return 0, false, err
		}
		v, err := funnelLimit(st, f[0], f[1], c, z, side)
		return v, err == nil, err
	}, nil
}

func sqlCompareLabel() kernelFn {
	var ps string
	var pol Polarity
	var have bool
	return func(f []float64, s []string) (float64, string, bool, error) {
		p := ""
		if len(s) > 5 {
			p = s[5]
		}
		if !have || p != ps {
			var err error
			if pol, err = ParsePolarity(p); err != nil {
				return 0, "", false, err
			}
			ps, have = p, true
		}
		return 0, CompareLabel(f[0], f[1], f[2], f[3], f[4], pol), true, nil
	}
}

func sqlCompareProportion(a []driver.Value) (any, error) {
	x, _ := f64(a[0])
	n, _ := f64(a[1])
	b, _ := f64(a[2])
	pol, err := ParsePolarity(optString(a, 3, ""))
	if err != nil {
		return nil, err
	}
	return CompareProportion(x, n, b, pol)
}

func sqlCompareRate(a []driver.Value) (any, error) {
	x, _ := f64(a[0])
	n, _ := f64(a[1])
	m, _ := f64(a[2])
	b, _ := f64(a[3])
	pol, err := ParsePolarity(optString(a, 4, ""))
	if err != nil {
		return nil, err
	}
	return CompareRate(x, n, m, b, pol)
}

func sqlSII(a []driver.Value) (any, error) {
	names := []string{"values", "populations", "lowers", "uppers"}
	lists := make([][]float64, 4)
	for i := range lists {
		var err error
		if lists[i], err = floatList(names[i], a[i]); err != nil {
			return nil, err
		}
	}
	var o SIIOptions
	if len(a) > 4 {
		vt, _ := f64(a[4])
		o.ValueType = int(vt)
	}
	if len(a) > 5 {
		o.Multiplier, _ = f64(a[5])
		if o.Multiplier == 0 {
			return nil, invalid("sii: multiplier 0")
		}
	}
	if len(a) > 6 {
		o.Transform, _ = a[6].(bool)
	}
	if len(a) > 7 {
		o.Confidence, _ = f64(a[7])
		if o.Confidence == 0 {
			return nil, invalid("sii: confidence 0")
		}
	}
	if len(a) > 8 {
		r, _ := f64(a[8])
		o.Reps = int(r)
		if o.Reps == 0 {
			return nil, invalid("sii: 0 repetitions")
		}
	}
	if len(a) > 9 {
		seed, _ := f64(a[9])
		o.Seed = uint64(int64(seed))
		if s, ok := a[9].(int64); ok {
			o.Seed = uint64(s)
		}
	}
	r, err := SII(context.Background(), lists[0], lists[1], lists[2], lists[3], o)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"sii": r.SII, "sii_lower": r.SIILower, "sii_upper": r.SIIUpper,
		"rii": nullIfNaN(r.RII), "rii_lower": nullIfNaN(r.RIILower), "rii_upper": nullIfNaN(r.RIIUpper),
		"intercept": r.Intercept,
	}, nil
}

func sqlSPC(a []driver.Value) (any, error) {
	vals, err := floatList("values", a[0])
	if err != nil {
		return nil, err
	}
	var o SPCOptions
	if o.Improvement, err = ParseImprovement(optString(a, 1, "neutral")); err != nil {
		return nil, err
	}
	if len(a) > 2 {
		if screen, ok := a[2].(bool); ok {
			o.NoScreen = !screen
		}
	}
	if len(a) > 3 {
		f, _ := f64(a[3])
		o.FixAfter = int(f)
	}
	r, err := XmR(vals, o)
	if err != nil {
		return nil, err
	}
	return spcPoints(r.Points), nil
}

// quantileFn wraps a distribution quantile; p outside [0, 1] or degrees of
// freedom below minDF (strictly, when open) are errors.
func quantileFn(minDF float64, open bool, q func(a []float64) float64) func() floatRowFn {
	return func() floatRowFn {
		return func(a []float64) (float64, bool, error) {
			if !(a[0] >= 0 && a[0] <= 1) {
				return 0, false, invalid("probability %v outside [0, 1]", a[0])
			}
			if len(a) > 1 && (!(a[1] >= minDF) || (open && a[1] == minDF) || math.IsInf(a[1], 0)) {
				return 0, false, invalid("degrees of freedom %v out of range", a[1])
			}
			return q(a), true, nil
		}
	}
}

func sqlOverdispersion(a []driver.Value) (any, error) {
	x, err := floatList("numerators", a[0])
	if err != nil {
		return nil, err
	}
	n, err := floatList("denominators", a[1])
	if err != nil {
		return nil, err
	}
	st, err := ParseStatistic(optString(a, 2, "proportion"))
	if err != nil {
		return nil, err
	}
	target := math.NaN()
	if len(a) > 3 {
		target, _ = f64(a[3])
	}
	// The lists come from an aggregate, whose order DuckDB does not fix, and
	// the sums add in order: the units are sorted first, so the answer is the
	// same to the bit whatever order they arrive in. (An ORDER BY inside the
	// aggregate did the same at about four times the cost: England's
	// core.indicator_values spent 13 s of CPU sorting its lists.)
	xs, ns := sortedUnits(x, n)
	od, tgt, err := FunnelOverdispersion(st, xs, ns, target)
	if err != nil {
		// again in the order given, so that the error names the unit as the caller numbers it
		_, _, err = FunnelOverdispersion(st, x, n, target)
		return nil, err
	}
	return map[string]any{"target": tgt, "phi": od.Phi, "tau2": od.Tau2, "units": int64(od.N)}, nil
}

// sortedUnits returns the pairs (x[i], n[i]) sorted by x, then n (NaN
// first); the slices as given when their lengths differ.
func sortedUnits(x, n []float64) ([]float64, []float64) {
	if len(x) != len(n) {
		return x, n
	}
	type unit struct{ x, n float64 }
	us := make([]unit, len(x))
	for i := range x {
		us[i] = unit{x[i], n[i]}
	}
	slices.SortFunc(us, func(a, b unit) int {
		if c := cmp.Compare(a.x, b.x); c != 0 {
			return c
		}
		return cmp.Compare(a.n, b.n)
	})
	xs, ns := make([]float64, len(us)), make([]float64, len(us))
	for i, u := range us {
		xs[i], ns[i] = u.x, u.n
	}
	return xs, ns
}

// odArgs reads the optional statistic and method strings at i and i+1.
func odArgs(s []string, i int) (Statistic, Adjustment, error) {
	stat, method := "proportion", "additive"
	if len(s) > i {
		stat = s[i]
	}
	if len(s) > i+1 {
		method = s[i+1]
	}
	st, err := ParseStatistic(stat)
	if err != nil {
		return 0, 0, err
	}
	adj, err := ParseAdjustment(method)
	return st, adj, err
}

func sqlFunnelLimitOD() kernelFn {
	var zc zCache
	return func(f []float64, s []string) (float64, string, bool, error) {
		target, n, phi, tau2 := f[0], f[1], f[4], f[5]
		side, err := ParseSide(s[3])
		if err != nil {
			return 0, "", false, err
		}
		st, adj, err := odArgs(s, 6)
		if err != nil {
			return 0, "", false, err
		}
		_, z, err := zc.get(f[2])
		if err != nil {
			return 0, "", false, err
		}
		if !(n > 0) || !(target > 0) || phi < 0 || tau2 < 0 {
			return 0, "", false, invalid("target %v, denominator %v, phi %v, tau2 %v", target, n, phi, tau2)
		}
		od := Overdispersion{Phi: phi, Tau2: tau2}
		d := z * od.adjustSE(NullSE(st, target, n), adj)
		if side == Lower {
			return math.Max(0, target-d), "", true, nil
		}
		if st == StatProportion {
			return math.Min(1, target+d), "", true, nil
		}
		return target + d, "", true, nil
	}
}

func sqlFunnelSignificanceOD() kernelFn {
	return func(f []float64, s []string) (float64, string, bool, error) {
		x, n, target, phi, tau2 := f[0], f[1], f[2], f[3], f[4]
		st, adj, err := odArgs(s, 5)
		if err != nil {
			return 0, "", false, err
		}
		if err := checkCount("numerator", x); err != nil {
			return 0, "", false, err
		}
		if !(n > 0) || !(target > 0) || phi < 0 || tau2 < 0 {
			return 0, "", false, invalid("denominator %v, target %v, phi %v, tau2 %v", n, target, phi, tau2)
		}
		od := Overdispersion{Phi: phi, Tau2: tau2}
		return 0, od.AdjustedSignificance(x/n, NullSE(st, target, n), target, adj), true, nil
	}
}

func sqlMeanCI(a []driver.Value) (any, error) {
	v, err := floatList("values", a[0])
	if err != nil {
		return nil, err
	}
	c := 0.95
	if len(a) > 1 {
		c, _ = f64(a[1])
	}
	m, err := Mean(v, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"mean": m.Mean, "lower": m.Lower, "upper": m.Upper, "sd": m.SD, "n": int64(m.Count)}, nil
}

func sqlDSR(a []driver.Value) (any, error) {
	names := []string{"counts", "populations", "standard populations"}
	l := make([][]float64, 3)
	for i := range l {
		var err error
		if l[i], err = floatList(names[i], a[i]); err != nil {
			return nil, err
		}
	}
	mult, c := 100000.0, 0.95
	if len(a) > 3 {
		mult, _ = f64(a[3])
	}
	if len(a) > 4 {
		c, _ = f64(a[4])
	}
	r, err := DSR(l[0], l[1], l[2], mult, c)
	if err != nil {
		return nil, err
	}
	return map[string]any{"value": nullIfNaN(r.Value), "lower": nullIfNaN(r.Lower), "upper": nullIfNaN(r.Upper)}, nil
}

func sqlSPCSummary(a []driver.Value) (any, error) {
	vals, err := floatList("values", a[0])
	if err != nil {
		return nil, err
	}
	var o SPCOptions
	if o.Improvement, err = ParseImprovement(optString(a, 1, "neutral")); err != nil {
		return nil, err
	}
	if len(a) > 2 {
		o.Target, _ = f64(a[2])
		o.HasTarget = true
	}
	r, err := XmR(vals, o)
	if err != nil {
		return nil, err
	}
	var assurance any
	if r.Assurance != "" {
		assurance = r.Assurance
	}
	return map[string]any{"variation_icon": r.VariationIcon, "assurance": assurance}, nil
}
