//go:build duckdb_arrow

package server_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/server"
)

// endless is a result no server could hold: 10^11 rows of ~100 bytes.
const endless = "SELECT range AS i, range::VARCHAR || ' padding to about a hundred bytes a row, so the rows soon outgrow the memory limit' AS pad FROM range(100000000000)"

// TestResultStreams: a result far larger than the memory limit is sent as
// DuckDB computes it (a materialising server would time out or hit its
// memory guard before GetFlightInfo answered); a client that stops reading
// frees its query slot; a query past its timeout mid-stream ends the
// stream with DeadlineExceeded after the rows already sent.
func TestResultStreams(t *testing.T) {
	ts := newServer(t, 10, func(c *server.Config) {
		c.MemoryLimit = "256MB"
		c.QueryTimeout = 8 * time.Second
		c.Limits.ConcurrentPerToken = 1
		c.Limits.QueueWait = 10 * time.Second
	})
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)

	t.Run("unbounded result, client stops", func(t *testing.T) {
		info, err := c.Execute(ctx, endless)
		if err != nil {
			t.Fatalf("execute: %v", err)
		}
		rctx, cancel := context.WithCancel(ctx)
		rdr, err := c.DoGet(rctx, info.Endpoint[0].Ticket)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		var n int64
		for n < 3_000_000 && rdr.Next() {
			rec := rdr.RecordBatch()
			if got := rec.Column(0).ValueStr(0); got != strconv.FormatInt(n, 10) {
				t.Fatalf("row %d: i = %s", n, got)
			}
			n += rec.NumRows()
		}
		cancel()
		rdr.Release()
		if n < 3_000_000 {
			t.Fatalf("stream ended after %d rows: %v", n, rdr.Err())
		}
		// One query slot per token: this waits for the abandoned stream
		// to be interrupted and released.
		rows, _, err := query(ctx, t, c, "SELECT 42")
		if err != nil || len(rows) != 1 || rows[0][0] != "42" {
			t.Fatalf("next query of the same token: %v %v", rows, err)
		}
	})

	t.Run("timeout mid-stream", func(t *testing.T) {
		info, err := c.Execute(ctx, endless)
		if err != nil {
			t.Fatalf("execute: %v", err)
		}
		rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
		if err != nil {
			t.Fatal(err)
		}
		var n int64
		for rdr.Next() {
			n += rdr.RecordBatch().NumRows()
		}
		err = rdr.Err()
		rdr.Release()
		if n == 0 {
			t.Errorf("no rows before the timeout")
		}
		if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "timed out") {
			t.Errorf("stream ended with %v, want DeadlineExceeded", err)
		}
		stillServes(t, ts, c)
	})
}
