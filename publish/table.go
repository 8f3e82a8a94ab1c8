package publish

import (
	"fmt"
)

// table holds one pack's rows of one section, column by column (a region
// pack has a few hundred thousand indicator rows: typed columns keep that
// compact). Rows keep the query's order.
type table struct {
	sec  *Section
	cols []column
	n    int
	// withheld[r] is why row r's SDC columns are withheld ("" when shown).
	withheld []string
}

type column struct {
	f  []float64
	i  []int64
	s  []string
	b  []bool
	ok []bool // not NULL
}

func newTable(sec *Section) *table {
	return &table{sec: sec, cols: make([]column, len(sec.Columns))}
}

func (t *table) idx(name string) int {
	i := t.sec.col(name)
	if i < 0 {
		panic(fmt.Sprintf("publish: section %s has no column %s", t.sec.Name, name)) // a spec bug, caught by the tests
	}
	return i
}

// str is a VARCHAR cell, "" when NULL.
func (t *table) str(r int, name string) string { return t.strAt(r, t.idx(name)) }

// strAt is str by column index.
func (t *table) strAt(r, i int) string {
	c := &t.cols[i]
	if c.s == nil || !c.ok[r] {
		return ""
	}
	return c.s[r]
}

// num is a numeric cell (DOUBLE, BIGINT or INTEGER), already rounded to
// its column's precision; withheld cells read as missing.
func (t *table) num(r int, name string) Num { return t.numAt(r, t.idx(name)) }

// numAt is num by column index.
func (t *table) numAt(r, i int) Num {
	c := &t.cols[i]
	if !c.ok[r] || (t.sec.Columns[i].SDC && t.withheld[r] != "") {
		return Num{}
	}
	if c.f != nil {
		return num(c.f[r])
	}
	return num(float64(c.i[r]))
}
