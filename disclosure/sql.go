package disclosure

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/duckdb/duckdb-go/v2"
)

// SQL surface: sdc_suppress(cells, audit) over one list of cells (every disclosure-
// controlled count of one period, so relations across indicators, levels and
// deciles are seen together) returns a string of one character per cell:
// '.' for a published cell, 'p' primary, 's' secondary (a string rather than
// a list so the rows of one call, the periods, are decided in parallel and
// written back at once; splitting it into characters lines it up with the
// cells). Each cell is a struct:
//
//	indicator_id, area_level, area_code VARCHAR; decile BIGINT (0: the area);
//	n DOUBLE (NULL: missing); pcn, sub_icb, icb, region VARCHAR and imd
//	BIGINT (practice cells: their areas and counted decile, 0 for none);
//	part_of, family, same_as VARCHAR; min_count DOUBLE, zero, secondary BOOLEAN
//	(the indicator's rule). audit BOOLEAN runs the whole-system audit
//	(SuppressOpts); off only in the attack tests (SQL variable disclosure_audit).
var cellFields = []struct {
	name string
	typ  duckdb.Type
}{
	{"indicator_id", duckdb.TYPE_VARCHAR}, {"area_level", duckdb.TYPE_VARCHAR}, {"area_code", duckdb.TYPE_VARCHAR},
	{"decile", duckdb.TYPE_BIGINT}, {"n", duckdb.TYPE_DOUBLE},
	{"pcn", duckdb.TYPE_VARCHAR}, {"sub_icb", duckdb.TYPE_VARCHAR}, {"icb", duckdb.TYPE_VARCHAR}, {"region", duckdb.TYPE_VARCHAR},
	{"imd", duckdb.TYPE_BIGINT}, {"part_of", duckdb.TYPE_VARCHAR}, {"family", duckdb.TYPE_VARCHAR}, {"same_as", duckdb.TYPE_VARCHAR},
	{"min_count", duckdb.TYPE_DOUBLE}, {"zero", duckdb.TYPE_BOOLEAN}, {"secondary", duckdb.TYPE_BOOLEAN},
}

type udf struct {
	cfg  duckdb.ScalarFuncConfig
	exec duckdb.ScalarFuncExecutor
}

func (u *udf) Config() duckdb.ScalarFuncConfig     { return u.cfg }
func (u *udf) Executor() duckdb.ScalarFuncExecutor { return u.exec }

// RegisterSQL registers sdc_suppress on a DuckDB connection (for the whole
// database, like the metrics functions).
func RegisterSQL(c *sql.Conn) error {
	var entries []duckdb.StructEntry
	for _, f := range cellFields {
		ti, err := duckdb.NewTypeInfo(f.typ)
		if err != nil {
			return fmt.Errorf("sdc_suppress: %w", err)
		}
		e, err := duckdb.NewStructEntry(ti, f.name)
		if err != nil {
			return fmt.Errorf("sdc_suppress: %w", err)
		}
		entries = append(entries, e)
	}
	st, err := duckdb.NewStructInfo(entries[0], entries[1:]...)
	if err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	in, err := duckdb.NewListInfo(st)
	if err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	out, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	bt, err := duckdb.NewTypeInfo(duckdb.TYPE_BOOLEAN)
	if err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	f := &udf{
		cfg:  duckdb.ScalarFuncConfig{InputTypeInfos: []duckdb.TypeInfo{in, bt}, ResultTypeInfo: out},
		exec: duckdb.ScalarFuncExecutor{ChunkContextExecutor: suppressChunk},
	}
	if err := duckdb.RegisterScalarUDF(c, "sdc_suppress", f); err != nil {
		return fmt.Errorf("register sdc_suppress: %w", err)
	}
	return nil
}

// suppressChunk decides the rows (periods) of one chunk in parallel, one
// worker a core: each row's cells are read from DuckDB in turn (the vectors
// are not shared across goroutines), decided by a worker, and all results
// written back in row order at the end. Each row's answer depends on its
// cells alone, so the thread count never changes it.
func suppressChunk(ctx context.Context, st *duckdb.ChunkIteratorState) error {
	in := st.GetInputChunk()
	w, err := duckdb.GetVectorWriter[string](st.GetResultVector())
	if err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	n := in.GetSize()
	res := make([]string, n)
	errs := make([]error, n)
	valid := make([]bool, n)
	sem := make(chan struct{}, runtime.GOMAXPROCS(0))
	var wg sync.WaitGroup
	defer wg.Wait() // no worker outlives the call, whatever it returns
	for row := range n {
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("sdc_suppress: %w", err)
		}
		v, err := in.GetValue(0, row)
		if err != nil {
			return fmt.Errorf("sdc_suppress: %w", err)
		}
		a, err := in.GetValue(1, row)
		if err != nil {
			return fmt.Errorf("sdc_suppress: %w", err)
		}
		if v == nil || a == nil {
			continue // NULL in, NULL out
		}
		audit, _ := a.(bool)
		cells, err := toCells(v)
		if err != nil {
			return err
		}
		valid[row] = true
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				<-sem
				if r := recover(); r != nil {
					errs[row] = fmt.Errorf("sdc_suppress: row %d: %v", row+1, r)
				}
			}()
			t0 := time.Now()
			var st Stats
			res[row] = codes(SuppressOpts(cells, Groups(cells), Options{Audit: audit, Stats: &st, Stop: func() bool { return ctx.Err() != nil }}))
			slog.Debug("sdc_suppress", "cells", len(cells), "withheld", len(cells)-strings.Count(res[row], "."),
				"audit_rounds", st.Rounds, "audit_added", st.Added, "duration", time.Since(t0))
		}()
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	for row := range n {
		if errs[row] != nil {
			return errs[row]
		}
		if !valid[row] {
			continue
		}
		if err := w.Set(row, res[row]); err != nil {
			return fmt.Errorf("sdc_suppress: %w", err)
		}
	}
	return nil
}

// codes is SuppressOpts' answer as sdc_suppress returns it.
func codes(state []string) string {
	b := make([]byte, len(state))
	for i, s := range state {
		switch s {
		case Primary:
			b[i] = 'p'
		case Secondary:
			b[i] = 's'
		default:
			b[i] = '.'
		}
	}
	return string(b)
}

// toCells reads one sdc_suppress list of cell structs.
func toCells(v driver.Value) ([]Cell, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("sdc_suppress: want a list of cells, got %T", v)
	}
	cells := make([]Cell, len(list))
	for i, x := range list {
		m, ok := x.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("sdc_suppress: cell %d is %T, not a struct", i+1, x)
		}
		str := func(k string) string { s, _ := m[k].(string); return s }
		num := func(k string) (float64, bool) {
			switch n := m[k].(type) {
			case float64:
				return n, true
			case int64:
				return float64(n), true
			case int32:
				return float64(n), true
			}
			return 0, false
		}
		flag := func(k string) bool { b, _ := m[k].(bool); return b }
		c := Cell{Indicator: str("indicator_id"), Level: str("area_level"), Code: str("area_code"),
			PCN: str("pcn"), SubICB: str("sub_icb"), ICB: str("icb"), Region: str("region"),
			PartOf: str("part_of"), Family: str("family"), SameAs: str("same_as")}
		d, _ := num("decile")
		imd, _ := num("imd")
		c.Decile, c.IMD = int(d), int(imd)
		c.N, c.Known = num("n")
		mc, ok := num("min_count")
		if !ok {
			mc = 8
		}
		c.Rule = Rule{MinCount: mc, Zero: flag("zero"), Secondary: flag("secondary")}
		if c.Indicator == "" || rank(c.Level) < 0 {
			return nil, fmt.Errorf("sdc_suppress: cell %d: indicator_id and an area_level of %v are required", i+1, levels)
		}
		cells[i] = c
	}
	return cells, nil
}
