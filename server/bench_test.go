//go:build duckdb_arrow

package server_test

import (
	"context"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/server"
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

// streamRunner is directRunner through the server's streaming reader
// (duck.QueryStream): the rate at which DuckDB hands out Arrow batches
// while it computes them, which bounds what the server can send.
func streamRunner(b *testing.B, path string) (run func(q string) int64, closeFn func()) {
	ctx := context.Background()
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: true})
	if err != nil {
		b.Fatal(err)
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return func(q string) int64 {
			var n int64
			err := conn.Raw(func(dc any) error {
				rdr, err := duck.QueryStream(ctx, dc.(*duckdb.Conn), q, nil)
				if err != nil {
					return err
				}
				defer rdr.Release()
				for rdr.Next() {
					n += rdr.RecordBatch().NumRows()
				}
				return rdr.Err()
			})
			if err != nil {
				b.Fatal(err)
			}
			return n
		}, func() {
			conn.Close()
			db.Close()
		}
}

// BenchmarkPointLookup reports the median latency of a point lookup
// through Flight SQL (execute, fetch, decode) and in-process through
// DuckDB's Arrow interface, over 300 lookups each per iteration (the aim:
// within 2 ms of DuckDB).
func BenchmarkPointLookup(b *testing.B) {
	ts := newServer(b, 10_000, nil)
	c := ts.client(b)
	ctx := withToken(context.Background(), adminToken)
	run, closeFn := directRunner(b, ts.wh)
	defer closeFn()
	const q = "SELECT value FROM marts.indicator_values WHERE area_code = 'P001' AND indicator_id = 'qof_ach_DM012'"
	const n = 300
	var fl, du []time.Duration
	for b.Loop() {
		for i := 0; i < n; i++ {
			t0 := time.Now()
			if _, _, err := query(ctx, b, c, q); err != nil {
				b.Fatal(err)
			}
			t1 := time.Now()
			run(q)
			du = append(du, time.Since(t1))
			fl = append(fl, t1.Sub(t0))
		}
	}
	p50 := func(d []time.Duration) time.Duration {
		s := slices.Clone(d)
		slices.Sort(s)
		return s[len(s)/2]
	}
	b.ReportMetric(float64(p50(fl).Microseconds())/1000, "flight-p50-ms")
	b.ReportMetric(float64(p50(du).Microseconds())/1000, "duckdb-p50-ms")
	b.ReportMetric(float64((p50(fl)-p50(du)).Microseconds())/1000, "overhead-p50-ms")
}

// BenchmarkAttackRSS runs the bounded attacks of TestAttacks against a
// server with memory_limit 512MB and reports the process's peak resident
// memory (sampled every 20 ms) and the memory guard's limit.
func BenchmarkAttackRSS(b *testing.B) {
	ts := newServer(b, 10, func(c *server.Config) {
		c.QueryTimeout = 10 * time.Second
		c.MemoryLimit = "512MB"
	})
	c := ts.client(b)
	ctx := withToken(context.Background(), adminToken)
	attacks := []string{
		"WITH RECURSIVE t(s, n) AS (SELECT 'x', 0 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) SELECT max(length(s)) FROM t",
		"SELECT string_agg(range::VARCHAR, ',') FROM range(2000000000)",
		"SELECT list(range) FROM range(3000000000)",
		"SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7",
		"SELECT length(repeat('x',800000000))",
		"SELECT levenshtein(repeat('a',100000), repeat('ab',50000))",
	}
	rss := sampleRSS(20 * time.Millisecond)
	for b.Loop() {
		for _, q := range attacks {
			start := time.Now()
			_, _, err := query(ctx, b, c, q)
			b.Logf("%-40.40s %6.2fs %v", q, time.Since(start).Seconds(), status.Code(err))
			if _, _, err := query(withToken(context.Background(), otherToken), b, c, "SELECT count(*) FROM analyst.indicators"); err != nil {
				b.Fatalf("after %s: %v", q, err)
			}
		}
	}
	rss.Stop()
	b.ReportMetric(float64(rss.Peak())/(1<<20), "peak-rss-MiB")
	b.ReportMetric(float64(2*512e6+512<<20)/(1<<20), "guard-MiB")
}

// rssSampler keeps the process's peak resident set, read every interval
// (a benchmark's memory figure: the guard reads the same number).
type rssSampler struct {
	peak atomic.Int64
	stop chan struct{}
	done chan struct{}
}

func sampleRSS(every time.Duration) *rssSampler {
	s := &rssSampler{stop: make(chan struct{}), done: make(chan struct{})}
	s.peak.Store(server.ReadRSS())
	go func() {
		defer close(s.done)
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-s.stop:
				return
			case <-t.C:
				if r := server.ReadRSS(); r > s.peak.Load() {
					s.peak.Store(r)
				}
			}
		}
	}()
	return s
}

// Reset starts a new peak from the current resident set.
func (s *rssSampler) Reset() { s.peak.Store(server.ReadRSS()) }

// Peak is the largest resident set seen since the start or the last Reset.
func (s *rssSampler) Peak() int64 { return max(s.peak.Load(), server.ReadRSS()) }

// Stop ends the sampling.
func (s *rssSampler) Stop() {
	close(s.stop)
	<-s.done
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
// reports rows/s against DuckDB producing the same Arrow batches itself
// in-process: through duckdb-go's Arrow reader (which materialises the
// whole result first: the reference) and through the server's
// streaming reader without the network (DuckDB's own streaming rate, the
// bound on what the server can send). It also reports the process's peak
// resident memory in each phase (sampled every 10 ms; the client shares
// the process). The Flight phase runs first in each iteration, so with
// -benchtime 1x (make bench) its peak is not inflated by memory the
// allocator kept from the materialising phase.
func BenchmarkThroughput(b *testing.B) {
	const rows = 2_000_000
	ts := newServer(b, rows, nil)
	c := ts.client(b)
	ctx := withToken(context.Background(), adminToken)
	run, closeFn := directRunner(b, ts.wh)
	defer closeFn()
	runStream, closeStream := streamRunner(b, ts.wh)
	defer closeStream()
	const q = "SELECT * FROM marts.trends"
	var flightTime, directTime, streamTime time.Duration
	base := server.ReadRSS()
	rss := sampleRSS(10 * time.Millisecond)
	var flightPeak, directPeak, streamPeak int64
	phase := func(peakOut *int64, total *time.Duration, f func() int64) int64 {
		rss.Reset()
		t0 := time.Now()
		n := f()
		*total += time.Since(t0)
		*peakOut = max(*peakOut, rss.Peak())
		return n
	}
	for b.Loop() {
		n := phase(&flightPeak, &flightTime, func() int64 {
			info, err := c.Execute(ctx, q)
			if err != nil {
				b.Fatal(err)
			}
			rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
			if err != nil {
				b.Fatal(err)
			}
			defer rdr.Release()
			var n int64
			for rdr.Next() {
				n += rdr.RecordBatch().NumRows()
			}
			if err := rdr.Err(); err != nil {
				b.Fatal(err)
			}
			return n
		})
		ns := phase(&streamPeak, &streamTime, func() int64 { return runStream(q) })
		m := phase(&directPeak, &directTime, func() int64 { return run(q) })
		if n != rows || m != rows || ns != rows {
			b.Fatalf("flight %d rows, duckdb %d, duckdb streaming %d, want %d", n, m, ns, rows)
		}
	}
	rss.Stop()
	total := float64(rows) * float64(b.N)
	mib := func(v int64) float64 { return float64(v) / (1 << 20) }
	b.ReportMetric(total/flightTime.Seconds(), "flight-rows/s")
	b.ReportMetric(total/directTime.Seconds(), "duckdb-rows/s")
	b.ReportMetric(total/streamTime.Seconds(), "duckdb-stream-rows/s")
	b.ReportMetric(directTime.Seconds()/flightTime.Seconds(), "flight/duckdb")
	b.ReportMetric(streamTime.Seconds()/flightTime.Seconds(), "flight/duckdb-stream")
	b.ReportMetric(mib(base), "start-rss-MiB")
	b.ReportMetric(mib(flightPeak), "flight-peak-rss-MiB")
	b.ReportMetric(mib(streamPeak), "duckdb-stream-peak-rss-MiB")
	b.ReportMetric(mib(directPeak), "duckdb-peak-rss-MiB")
}
