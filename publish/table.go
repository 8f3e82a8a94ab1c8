package publish

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"math/big"
	"strconv"
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

// cellScanner scans one column of a row into the table, converting what
// the driver returns (DuckDB sums can come back as HUGEINT or DECIMAL).
type cellScanner struct {
	v any
}

func (s *cellScanner) Scan(src any) error {
	s.v = src
	return nil
}

func toFloat(v any) (float64, bool, error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case float64:
		return x, true, nil
	case float32:
		return float64(x), true, nil
	case int64:
		return float64(x), true, nil
	case int32:
		return float64(x), true, nil
	case int16:
		return float64(x), true, nil
	case int8:
		return float64(x), true, nil
	case uint64:
		return float64(x), true, nil
	case uint32:
		return float64(x), true, nil
	case *big.Int:
		f, _ := new(big.Float).SetInt(x).Float64()
		return f, true, nil
	case interface{ Float64() float64 }:
		return x.Float64(), true, nil
	case string:
		f, err := strconv.ParseFloat(x, 64)
		return f, err == nil, err
	}
	return 0, false, fmt.Errorf("not a number: %T", v)
}

// appendRow adds the scanned values as a new row.
func (t *table) appendRow(vals []*cellScanner, intern map[string]string) error {
	for ci, sc := range vals {
		c := &t.cols[ci]
		typ := t.sec.Columns[ci].Type
		ok := sc.v != nil
		c.ok = append(c.ok, ok)
		switch typ {
		case tDouble:
			f, valid, err := toFloat(sc.v)
			if err != nil {
				return fmt.Errorf("section %s column %s: %w", t.sec.Name, t.sec.Columns[ci].Name, err)
			}
			if valid && (math.IsNaN(f) || math.IsInf(f, 0)) {
				valid = false // no NaN or infinity in a published number
			}
			c.ok[len(c.ok)-1] = valid
			c.f = append(c.f, f)
		case tBigint, tInteger:
			f, _, err := toFloat(sc.v)
			if err != nil {
				return fmt.Errorf("section %s column %s: %w", t.sec.Name, t.sec.Columns[ci].Name, err)
			}
			c.i = append(c.i, int64(math.Round(f)))
		case tBool:
			b, _ := sc.v.(bool)
			c.b = append(c.b, b)
		default:
			var s string
			switch x := sc.v.(type) {
			case string:
				s = x
			case []byte:
				s = string(x)
			case nil:
			default:
				s = fmt.Sprint(x)
			}
			if v, seen := intern[s]; seen {
				s = v
			} else if len(intern) < 1<<20 {
				intern[s] = s
			}
			c.s = append(c.s, s)
		}
	}
	t.n++
	t.withheld = append(t.withheld, "")
	return nil
}

// cursor streams one section's query for a level, pack by pack.
type cursor struct {
	sec    *Section
	rows   *sql.Rows
	dest   []any
	vals   []*cellScanner
	pack   cellScanner
	peeked bool
	done   bool
	intern map[string]string
}

func openCursor(ctx context.Context, db *sql.DB, sec *Section, query string) (*cursor, error) {
	rows, err := db.QueryContext(ctx, query)
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", sec.Name, err)
	}
	names, err := rows.Columns()
	if err != nil {
		rows.Close()
		return nil, fmt.Errorf("section %s: %w", sec.Name, err)
	}
	if len(names) != len(sec.Columns)+1 || names[0] != "pack_area" {
		rows.Close()
		return nil, fmt.Errorf("section %s: query returns %v; want pack_area then the %d columns of its spec", sec.Name, names, len(sec.Columns))
	}
	for i, c := range sec.Columns {
		if names[i+1] != c.Name {
			rows.Close()
			return nil, fmt.Errorf("section %s: column %d is %q; the spec says %q", sec.Name, i+1, names[i+1], c.Name)
		}
	}
	cu := &cursor{sec: sec, rows: rows, intern: map[string]string{}}
	cu.dest = append(cu.dest, &cu.pack)
	for range sec.Columns {
		sc := &cellScanner{}
		cu.vals = append(cu.vals, sc)
		cu.dest = append(cu.dest, sc)
	}
	return cu, nil
}

func (cu *cursor) Close() error { return cu.rows.Close() }

func (cu *cursor) packArea() string {
	s, _ := cu.pack.v.(string)
	return s
}

// take returns the rows of pack area (the cursor must not have passed it:
// both follow pack_area order). pos gives each pack's place in that order.
func (cu *cursor) take(area string, pos map[string]int) (*table, error) {
	t := newTable(cu.sec)
	if len(cu.intern) > 1<<18 {
		cu.intern = map[string]string{} // names repeat within a pack; bound the map
	}
	for !cu.done {
		if !cu.peeked {
			if !cu.rows.Next() {
				cu.done = true
				if err := cu.rows.Err(); err != nil {
					return nil, fmt.Errorf("section %s: %w", cu.sec.Name, err)
				}
				break
			}
			if err := cu.rows.Scan(cu.dest...); err != nil {
				return nil, fmt.Errorf("section %s: %w", cu.sec.Name, err)
			}
			cu.peeked = true
		}
		got := cu.packArea()
		if got != area {
			p, known := pos[got]
			if !known || p < pos[area] {
				return nil, fmt.Errorf("section %s: rows of pack %q out of pack_area order (at %q)", cu.sec.Name, got, area)
			}
			break
		}
		if err := t.appendRow(cu.vals, cu.intern); err != nil {
			return nil, err
		}
		cu.peeked = false
	}
	return t, nil
}
