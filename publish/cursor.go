//go:build duckdb_arrow

package publish

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/duckdb/duckdb-go/v2"

	"github.com/gplens/gplens/duck"
)

// cursor streams one section's query for a level, pack by pack, as DuckDB's
// result chunks in Arrow form (duck.QueryStream). Through database/sql,
// duckdb-go first materialises a whole result inside DuckDB — at England
// scale a level's 1.8 million indicator rows, copied and spilled past the
// 1 GB limit while the packs waited — and then boxes every cell; here the
// sorted rows are handed over chunk by chunk and copied column by column
// into each pack's table.
type cursor struct {
	sec  *Section
	conn *sql.Conn // reserved for the stream until Close
	rdr  *duck.StreamReader
	rec  arrow.RecordBatch // the current chunk (owned by rdr); nil before the first
	key  func(i int) string
	row  int // next row of rec
	done bool
	// intern shares the repeated text of a pack (names, codes, labels).
	intern map[string]string
}

func openCursor(ctx context.Context, db *sql.DB, sec *Section, query string) (_ *cursor, err error) {
	conn, err := db.Conn(ctx)
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", sec.Name, err)
	}
	cu := &cursor{sec: sec, conn: conn, intern: map[string]string{}}
	defer func() {
		if err != nil {
			cu.Close()
		}
	}()
	err = conn.Raw(func(dc any) error {
		d, ok := dc.(*duckdb.Conn)
		if !ok {
			return errors.New("not a DuckDB connection")
		}
		r, err := duck.QueryStream(ctx, d, query, nil)
		cu.rdr = r
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("section %s: %w", sec.Name, err)
	}
	fields := cu.rdr.Schema().Fields()
	names := make([]string, len(fields))
	for i, f := range fields {
		names[i] = f.Name
	}
	if len(names) != len(sec.Columns)+1 || names[0] != "pack_area" {
		return nil, fmt.Errorf("section %s: query returns %v; want pack_area then the %d columns of its spec", sec.Name, names, len(sec.Columns))
	}
	for i, c := range sec.Columns {
		if names[i+1] != c.Name {
			return nil, fmt.Errorf("section %s: column %d is %q; the spec says %q", sec.Name, i+1, names[i+1], c.Name)
		}
	}
	return cu, nil
}

// Close ends the query and gives its connection back to the pool.
func (cu *cursor) Close() error {
	if cu.rdr != nil {
		cu.rdr.Release()
		cu.rdr = nil
	}
	return cu.conn.Close()
}

// next moves to the following chunk; false at the end of the result.
func (cu *cursor) next() error {
	cu.rec, cu.row = nil, 0
	if !cu.rdr.Next() {
		cu.done = true
		if err := cu.rdr.Err(); err != nil {
			return fmt.Errorf("section %s: %w", cu.sec.Name, err)
		}
		return nil
	}
	cu.rec = cu.rdr.RecordBatch()
	key, err := textOf(cu.rec.Column(0))
	if err != nil {
		return fmt.Errorf("section %s column pack_area: %w", cu.sec.Name, err)
	}
	cu.key = key
	return nil
}

// take returns the rows of pack area (the cursor must not have passed it:
// both follow pack_area order). pos gives each pack's place in that order.
func (cu *cursor) take(area string, pos map[string]int) (*table, error) {
	t := newTable(cu.sec)
	if len(cu.intern) > 1<<18 {
		cu.intern = map[string]string{} // names repeat within a pack; bound the map
	}
	for !cu.done {
		if cu.rec == nil || cu.row >= int(cu.rec.NumRows()) {
			if err := cu.next(); err != nil {
				return nil, err
			}
			continue
		}
		if got := cu.key(cu.row); got != area {
			p, known := pos[got]
			if !known || p < pos[area] {
				return nil, fmt.Errorf("section %s: rows of pack %q out of pack_area order (at %q)", cu.sec.Name, got, area)
			}
			break
		}
		end := cu.row + 1
		for n := int(cu.rec.NumRows()); end < n && cu.key(end) == area; end++ {
		}
		if err := t.appendRows(cu.rec, cu.row, end, cu.intern); err != nil {
			return nil, err
		}
		cu.row = end
	}
	return t, nil
}

// appendRows adds rows [from, to) of a chunk (pack_area first, then the
// section's columns) to the table.
func (t *table) appendRows(rec arrow.RecordBatch, from, to int, intern map[string]string) error {
	for ci := range t.sec.Columns {
		if err := t.appendColumn(ci, rec.Column(ci+1), from, to, intern); err != nil {
			return fmt.Errorf("section %s column %s: %w", t.sec.Name, t.sec.Columns[ci].Name, err)
		}
	}
	for range to - from {
		t.withheld = append(t.withheld, "")
	}
	t.n += to - from
	return nil
}

// appendColumn converts one column's rows to the section column's type,
// as the published feeds state it.
func (t *table) appendColumn(ci int, arr arrow.Array, from, to int, intern map[string]string) error {
	c := &t.cols[ci]
	switch t.sec.Columns[ci].Type {
	case tDouble:
		get, err := floatOf(arr)
		if err != nil {
			return err
		}
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				c.ok, c.f = append(c.ok, false), append(c.f, 0)
				continue
			}
			f, err := get(i)
			if err != nil {
				return err
			}
			// no NaN or infinity in a published number
			c.ok, c.f = append(c.ok, !math.IsNaN(f) && !math.IsInf(f, 0)), append(c.f, f)
		}
	case tBigint, tInteger:
		get, err := floatOf(arr)
		if err != nil {
			return err
		}
		for i := from; i < to; i++ {
			if arr.IsNull(i) {
				c.ok, c.i = append(c.ok, false), append(c.i, 0)
				continue
			}
			f, err := get(i)
			if err != nil {
				return err
			}
			c.ok, c.i = append(c.ok, true), append(c.i, int64(math.Round(f)))
		}
	case tBool:
		b, ok := arr.(*array.Boolean)
		if !ok {
			return fmt.Errorf("%s is not BOOLEAN", arr.DataType())
		}
		for i := from; i < to; i++ {
			valid := b.IsValid(i)
			c.ok, c.b = append(c.ok, valid), append(c.b, valid && b.Value(i))
		}
	default:
		get, err := textOf(arr)
		if err != nil {
			return err
		}
		for i := from; i < to; i++ {
			valid := arr.IsValid(i)
			s := ""
			if valid {
				s = get(i) // points into the chunk: kept only as a copy
			}
			if v, seen := intern[s]; seen {
				s = v
			} else {
				s = strings.Clone(s)
				if len(intern) < 1<<20 {
					intern[s] = s
				}
			}
			c.ok, c.s = append(c.ok, valid), append(c.s, s)
		}
	}
	return nil
}

// textOf reads a text column; the strings point into the chunk's buffers.
func textOf(arr arrow.Array) (func(i int) string, error) {
	switch a := arr.(type) {
	case *array.String:
		return a.Value, nil
	case *array.LargeString:
		return a.Value, nil
	case *array.StringView:
		return a.Value, nil
	}
	return nil, fmt.Errorf("%s is not text", arr.DataType())
}

// floatOf reads a numeric column as float64: DuckDB's sums come as HUGEINT
// or DECIMAL (Arrow decimal128), converted as duckdb-go's Decimal.Float64
// does, so a figure is the same however it is read.
func floatOf(arr arrow.Array) (func(i int) (float64, error), error) {
	switch a := arr.(type) {
	case *array.Float64:
		return floats(a.Float64Values()), nil
	case *array.Float32:
		return floats(a.Float32Values()), nil
	case *array.Int64:
		return floats(a.Int64Values()), nil
	case *array.Int32:
		return floats(a.Int32Values()), nil
	case *array.Int16:
		return floats(a.Int16Values()), nil
	case *array.Int8:
		return floats(a.Int8Values()), nil
	case *array.Uint64:
		return floats(a.Uint64Values()), nil
	case *array.Uint32:
		return floats(a.Uint32Values()), nil
	case *array.Uint16:
		return floats(a.Uint16Values()), nil
	case *array.Uint8:
		return floats(a.Uint8Values()), nil
	case *array.Decimal128:
		scale := a.DataType().(*arrow.Decimal128Type).Scale
		factor := new(big.Float).SetInt(new(big.Int).Exp(big.NewInt(10), big.NewInt(int64(scale)), nil))
		return func(i int) (float64, error) {
			v := new(big.Float).SetInt(a.Value(i).BigInt())
			f, _ := v.Quo(v, factor).Float64()
			return f, nil
		}, nil
	case *array.String:
		return func(i int) (float64, error) { return strconv.ParseFloat(a.Value(i), 64) }, nil
	}
	return nil, fmt.Errorf("%s is not a number", arr.DataType())
}

// floats reads a fixed-width numeric column's values as float64.
func floats[T int8 | int16 | int32 | int64 | uint8 | uint16 | uint32 | uint64 | float32 | float64](v []T) func(i int) (float64, error) {
	return func(i int) (float64, error) { return float64(v[i]), nil }
}
