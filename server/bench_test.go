//go:build duckdb_arrow

package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"

	"github.com/gplens/gplens/duck"
)

// directRows runs q through DuckDB's own Arrow interface on a read-only
// connection and counts the rows, as the server would produce them.
func directRunner(b *testing.B, path string) (run func(q string) int64, closeFn func()) {
	ctx := context.Background()
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	var ar *duckdb.Arrow
	if err := conn.Raw(func(dc any) error {
		ar, err = duckdb.NewArrowFromConn(dc.(*duckdb.Conn))
		return err
	}); err != nil {
		b.Fatal(err)
	}
	return func(q string) int64 {
			rdr, err := ar.QueryContext(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			defer rdr.Release()
			var n int64
			for rdr.Next() {
				n += rdr.RecordBatch().NumRows()
			}
			return n
		}, func() {
			conn.Close()
			db.Close()
		}
}

// BenchmarkLatency compares small queries through Flight SQL (execute,
// fetch, decode) with the same statement run in-process in DuckDB.
func BenchmarkLatency(b *testing.B) {
	ts := newServer(b, 10_000, nil)
	c := ts.client(b)
	ctx := withToken(context.Background(), adminToken)
	run, closeFn := directRunner(b, ts.wh)
	defer closeFn()
	queries := map[string]string{
		"point":     "SELECT value FROM marts.indicator_values WHERE area_code = 'P001' AND indicator_id = 'qof_ach_DM012'",
		"aggregate": "SELECT area_code, avg(value), count(*) FROM marts.trends GROUP BY 1 ORDER BY 1",
		"catalogue": "SELECT * FROM analyst.indicators",
	}
	for name, q := range queries {
		b.Run(name, func(b *testing.B) {
			var flightTime, directTime time.Duration
			for b.Loop() {
				t0 := time.Now()
				if _, _, err := query(ctx, b, c, q); err != nil {
					b.Fatal(err)
				}
				t1 := time.Now()
				run(q)
				directTime += time.Since(t1)
				flightTime += t1.Sub(t0)
			}
			b.ReportMetric(float64(flightTime.Microseconds())/float64(b.N), "flight-µs/op")
			b.ReportMetric(float64(directTime.Microseconds())/float64(b.N), "duckdb-µs/op")
			b.ReportMetric(float64(flightTime)/float64(directTime), "flight/duckdb")
		})
	}
}

// BenchmarkThroughput streams a large result set through Flight SQL and
// reports rows/s against DuckDB producing the same Arrow batches itself.
func BenchmarkThroughput(b *testing.B) {
	const rows = 2_000_000
	ts := newServer(b, rows, nil)
	c := ts.client(b)
	ctx := withToken(context.Background(), adminToken)
	run, closeFn := directRunner(b, ts.wh)
	defer closeFn()
	const q = "SELECT * FROM marts.trends"
	var flightTime, directTime time.Duration
	for b.Loop() {
		t0 := time.Now()
		info, err := c.Execute(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			b.Fatal(err)
		}
		var n int64
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		if err := rdr.Err(); err != nil {
			b.Fatal(err)
		}
		rdr.Release()
		t1 := time.Now()
		if m := run(q); m != n || n != rows {
			b.Fatalf("flight %d rows, duckdb %d, want %d", n, m, rows)
		}
		directTime += time.Since(t1)
		flightTime += t1.Sub(t0)
	}
	total := float64(rows) * float64(b.N)
	b.ReportMetric(total/flightTime.Seconds(), "flight-rows/s")
	b.ReportMetric(total/directTime.Seconds(), "duckdb-rows/s")
	b.ReportMetric(float64(flightTime)/float64(directTime), "flight/duckdb")
}
