package ingest

import (
	"sort"
	"strconv"
	"strings"
	"time"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Type of a lake column. Only standard Parquet types are used so Spark,
// Trino and BigQuery read the lake as it is.
type Type int

// Column types.
const (
	String Type = iota
	Int64
	Float64
	Date
	Bool
)

func (t Type) String() string {
	return [...]string{"VARCHAR", "BIGINT", "DOUBLE", "DATE", "BOOLEAN"}[t]
}

// Column of a source's lake table. Every column is nullable.
type Column struct {
	Name string
	Type Type
	Doc  string
}

// Schema is a source's lake table: its columns in declared order, and the
// Parquet schema (whose leaves parquet-go orders by name).
type Schema struct {
	Columns []Column
	pq      *parquet.Schema
	leaf    []int // declared index -> parquet leaf index
}

// NewSchema builds the Parquet schema for cols.
func NewSchema(name string, cols []Column) *Schema {
	g := parquet.Group{}
	for _, c := range cols {
		var n parquet.Node
		switch c.Type {
		case String:
			n = parquet.String()
		case Int64:
			n = parquet.Int(64)
		case Float64:
			n = parquet.Leaf(parquet.DoubleType)
		case Date:
			n = parquet.Date()
		case Bool:
			n = parquet.Leaf(parquet.BooleanType)
		}
		g[c.Name] = parquet.Optional(n)
	}
	s := &Schema{Columns: cols, pq: parquet.NewSchema(name, g)}
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	sorted := append([]string(nil), names...)
	sort.Strings(sorted)
	pos := map[string]int{}
	for i, n := range sorted {
		pos[n] = i
	}
	s.leaf = make([]int, len(cols))
	for i, n := range names {
		s.leaf[i] = pos[n]
	}
	return s
}

// writeSchema is the schema lake files are written with: dictionary
// encoding on the columns dict says (by declared index), plain elsewhere
// (parquet-go's default for strings, DELTA_LENGTH_BYTE_ARRAY, left zstd
// nothing to compress in identifiers: 1.6 times DuckDB's file size).
func (s *Schema) writeSchema(name string, dict []bool) *parquet.Schema {
	g := parquet.Group{}
	fields := s.pq.Fields()
	for i, c := range s.Columns {
		var n parquet.Node = fields[s.leaf[i]]
		if dict[i] {
			n = parquet.Encoded(n, &parquet.RLEDictionary)
		} else {
			n = parquet.Encoded(n, &parquet.Plain)
		}
		g[c.Name] = n
	}
	return parquet.NewSchema(name, g)
}

// Index of a column by name; -1 when absent.
func (s *Schema) Index(name string) int {
	for i, c := range s.Columns {
		if c.Name == name {
			return i
		}
	}
	return -1
}

// DuckDBColumns renders the columns as DuckDB column definitions, for an
// empty table standing in for a source with no data yet.
func (s *Schema) DuckDBColumns() string {
	parts := make([]string, len(s.Columns))
	for i, c := range s.Columns {
		parts[i] = c.Name + " " + c.Type.String()
	}
	return strings.Join(parts, ", ")
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

// Row is one lake row being built. Unset columns are NULL.
type Row struct {
	s    *Schema
	key  []bool          // by declared index: part of the unique key
	vals []parquet.Value // by parquet leaf index: own, or a parse worker's slot in its batch
	own  []parquet.Value // the row's own values, outside parse workers
	set  []bool          // by declared index
	keys []string        // string form of each declared column, for key hashing
}

func newRow(s *Schema) *Row {
	own := make([]parquet.Value, len(s.Columns))
	return &Row{s: s, vals: own, own: own, set: make([]bool, len(s.Columns)), keys: make([]string, len(s.Columns))}
}

func (r *Row) reset() {
	for i := range r.set {
		r.set[i] = false
		r.keys[i] = ""
	}
}

// put sets column i. The levels are set in place: parquet-go's Level is
// not inlined and copies the value (about 18 ns a value), its setters are
// (1.3 ns); 4% of the CPU of ingesting a QOF year.
func (r *Row) put(i int, v parquet.Value) {
	l := r.s.leaf[i]
	v.SetDefinitionLevel(1)
	v.SetColumnIndex(l)
	r.vals[l] = v
	r.set[i] = true
}

// Str sets column i to s.
func (r *Row) Str(i int, s string) {
	r.put(i, parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s))))
	if r.key != nil && r.key[i] {
		r.keys[i] = s
	}
}

// Int sets column i to v.
func (r *Row) Int(i int, v int64) {
	r.put(i, parquet.Int64Value(v))
	if r.key != nil && r.key[i] {
		r.keys[i] = strconv.FormatInt(v, 10)
	}
}

// Float sets column i to v.
func (r *Row) Float(i int, v float64) { r.put(i, parquet.DoubleValue(v)) }

// Bool sets column i to v.
func (r *Row) Bool(i int, v bool) { r.put(i, parquet.BooleanValue(v)) }

// Date sets column i to the day of t.
func (r *Row) Date(i int, t time.Time) {
	// whole days since 1970 (t is a day's midnight UTC), floored for earlier days
	r.put(i, parquet.Int32Value(int32(floorDiv(t.Unix(), 86400))))
	if r.key != nil && r.key[i] {
		r.keys[i] = t.Format("2006-01-02")
	}
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (r *Row) parquetRow(dst parquet.Row) parquet.Row {
	dst = append(dst[:0], r.vals...)
	r.nulls(dst)
	return dst
}

// nulls makes the columns not set in this row NULL in dst.
func (r *Row) nulls(dst parquet.Row) {
	for i, ok := range r.set {
		if !ok {
			l := r.s.leaf[i]
			dst[l] = parquet.NullValue()
			dst[l].SetColumnIndex(l)
		}
	}
}
