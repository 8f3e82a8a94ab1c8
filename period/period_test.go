package period_test

import (
	"context"
	"database/sql"
	"io/fs"
	"testing"

	_ "github.com/duckdb/duckdb-go/v2"

	"github.com/gplens/gplens/period"
	sqlmodels "github.com/gplens/gplens/sql"
)

func TestPeriods(t *testing.T) {
	cases := []struct {
		p             string
		month, year   bool
		yearOf, last  string
		plus1, minus1 string
	}{
		{p: "2024-05", month: true, yearOf: "2024-25", last: "2024-05", plus1: "2024-06", minus1: "2024-04"},
		{p: "2024-04", month: true, yearOf: "2024-25", last: "2024-04", plus1: "2024-05", minus1: "2024-03"},
		{p: "2024-03", month: true, yearOf: "2023-24", last: "2024-03", plus1: "2024-04", minus1: "2024-02"},
		{p: "2024-01", month: true, yearOf: "2023-24", last: "2024-01", plus1: "2024-02", minus1: "2023-12"},
		{p: "2023-12", month: true, yearOf: "2023-24", last: "2023-12", plus1: "2024-01", minus1: "2023-11"},
		{p: "2000-02", month: true, yearOf: "1999-00", last: "2000-02", plus1: "2000-03", minus1: "2000-01"},
		{p: "2022-23", year: true, last: "2023-03"},
		{p: "2012-13", year: true, last: "2013-03"},
		{p: "2098-99", year: true, last: "2099-03"},
		{p: "2099-00"}, // neither, as is_fy
		{p: "2011-12", month: true, yearOf: "2011-12", last: "2011-12", plus1: "2012-01", minus1: "2011-11"}, // is_fy's reading
		{p: "2022-24"},  // not the next year
		{p: "2022-13"},  // neither
		{p: "2022-00"},  // neither
		{p: "2022-3"},   // short
		{p: "2022-033"}, // long
		{p: "2022/03"},
		{p: "20x2-03"},
		{p: "2022-+3"},
		{p: " 2022-03"},
		{p: ""},
	}
	for _, c := range cases {
		if got := period.IsMonth(c.p); got != c.month {
			t.Errorf("IsMonth(%q) = %v, want %v", c.p, got, c.month)
		}
		if got := period.IsYear(c.p); got != c.year {
			t.Errorf("IsYear(%q) = %v, want %v", c.p, got, c.year)
		}
		if got, ok := period.YearOf(c.p); got != c.yearOf || ok != (c.yearOf != "") {
			t.Errorf("YearOf(%q) = %q, %v; want %q", c.p, got, ok, c.yearOf)
		}
		if got, ok := period.LastMonth(c.p); got != c.last || ok != (c.last != "") {
			t.Errorf("LastMonth(%q) = %q, %v; want %q", c.p, got, ok, c.last)
		}
		if got, ok := period.AddMonths(c.p, 1); got != c.plus1 || ok != (c.plus1 != "") {
			t.Errorf("AddMonths(%q, 1) = %q, %v; want %q", c.p, got, ok, c.plus1)
		}
		if got, ok := period.AddMonths(c.p, -1); got != c.minus1 || ok != (c.minus1 != "") {
			t.Errorf("AddMonths(%q, -1) = %q, %v; want %q", c.p, got, ok, c.minus1)
		}
	}
	for _, c := range []struct {
		m    string
		n    int
		want string
	}{
		{"2024-03", -24, "2022-03"}, {"2024-03", 25, "2026-04"}, {"2024-03", 0, "2024-03"},
		{"0000-01", -1, ""}, {"9999-12", 1, ""}, {"0000-01", 0, "0000-01"},
	} {
		if got, ok := period.AddMonths(c.m, c.n); got != c.want || ok != (c.want != "") {
			t.Errorf("AddMonths(%q, %d) = %q, %v; want %q", c.m, c.n, got, ok, c.want)
		}
	}
}

// The models read periods with the macros of sql/functions/periods.sql:
// every month of 1990-2060 and every financial year from 2012-13 (the first
// is_fy tells from a month) to 2060-61 must mean the same in both.
func TestPeriodsAgreeWithSQLMacros(t *testing.T) {
	src, err := fs.ReadFile(sqlmodels.FS(), "functions/periods.sql")
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("duckdb", "")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ctx := context.Background()
	if _, err := db.ExecContext(ctx, string(src)); err != nil {
		t.Fatalf("periods.sql: %v", err)
	}
	rows, err := db.QueryContext(ctx, `
		WITH p AS (
			SELECT strftime(DATE '1990-01-01' + INTERVAL (i) MONTH, '%Y-%m') AS p FROM range(0, 71 * 12) t(i)
			UNION ALL
			SELECT CAST(y AS VARCHAR) || '-' || lpad(CAST((y + 1) % 100 AS VARCHAR), 2, '0') FROM range(2012, 2061) t(y)
		)
		SELECT p, is_fy(p), CASE WHEN NOT is_fy(p) THEN fy_of_month(p) END, period_last_month(p) FROM p ORDER BY p`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	n := 0
	for rows.Next() {
		var p, last string
		var fy bool
		var of sql.NullString
		if err := rows.Scan(&p, &fy, &of, &last); err != nil {
			t.Fatal(err)
		}
		n++
		if got := period.IsYear(p); got != fy {
			t.Errorf("IsYear(%q) = %v, is_fy %v", p, got, fy)
		}
		if got := period.IsMonth(p); got == fy {
			t.Errorf("IsMonth(%q) = %v, is_fy %v", p, got, fy)
		}
		if got, _ := period.YearOf(p); got != of.String {
			t.Errorf("YearOf(%q) = %q, fy_of_month %q", p, got, of.String)
		}
		if got, _ := period.LastMonth(p); got != last {
			t.Errorf("LastMonth(%q) = %q, period_last_month %q", p, got, last)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if want := 71*12 + 49; n != want {
		t.Fatalf("%d periods compared, want %d", n, want)
	}
}
