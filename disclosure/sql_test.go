package disclosure

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"math/rand"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/duckdb/duckdb-go/v2"
)

// TestSQLSurface runs sdc_suppress over several periods in one query (the
// rows of one chunk, decided in parallel) under one and several threads:
// each period's codes must be what SuppressOpts decides for its cells alone,
// in cell order, and a NULL list gives NULL.
func TestSQLSurface(t *testing.T) {
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	c, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := RegisterSQL(c); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ExecContext(ctx, `CREATE TABLE cells (period VARCHAR, k INTEGER, indicator_id VARCHAR, area_level VARCHAR,
		area_code VARCHAR, decile BIGINT, n DOUBLE, pcn VARCHAR, sub_icb VARCHAR, icb VARCHAR, region VARCHAR, imd BIGINT,
		part_of VARCHAR, family VARCHAR, same_as VARCHAR, min_count DOUBLE, zero BOOLEAN, secondary BOOLEAN)`); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{}
	err = c.Raw(func(dc any) error {
		app, err := duckdb.NewAppenderFromConn(dc.(driver.Conn), "", "cells")
		if err != nil {
			return err
		}
		for p := 0; p < 5; p++ {
			period := fmt.Sprintf("2024-%02d", p+1)
			cells := englandCells(int64(p), 60+20*p)
			if p == 3 {
				cells[7].Known = false // a missing count
			}
			want[period] = codes(Suppress(cells, Groups(cells)))
			for k, x := range cells {
				var n any
				if x.Known {
					n = x.N
				}
				if err := app.AppendRow(period, int32(k), x.Indicator, x.Level, x.Code, int64(x.Decile), n, x.PCN, x.SubICB, x.ICB, x.Region,
					int64(x.IMD), x.PartOf, x.Family, x.SameAs, x.Rule.MinCount, x.Rule.Zero, x.Rule.Secondary); err != nil {
					return err
				}
			}
		}
		return app.Close()
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, threads := range []int{1, runtime.NumCPU() + 2} {
		if _, err := c.ExecContext(ctx, fmt.Sprintf("SET threads = %d", threads)); err != nil {
			t.Fatal(err)
		}
		rows, err := c.QueryContext(ctx, `WITH per AS (
			SELECT period, list(concat_ws(chr(9), indicator_id, area_level, area_code, decile, coalesce(CAST(n AS VARCHAR), ''),
				coalesce(pcn, ''), coalesce(sub_icb, ''), coalesce(icb, ''), coalesce(region, ''), imd, coalesce(part_of, ''),
				coalesce(family, ''), coalesce(same_as, ''), coalesce(CAST(min_count AS VARCHAR), ''), CAST(zero AS VARCHAR),
				CAST(secondary AS VARCHAR)) ORDER BY k) AS cells
			FROM cells GROUP BY period
			UNION ALL SELECT '2024-99', NULL)
			SELECT period, sdc_suppress(cells, true) FROM per ORDER BY period`)
		if err != nil {
			t.Fatal(err)
		}
		got := 0
		for rows.Next() {
			var period string
			var code sql.NullString
			if err := rows.Scan(&period, &code); err != nil {
				t.Fatal(err)
			}
			got++
			if period == "2024-99" {
				if code.Valid {
					t.Errorf("threads %d: NULL cells gave %q, want NULL", threads, code.String)
				}
				continue
			}
			if code.String != want[period] {
				t.Errorf("threads %d, %s: sdc_suppress differs from SuppressOpts:\n got %s\nwant %s", threads, period, code.String, want[period])
			}
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		if got != 6 {
			t.Errorf("threads %d: %d rows, want 6", threads, got)
		}
	}
	// a withheld cell is there to find in every period
	for p, w := range want {
		if !strings.ContainsAny(w, "ps") {
			t.Errorf("%s: nothing withheld (%q): the test checks nothing", p, w)
		}
	}
}

// toCells reads the tab-separated cell lines cells.sql builds, a NULL an
// empty field (a missing count, the default rule), and names the cell and field
// of a line it cannot read.
func TestToCells(t *testing.T) {
	line := func(f ...string) string { return strings.Join(f, "\t") }
	good := []any{
		line("ref_rate_per_1000", "practice", "A81001", "0", "12.0", "U1", "S1", "I1", "R1", "3", "", "", "", "8.0", "false", "true"),
		line("ref_2ww_rate_per_1000", "icb", "I1", "4", "", "", "", "", "", "0", "ref_rate_per_1000", "priority", "", "", "true", "false"),
	}
	cells, err := toCells(good)
	if err != nil {
		t.Fatal(err)
	}
	want := []Cell{
		{Indicator: "ref_rate_per_1000", Level: "practice", Code: "A81001", N: 12, Known: true, PCN: "U1", SubICB: "S1", ICB: "I1", Region: "R1",
			IMD: 3, Rule: Rule{MinCount: 8, Secondary: true}},
		{Indicator: "ref_2ww_rate_per_1000", Level: "icb", Code: "I1", Decile: 4, PartOf: "ref_rate_per_1000", Family: "priority",
			Rule: Rule{MinCount: 8, Zero: true}},
	}
	for i := range want {
		if cells[i] != want[i] {
			t.Errorf("cell %d = %+v, want %+v", i+1, cells[i], want[i])
		}
	}
	for _, c := range []struct {
		name string
		in   any
		want string
	}{
		{"not a list", "x", "want a list"},
		{"not a line", []any{int64(1)}, "cell 1 is int64"},
		{"too few fields", []any{good[0], line("a", "icb", "I1")}, "cell 2: want 16 tab-separated fields"},
		{"too many fields", []any{good[0].(string) + "\tx"}, "cell 1: want 16"},
		{"bad count", []any{strings.Replace(good[0].(string), "12.0", "twelve", 1)}, "cell 1: n:"},
		{"bad decile", []any{line("i", "icb", "I1", "x", "1", "", "", "", "", "0", "", "", "", "", "", "")}, "cell 1: decile"},
		{"no level", []any{line("i", "ward", "W1", "0", "1", "", "", "", "", "0", "", "", "", "", "", "")}, "area_level"},
	} {
		if _, err := toCells(c.in); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %v, want one containing %q", c.name, err, c.want)
		}
	}
}

// suppressInKeyOrder gives each cell what SuppressOpts gives it, whatever
// the order the cells come in (sdc_suppress's lists are not sorted), and
// leaves the cells in that order.
func TestSuppressInKeyOrder(t *testing.T) {
	cells := englandCells(4, 300)
	want := map[string]string{}
	for i, st := range SuppressOpts(cells, Groups(cells), Options{Audit: true}) {
		want[cells[i].String()] = st
	}
	withheld := 0
	for _, st := range want {
		if st == Secondary {
			withheld++
		}
	}
	if withheld == 0 {
		t.Fatal("no secondary cells: the test shows nothing")
	}
	for seed := range int64(3) {
		shuffled := slices.Clone(cells)
		rand.New(rand.NewSource(seed)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		before := slices.Clone(shuffled)
		got := suppressInKeyOrder(shuffled, Options{Audit: true})
		if !slices.Equal(before, shuffled) {
			t.Fatalf("seed %d: the cells are not left in their order (they are sorted in place meanwhile)", seed)
		}
		for i, st := range got {
			if k := shuffled[i].String(); want[k] != st {
				t.Fatalf("seed %d: %s is %q in key order, %q in input order", seed, k, st, want[k])
			}
		}
	}
}
