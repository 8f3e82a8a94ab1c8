//go:build duckdb_arrow

package server

import (
	"context"
	"fmt"
	"testing"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/memory"
)

// chunks makes n DuckDB-sized chunks (2,048 rows) of cols columns of type
// dt, numbered from 0 in column 0 so order can be checked.
func chunks(t *testing.T, n, cols int, dt arrow.DataType) array.RecordReader {
	t.Helper()
	fields := make([]arrow.Field, cols)
	for i := range fields {
		fields[i] = arrow.Field{Name: fmt.Sprintf("c%d", i), Type: dt}
	}
	schema := arrow.NewSchema(fields, nil)
	var recs []arrow.RecordBatch
	row := 0
	for range n {
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		for r := 0; r < 2048; r++ {
			for c := range cols {
				switch fb := b.Field(c).(type) {
				case *array.Int64Builder:
					fb.Append(int64(row))
				case *array.Int8Builder:
					fb.Append(int8(row))
				}
			}
			row++
		}
		recs = append(recs, b.NewRecordBatch())
		b.Release()
	}
	rdr, err := array.NewRecordReader(schema, recs)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range recs {
		r.Release()
	}
	return rdr
}

// TestCoalesce: narrow chunks are joined up to the byte bound, tiny ones
// up to the row bound, wide ones (each over the byte bound) go out as
// they come; rows keep their order and none is lost.
func TestCoalesce(t *testing.T) {
	cases := []struct {
		name    string
		chunks  int
		cols    int
		dt      arrow.DataType
		batches func(n int) bool // given the number of batches sent
	}{
		{"wide", 10, 9, arrow.PrimitiveTypes.Int64, func(n int) bool { return n == 10 }},
		{"narrow", 40, 1, arrow.PrimitiveTypes.Int64, func(n int) bool { return n > 1 && n < 10 }},
		{"tiny", 70, 1, arrow.PrimitiveTypes.Int8, func(n int) bool { return n == 3 }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rdr := chunks(t, c.chunks, c.cols, c.dt)
			defer rdr.Release()
			ch := make(chan flight.StreamChunk, 1000)
			coalesce(context.Background(), rdr, ch, func(err error) error { return err })
			close(ch)
			var sizes []int64
			next := int64(0)
			for sc := range ch {
				if sc.Err != nil {
					t.Fatal(sc.Err)
				}
				rec := sc.Data
				col := rec.Column(0)
				for i := 0; i < int(rec.NumRows()); i++ {
					var v int64
					switch a := col.(type) {
					case *array.Int64:
						v = a.Value(i)
					case *array.Int8:
						v, next = int64(a.Value(i)), int64(int8(next)) // wraps as the values do
					}
					if v != next {
						t.Fatalf("row %d holds %d", next, v)
					}
					next++
				}
				sizes = append(sizes, rec.NumRows())
				if rec.NumRows() > batchRows {
					t.Errorf("batch of %d rows, bound %d", rec.NumRows(), batchRows)
				}
				rec.Release()
			}
			var total int64
			for _, s := range sizes {
				total += s
			}
			if total != int64(c.chunks*2048) {
				t.Errorf("%d rows sent, want %d", total, c.chunks*2048)
			}
			if !c.batches(len(sizes)) {
				t.Errorf("%d chunks went out as %d batches %v", c.chunks, len(sizes), sizes)
			}
		})
	}
}
