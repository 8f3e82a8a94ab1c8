package disclosure

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"runtime"
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
			SELECT period, list({'indicator_id': indicator_id, 'area_level': area_level, 'area_code': area_code, 'decile': decile,
				'n': n, 'pcn': pcn, 'sub_icb': sub_icb, 'icb': icb, 'region': region, 'imd': imd, 'part_of': part_of,
				'family': family, 'same_as': same_as, 'min_count': min_count, 'zero': zero, 'secondary': secondary} ORDER BY k) AS cells
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
