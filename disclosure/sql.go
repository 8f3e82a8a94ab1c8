package disclosure

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"log/slog"
	"runtime"
	"strconv"
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
// cells). Each cell is one VARCHAR of cellFields' 16 fields in order,
// separated by tabs (chr(9)), an empty field for NULL:
//
//	indicator_id, area_level, area_code; decile (0: the area); n (''
//	missing); pcn, sub_icb, icb, region and imd (practice cells: their
//	areas and counted decile, 0 for none); part_of, family, same_as;
//	min_count, zero, secondary (the indicator's rule; true/false).
//
// Lines rather than structs: duckdb-go reads a struct into a map of boxed
// values, and at England scale (270,000 cells a period) that alone took
// longer than DuckDB's whole share of the query. audit BOOLEAN runs the
// whole-system audit (SuppressOpts); off only in the attack tests (SQL
// variable disclosure_audit).
var cellFields = [...]string{"indicator_id", "area_level", "area_code", "decile", "n", "pcn", "sub_icb", "icb", "region",
	"imd", "part_of", "family", "same_as", "min_count", "zero", "secondary"}

type udf struct {
	cfg  duckdb.ScalarFuncConfig
	exec duckdb.ScalarFuncExecutor
}

func (u *udf) Config() duckdb.ScalarFuncConfig     { return u.cfg }
func (u *udf) Executor() duckdb.ScalarFuncExecutor { return u.exec }

// RegisterSQL registers sdc_suppress on a DuckDB connection (for the whole
// database, like the metrics functions).
func RegisterSQL(c *sql.Conn) error {
	line, err := duckdb.NewTypeInfo(duckdb.TYPE_VARCHAR)
	if err != nil {
		return fmt.Errorf("sdc_suppress: %w", err)
	}
	in, err := duckdb.NewListInfo(line)
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
		// A core first, then the cells: a period read while the others
		// are decided would hold its cells and lines meanwhile.
		sem <- struct{}{}
		cells, err := toCells(v)
		if err != nil {
			<-sem
			return err
		}
		valid[row] = true
		busy.Add(1)
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer func() {
				busy.Add(-1)
				<-sem
				if r := recover(); r != nil {
					errs[row] = fmt.Errorf("sdc_suppress: row %d: %v", row+1, r)
				}
			}()
			t0 := time.Now()
			var st Stats
			res[row] = codes(suppressInKeyOrder(cells, Options{Audit: audit, Stats: &st, Stop: func() bool { return ctx.Err() != nil }}))
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

// suppressInKeyOrder is SuppressOpts on the cells sorted by key (indicator,
// level, code, decile), its answer given back in the input's order. The
// answer does not depend on the order, but the work does: a relation's
// parts then sit side by side in every array the audit walks, and an
// England month handed over in the order DuckDB's aggregate met its cells
// took 7.0 s instead of 4.9 s (the same withheld cells, the same rounds).
//
// The cells are sorted in place and put back in their order before it
// returns, where a sorted copy held a second copy of every cell (54 MB of
// an England month, beside the audit's heap).
func suppressInKeyOrder(cells []Cell, o Options) []string {
	perm := keyOrder(cells)
	inv := make([]int, len(perm)) // cell i is inv[i]-th in key order
	for k, i := range perm {
		inv[i] = k
	}
	permute(cells, perm) // cells[k] = the cell at perm[k]; perm used up
	state := SuppressOpts(cells, Groups(cells), o)
	out := make([]string, len(cells))
	for i, k := range inv {
		out[i] = state[k]
	}
	permute(cells, inv) // back in the input's order
	return out
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

// toCells reads one sdc_suppress list of cell lines.
func toCells(v driver.Value) ([]Cell, error) {
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("sdc_suppress: want a list of cells, got %T", v)
	}
	cells := make([]Cell, len(list))
	var f [len(cellFields)]string
	for i, x := range list {
		line, ok := x.(string)
		if !ok {
			return nil, fmt.Errorf("sdc_suppress: cell %d is %T, not a line of fields", i+1, x)
		}
		n := 0
		for n < len(f)-1 {
			j := strings.IndexByte(line, '\t')
			if j < 0 {
				break
			}
			f[n], line = line[:j], line[j+1:]
			n++
		}
		f[n] = line
		if n != len(f)-1 || strings.IndexByte(line, '\t') >= 0 {
			return nil, fmt.Errorf("sdc_suppress: cell %d: want %d tab-separated fields (%s)", i+1, len(f), cellFieldNames())
		}
		c := Cell{Indicator: f[0], Level: f[1], Code: f[2], PCN: f[5], SubICB: f[6], ICB: f[7], Region: f[8],
			PartOf: f[10], Family: f[11], SameAs: f[12]}
		var err error
		if c.Decile, err = intField(f[3]); err != nil {
			return nil, fmt.Errorf("sdc_suppress: cell %d: decile: %w", i+1, err)
		}
		if c.IMD, err = intField(f[9]); err != nil {
			return nil, fmt.Errorf("sdc_suppress: cell %d: imd: %w", i+1, err)
		}
		if f[4] != "" {
			if c.N, err = strconv.ParseFloat(f[4], 64); err != nil {
				return nil, fmt.Errorf("sdc_suppress: cell %d: n: %w", i+1, err)
			}
			c.Known = true
		}
		c.Rule.MinCount = 8
		if f[13] != "" {
			if c.Rule.MinCount, err = strconv.ParseFloat(f[13], 64); err != nil {
				return nil, fmt.Errorf("sdc_suppress: cell %d: min_count: %w", i+1, err)
			}
		}
		c.Rule.Zero, c.Rule.Secondary = f[14] == "true", f[15] == "true"
		if c.Indicator == "" || rank(c.Level) < 0 {
			return nil, fmt.Errorf("sdc_suppress: cell %d: indicator_id and an area_level of %v are required", i+1, levels)
		}
		cells[i] = c
	}
	return cells, nil
}

func intField(s string) (int, error) {
	if s == "" {
		return 0, nil
	}
	return strconv.Atoi(s)
}

func cellFieldNames() string { return strings.Join(cellFields[:], ", ") }
