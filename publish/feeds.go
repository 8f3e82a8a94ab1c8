package publish

import (
	"bytes"
	"encoding/csv"
	"fmt"
	"reflect"
	"strconv"

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

// cellText is the CSV text of column ci of row r ("" for NULL or withheld).
func (t *table) cellText(r, ci int) string {
	c := &t.cols[ci]
	spec := t.sec.Columns[ci]
	if !c.ok[r] || (spec.SDC && t.withheld[r] != "") {
		return ""
	}
	switch spec.Type {
	case tDouble:
		return strconv.FormatFloat(c.f[r], 'f', -1, 64)
	case tBigint, tInteger:
		return strconv.FormatInt(c.i[r], 10)
	case tBool:
		return strconv.FormatBool(c.b[r])
	}
	return c.s[r]
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

// feedSchema is the Parquet schema of a section's feed, columns in spec order.
func feedSchema(s *Section) *parquet.Schema {
	var fields []reflect.StructField
	for i, c := range s.published() {
		tag := c.Name
		if c.Type != tBool {
			tag += ",optional"
		}
		fields = append(fields, reflect.StructField{Name: fmt.Sprintf("F%d", i), Type: parquetType(c.Type), Tag: reflect.StructTag(`parquet:"` + tag + `"`)})
	}
	return parquet.SchemaOf(reflect.New(reflect.StructOf(fields)).Interface())
}

// encodeFeed writes a section's rows as CSV (UTF-8 with BOM, for Excel)
// and Parquet.
func encodeFeed(t *table) (feedFile, error) {
	s := t.sec
	cols := s.published()
	ff := feedFile{name: s.Name, rows: t.n}
	for _, c := range cols {
		ff.dictionary = append(ff.dictionary, []string{s.Name, c.Name, c.Type, precisionText(c), c.Desc})
	}
	var b bytes.Buffer
	b.WriteString("\ufeff")
	cw := csv.NewWriter(&b)
	rec := make([]string, len(cols))
	for i, c := range cols {
		rec[i] = c.Name
	}
	if err := cw.Write(rec); err != nil {
		return ff, fmt.Errorf("feed %s: %w", s.Name, err)
	}
	var pb bytes.Buffer
	pw := parquet.NewWriter(&pb, feedSchema(s), parquet.Compression(&parquet.Snappy), parquet.CreatedBy("gplens", "", ""))
	batch := make([]parquet.Row, 0, 1024)
	for r := 0; r < t.n; r++ {
		row := make(parquet.Row, 0, len(cols))
		i := 0
		for ci, c := range s.Columns {
			if c.Hidden {
				continue
			}
			rec[i] = t.cellText(r, ci)
			row = append(row, t.parquetValue(r, ci).Level(0, defLevel(c, rec[i]), i))
			i++
			if c.SDC {
				w := t.withheld[r] != ""
				rec[i] = strconv.FormatBool(w)
				row = append(row, parquet.BooleanValue(w).Level(0, 0, i))
				i++
			}
		}
		if i < len(cols) { // suppression_reason
			rec[i] = t.withheld[r]
			v := parquet.NullValue().Level(0, 0, i)
			if rec[i] != "" {
				v = parquet.ByteArrayValue([]byte(rec[i])).Level(0, 1, i)
			}
			row = append(row, v)
		}
		if err := cw.Write(rec); err != nil {
			return ff, fmt.Errorf("feed %s: %w", s.Name, err)
		}
		batch = append(batch, row)
		if len(batch) == cap(batch) {
			if _, err := pw.WriteRows(batch); err != nil {
				return ff, fmt.Errorf("feed %s parquet: %w", s.Name, err)
			}
			batch = batch[:0]
		}
	}
	cw.Flush()
	if err := cw.Error(); err != nil {
		return ff, fmt.Errorf("feed %s csv: %w", s.Name, err)
	}
	if len(batch) > 0 {
		if _, err := pw.WriteRows(batch); err != nil {
			return ff, fmt.Errorf("feed %s parquet: %w", s.Name, err)
		}
	}
	if err := pw.Close(); err != nil {
		return ff, fmt.Errorf("feed %s parquet: %w", s.Name, err)
	}
	ff.csv, ff.parquet = b.Bytes(), pb.Bytes()
	return ff, nil
}

// defLevel: booleans are required (level 0); other columns are optional,
// defined (1) unless empty. An empty VARCHAR is written as NULL, as in CSV.
func defLevel(c Column, text string) int {
	if c.Type == tBool || text != "" {
		if c.Type == tBool {
			return 0
		}
		return 1
	}
	return 0
}

func (t *table) parquetValue(r, ci int) parquet.Value {
	c := &t.cols[ci]
	spec := t.sec.Columns[ci]
	if spec.Type == tBool {
		return parquet.BooleanValue(c.ok[r] && c.b[r])
	}
	if !c.ok[r] || (spec.SDC && t.withheld[r] != "") {
		return parquet.NullValue()
	}
	switch spec.Type {
	case tDouble:
		return parquet.DoubleValue(c.f[r])
	case tBigint:
		return parquet.Int64Value(c.i[r])
	case tInteger:
		return parquet.Int32Value(int32(c.i[r]))
	}
	if c.s[r] == "" {
		return parquet.NullValue()
	}
	return parquet.ByteArrayValue([]byte(c.s[r]))
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
