package publish

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"strconv"
	"unicode"
	"unicode/utf8"
	"unsafe"

	"github.com/parquet-go/parquet-go"
)

// Feeds are the sections as long, tidy tables with stable column names and
// types (feeds/<section>.csv and .parquet). Every figure is rounded to its
// column's precision. A withheld cell is empty (CSV) or NULL (Parquet) and
// its <column>_suppressed flag is true, so a numeric column stays numeric
// in any reader; suppression_reason says why.

// feedFile is one encoded feed.
type feedFile struct {
	name         string
	csv, parquet []byte
	rows         int
	dictionary   [][]string
}

// parquetType is the Go field type of a feed column (pointers: nullable).
func parquetType(typ string) reflect.Type {
	switch typ {
	case tDouble:
		return reflect.TypeFor[*float64]()
	case tBigint:
		return reflect.TypeFor[*int64]()
	case tInteger:
		return reflect.TypeFor[*int32]()
	case tBool:
		return reflect.TypeFor[bool]()
	}
	return reflect.TypeFor[*string]()
}

// optionalInParquet: a feed column other than a boolean may be NULL in
// Parquet; booleans (the _suppressed flags among them) are required.
func optionalInParquet(c Column) bool { return c.Type != tBool }

// feedSchema is the Parquet schema of a section's feed, columns in spec order.
func feedSchema(s *Section) *parquet.Schema {
	var fields []reflect.StructField
	for i, c := range s.published() {
		tag := c.Name
		if optionalInParquet(c) {
			tag += ",optional"
		}
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: parquetType(c.Type), Tag: reflect.StructTag(`parquet:"` + tag + `"`)})
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface())
}

// parquetChunk is how many rows go to a Parquet column per write: the
// writer's own chunk when it is given whole rows, so the pages (and the
// file's bytes) are those of a row-by-row write.
const parquetChunk = 64

// encodeFeed writes a section's rows as CSV (UTF-8 with BOM, for Excel)
// and Parquet. Both are written straight from the table's typed columns:
// the CSV row by row into one buffer, the Parquet column by column.
func encodeFeed(t *table) (feedFile, error) {
	s := t.sec
	fcs := feedCols(s)
	cols := s.columnsOf(fcs)
	ff := feedFile{name: s.Name, rows: t.n}
	for _, c := range cols {
		ff.dictionary = append(ff.dictionary, []string{s.Name, c.Name, c.Type, precisionText(c), c.Desc})
	}
	b := make([]byte, 0, 3+(t.n+1)*(16+8*len(cols))) // about 6-10 bytes a cell
	b = append(b, "\ufeff"...)
	for i, c := range cols {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendCSVField(b, c.Name)
	}
	b = append(b, '\n')
	for r := 0; r < t.n; r++ {
		for i, fc := range fcs {
			if i > 0 {
				b = append(b, ',')
			}
			b = t.appendCSV(b, r, fc)
		}
		b = append(b, '\n')
	}
	ff.csv = b

	var pb bytes.Buffer
	pw := parquet.NewWriter(&pb, feedSchema(s), parquet.Compression(&parquet.Snappy), parquet.CreatedBy("gplens", "", ""))
	writers := pw.ColumnWriters()
	vals := make([]parquet.Value, 0, parquetChunk)
	for j, fc := range fcs {
		for start := 0; start < t.n; start += parquetChunk {
			vals = t.appendParquet(vals[:0], fc, j, optionalInParquet(cols[j]), start, min(start+parquetChunk, t.n))
			if _, err := writers[j].WriteRowValues(vals); err != nil {
				return ff, fmt.Errorf("feed %s parquet column %s: %w", s.Name, cols[j].Name, err)
			}
		}
	}
	if err := pw.Close(); err != nil {
		return ff, fmt.Errorf("feed %s parquet: %w", s.Name, err)
	}
	ff.parquet = pb.Bytes()
	return ff, nil
}

// appendCSV appends the CSV text of feed column fc of row r: "" for NULL
// or withheld.
func (t *table) appendCSV(b []byte, r int, fc feedCol) []byte {
	switch {
	case fc.ci < 0:
		return appendCSVField(b, t.withheld[r])
	case fc.flag:
		return strconv.AppendBool(b, t.withheld[r] != "")
	}
	c := &t.cols[fc.ci]
	spec := t.sec.Columns[fc.ci]
	if !c.ok[r] || (spec.SDC && t.withheld[r] != "") {
		return b
	}
	switch spec.Type {
	case tDouble:
		return appendShortest(b, c.f[r])
	case tBigint, tInteger:
		return strconv.AppendInt(b, c.i[r], 10)
	case tBool:
		return strconv.AppendBool(b, c.b[r])
	}
	return appendCSVField(b, c.s[r])
}

// appendCSVField appends s as encoding/csv writes a field (comma
// separated, LF line ends): quoted, with quotes doubled, when it holds a
// comma, quote, CR or LF, starts with a space, or is \.
func appendCSVField(b []byte, s string) []byte {
	if !csvNeedsQuotes(s) {
		return append(b, s...)
	}
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		if s[i] == '"' {
			b = append(b, '"')
		}
		b = append(b, s[i])
	}
	return append(b, '"')
}

func csvNeedsQuotes(s string) bool {
	if s == "" {
		return false
	}
	if s == `\.` {
		return true
	}
	for i := 0; i < len(s); i++ { // a byte loop: strings.ContainsAny builds its set each call
		switch s[i] {
		case '\n', '\r', '"', ',':
			return true
		}
	}
	r, _ := utf8.DecodeRuneInString(s)
	return unicode.IsSpace(r)
}

// appendParquet appends the Parquet values of feed column fc (column
// index j, optional as feedSchema declares it) for rows start..end-1.
// Strings are passed without a copy: the column buffer copies what it keeps.
func (t *table) appendParquet(vals []parquet.Value, fc feedCol, j int, optional bool, start, end int) []parquet.Value {
	from := len(vals)
	vals = t.appendValues(vals, fc, start, end)
	// Levels are set in place afterwards: parquet-go's Value.Level is not
	// inlined and copies the value (about 18 ns a value), its setters are
	// (about 1.3 ns). Required columns keep level 0.
	for k := from; k < len(vals); k++ {
		v := &vals[k]
		if optional && !v.IsNull() {
			v.SetDefinitionLevel(1)
		}
		v.SetColumnIndex(j)
	}
	return vals
}

// appendValues appends fc's values for rows start..end-1, without levels.
func (t *table) appendValues(vals []parquet.Value, fc feedCol, start, end int) []parquet.Value {
	str := func(s string) parquet.Value {
		if s == "" { // an empty VARCHAR is written as NULL, as in CSV
			return parquet.NullValue()
		}
		return parquet.ByteArrayValue(unsafe.Slice(unsafe.StringData(s), len(s)))
	}
	switch {
	case fc.ci < 0:
		for r := start; r < end; r++ {
			vals = append(vals, str(t.withheld[r]))
		}
		return vals
	case fc.flag:
		for r := start; r < end; r++ {
			vals = append(vals, parquet.BooleanValue(t.withheld[r] != ""))
		}
		return vals
	}
	c := &t.cols[fc.ci]
	spec := &t.sec.Columns[fc.ci]
	if spec.Type == tBool { // required: NULL reads as false
		for r := start; r < end; r++ {
			vals = append(vals, parquet.BooleanValue(c.ok[r] && c.b[r]))
		}
		return vals
	}
	for r := start; r < end; r++ {
		if !c.ok[r] || (spec.SDC && t.withheld[r] != "") {
			vals = append(vals, parquet.NullValue())
			continue
		}
		var v parquet.Value
		switch spec.Type {
		case tDouble:
			v = parquet.DoubleValue(c.f[r])
		case tBigint:
			v = parquet.Int64Value(c.i[r])
		case tInteger:
			v = parquet.Int32Value(int32(c.i[r]))
		default:
			v = str(c.s[r])
		}
		vals = append(vals, v)
	}
	return vals
}

// precisionText is the data dictionary's precision of a column.
func precisionText(c Column) string {
	if c.Type != tDouble {
		return ""
	}
	switch c.DP {
	case dpValue:
		return "value_dp of the indicator's unit"
	case dpNumerator:
		return "numerator_dp of the indicator's unit"
	case dpDenominator:
		return "denominator_dp of the indicator's unit"
	}
	return strconv.Itoa(c.DP) + " dp"
}

// packFeeds encodes every section the pack has rows for.
func packFeeds(p *pack) ([]feedFile, error) {
	var out []feedFile
	for _, s := range sections {
		t := p.section(s.Name)
		if t == nil {
			continue
		}
		ff, err := encodeFeed(t)
		if err != nil {
			return nil, err
		}
		out = append(out, ff)
	}
	return out, nil
}

// dictionaryCSV describes every column of every feed.
func dictionaryCSV(feeds []feedFile) ([]byte, int, error) {
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	n := 0
	if err := cw.Write([]string{"feed", "column", "type", "precision", "description"}); err != nil {
		return nil, 0, err
	}
	for _, f := range feeds {
		for _, d := range f.dictionary {
			if err := cw.Write(d); err != nil {
				return nil, 0, err
			}
			n++
		}
	}
	cw.Flush()
	return b.Bytes(), n, cw.Error()
}
