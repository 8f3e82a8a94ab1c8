//go:build duckdb_arrow

package server

import (
	"context"
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql/schema_ref"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// xdbcType is one row of GetXdbcTypeInfo (JDBC getTypeInfo): the DuckDB
// types the marts use, described the way JDBC/ODBC tools expect.
type xdbcType struct {
	name           string
	dataType       int32 // XDBC (JDBC) type code
	columnSize     int32 // 0: not applicable
	prefix, suffix string
	createParams   []string
	caseSensitive  bool
	searchable     int32
	unsigned       bool
	sqlDataType    int32
	subcode        int32 // datetime subcode; 0: none
	radix          int32 // 0: not numeric
	numeric        bool
}

var xdbcTypes = []xdbcType{
	{name: "BOOLEAN", dataType: -7, columnSize: 1, searchable: 2, sqlDataType: -7},
	{name: "TINYINT", dataType: -6, columnSize: 3, searchable: 2, sqlDataType: -6, radix: 10, numeric: true},
	{name: "SMALLINT", dataType: 5, columnSize: 5, searchable: 2, sqlDataType: 5, radix: 10, numeric: true},
	{name: "INTEGER", dataType: 4, columnSize: 10, searchable: 2, sqlDataType: 4, radix: 10, numeric: true},
	{name: "BIGINT", dataType: -5, columnSize: 19, searchable: 2, sqlDataType: -5, radix: 10, numeric: true},
	{name: "DECIMAL", dataType: 3, columnSize: 38, createParams: []string{"precision", "scale"}, searchable: 2, sqlDataType: 3, radix: 10, numeric: true},
	{name: "FLOAT", dataType: 7, columnSize: 24, searchable: 2, sqlDataType: 7, radix: 2, numeric: true},
	{name: "DOUBLE", dataType: 8, columnSize: 53, searchable: 2, sqlDataType: 8, radix: 2, numeric: true},
	{name: "VARCHAR", dataType: 12, columnSize: 1 << 30, prefix: "'", suffix: "'", caseSensitive: true, searchable: 3, sqlDataType: 12},
	{name: "BLOB", dataType: -3, columnSize: 1 << 30, prefix: "'", suffix: "'", searchable: 0, sqlDataType: -3},
	{name: "DATE", dataType: 91, columnSize: 10, prefix: "DATE '", suffix: "'", searchable: 2, sqlDataType: 9, subcode: 1},
	{name: "TIME", dataType: 92, columnSize: 15, prefix: "TIME '", suffix: "'", searchable: 2, sqlDataType: 9, subcode: 2},
	{name: "TIMESTAMP", dataType: 93, columnSize: 26, prefix: "TIMESTAMP '", suffix: "'", searchable: 2, sqlDataType: 9, subcode: 3},
}

// GetFlightInfoXdbcTypeInfo: the type list.
func (s *Server) GetFlightInfoXdbcTypeInfo(_ context.Context, _ flightsql.GetXdbcTypeInfo, desc *flight.FlightDescriptor) (*flight.FlightInfo, error) {
	return s.infoFor(desc, schema_ref.XdbcTypeInfo), nil
}

// DoGetXdbcTypeInfo lists the SQL types, optionally one XDBC type code.
func (s *Server) DoGetXdbcTypeInfo(ctx context.Context, cmd flightsql.GetXdbcTypeInfo) (*arrow.Schema, <-chan flight.StreamChunk, error) {
	if _, err := s.caller(ctx); err != nil {
		return nil, nil, err
	}
	rows := make([]xdbcType, 0, len(xdbcTypes))
	for _, t := range xdbcTypes {
		if dt := cmd.GetDataType(); dt == nil || *dt == t.dataType {
			rows = append(rows, t)
		}
	}
	sort.SliceStable(rows, func(i, j int) bool { return rows[i].dataType < rows[j].dataType })
	b := array.NewRecordBuilder(memory.DefaultAllocator, schema_ref.XdbcTypeInfo)
	defer b.Release()
	str := func(i int, v string, ok bool) {
		if ok {
			b.Field(i).(*array.StringBuilder).Append(v)
		} else {
			b.Field(i).AppendNull()
		}
	}
	i32 := func(i int, v int32, ok bool) {
		if ok {
			b.Field(i).(*array.Int32Builder).Append(v)
		} else {
			b.Field(i).AppendNull()
		}
	}
	boolean := func(i int, v bool) { b.Field(i).(*array.BooleanBuilder).Append(v) }
	for _, t := range rows {
		str(0, t.name, true)
		i32(1, t.dataType, true)
		i32(2, t.columnSize, t.columnSize != 0)
		str(3, t.prefix, t.prefix != "")
		str(4, t.suffix, t.suffix != "")
		lb := b.Field(5).(*array.ListBuilder)
		if t.createParams == nil {
			lb.AppendNull()
		} else {
			lb.Append(true)
			lb.ValueBuilder().(*array.StringBuilder).AppendValues(t.createParams, nil)
		}
		i32(6, 1, true) // nullable
		boolean(7, t.caseSensitive)
		i32(8, t.searchable, true)
		if t.numeric {
			boolean(9, t.unsigned)
		} else {
			b.Field(9).AppendNull()
		}
		boolean(10, false) // fixed_prec_scale
		boolean(11, false) // auto_increment
		str(12, t.name, true)
		i32(13, 0, t.name == "DECIMAL")
		i32(14, 38, t.name == "DECIMAL")
		i32(15, t.sqlDataType, true)
		i32(16, t.subcode, t.subcode != 0)
		i32(17, t.radix, t.radix != 0)
		b.Field(18).AppendNull()
	}
	return oneBatch(b.NewRecordBatch())
}

// xdbcFor finds the XDBC row for a DuckDB type name such as
// "DECIMAL(18,3)" or "TIMESTAMP WITH TIME ZONE".
func xdbcFor(duckType string) (xdbcType, bool) {
	base := strings.ToUpper(duckType)
	if i := strings.IndexByte(base, '('); i >= 0 {
		base = base[:i]
	}
	switch {
	case strings.HasPrefix(base, "TIMESTAMP"):
		base = "TIMESTAMP"
	case strings.HasPrefix(base, "TIME"):
		base = "TIME"
	}
	for _, t := range xdbcTypes {
		if t.name == base {
			return t, true
		}
	}
	return xdbcType{}, false
}

// columnMetadata is the field metadata of one catalog column: the Flight
// SQL column keys (ARROW:FLIGHT:SQL:*) and the XDBC keys ADBC's GetObjects
// copies into its column rows.
func columnMetadata(cat, sch, tbl string, ordinal int, c columnInfo) arrow.Metadata {
	nullable, isNullable := "0", "NO"
	if c.nullable {
		nullable, isNullable = "1", "YES"
	}
	b := flightsql.NewColumnMetadataBuilder()
	b.CatalogName(cat).SchemaName(sch).TableName(tbl).IsReadOnly(true).IsAutoIncrement(false)
	kv := map[string]string{
		"ORDINAL_POSITION":            strconv.Itoa(ordinal),
		"XDBC_NULLABLE":               nullable,
		"XDBC_IS_NULLABLE":            isNullable,
		"XDBC_IS_AUTOINCREMENT":       "false",
		"XDBC_IS_AUTOGENERATEDCOLUMN": "false",
	}
	if c.typ != "" {
		b.TypeName(c.typ)
		kv["XDBC_TYPE_NAME"] = c.typ
	}
	if c.comment != "" {
		b.Remarks(c.comment)
		kv["REMARKS"] = c.comment
	}
	if t, ok := xdbcFor(c.typ); ok {
		b.IsCaseSensitive(t.caseSensitive).IsSearchable(t.searchable != 0)
		kv["XDBC_DATA_TYPE"] = strconv.Itoa(int(t.dataType))
		kv["XDBC_SQL_DATA_TYPE"] = strconv.Itoa(int(t.sqlDataType))
		if t.subcode != 0 {
			kv["XDBC_DATETIME_SUB"] = strconv.Itoa(int(t.subcode))
		}
		if t.radix != 0 {
			kv["XDBC_NUM_PREC_RADIX"] = strconv.Itoa(int(t.radix))
		}
		size := t.columnSize
		if p, sc, ok := decimalParams(c.typ); ok {
			size = p
			kv["XDBC_DECIMAL_DIGITS"] = strconv.Itoa(int(sc))
			b.Precision(p).Scale(sc)
		}
		if size != 0 {
			kv["XDBC_COLUMN_SIZE"] = strconv.Itoa(int(size))
		}
		if t.name == "VARCHAR" {
			kv["XDBC_CHAR_OCTET_LENGTH"] = strconv.Itoa(int(t.columnSize))
		}
	}
	md := b.Metadata()
	keys, vals := append([]string(nil), md.Keys()...), append([]string(nil), md.Values()...)
	extra := make([]string, 0, len(kv))
	for k := range kv {
		extra = append(extra, k)
	}
	sort.Strings(extra)
	for _, k := range extra {
		keys = append(keys, k)
		vals = append(vals, kv[k])
	}
	return arrow.NewMetadata(keys, vals)
}

// decimalParams reads "DECIMAL(p,s)".
func decimalParams(typ string) (int32, int32, bool) {
	var p, s int32
	if _, err := fmt.Sscanf(strings.ToUpper(typ), "DECIMAL(%d,%d)", &p, &s); err != nil {
		return 0, 0, false
	}
	return p, s, true
}
