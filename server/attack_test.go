//go:build duckdb_arrow

package server_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/server"
)

// attackServer runs with short limits so the bounded attacks end quickly.
func attackServer(t *testing.T) *testServer {
	return newServer(t, 10, func(c *server.Config) {
		c.QueryTimeout = 2 * time.Second
		c.Limits = server.Limits{PreparedPerToken: 20, PreparedBytesPerToken: 64 << 10, PendingPerToken: 3,
			ConcurrentPerToken: 3, QueueWait: 300 * time.Millisecond, MaxQueryBytes: 32 << 10}
	})
}

// stillServes checks that another token gets answers, queries and catalog.
func stillServes(t *testing.T, ts *testServer, c *flightsql.Client) {
	t.Helper()
	ctx := withToken(context.Background(), otherToken)
	rows, _, err := query(ctx, t, c, "SELECT count(*) FROM analyst.indicators")
	if err != nil || len(rows) != 1 || rows[0][0] != "3" {
		t.Fatalf("next query from another token: %v %v", rows, err)
	}
	info, err := c.GetTables(ctx, &flightsql.GetTablesOpts{IncludeSchema: true})
	if err != nil {
		t.Fatalf("catalog after attack: %v", err)
	}
	if _, _, err := fetch(ctx, t, c, info); err != nil {
		t.Fatalf("catalog after attack: %v", err)
	}
}

// TestAttacks: every case of issue 12 is refused before it runs, or
// bounded, and the endpoint answers the next query from another token.
func TestAttacks(t *testing.T) {
	ts := attackServer(t)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	refused := []string{
		// Settings and logging: would break or spy on every client.
		"SELECT * FROM enable_logging(storage='file', storage_path='/x')",
		"SELECT * FROM enable_logging(level='trace')",
		"SELECT * FROM ENABLE_LOGGING(level := 'trace')",
		`SELECT * FROM "enable_logging"(level='trace')`,
		"SELECT * FROM duckdb_logs()",
		"SELECT * FROM truncate_duckdb_logs()",
		"SELECT * FROM disable_logging()",
		"SELECT * FROM enable_profiling()",
		"SELECT current_setting('memory_limit')",
		"SELECT getvariable('x')",
		// Catalogue and internals: paths, lake layout, internal tables.
		"SELECT * FROM duckdb_settings()",
		"SELECT * FROM duckdb_databases()",
		"SELECT * FROM duckdb_views()",
		"SELECT * FROM duckdb_tables()",
		"SELECT * FROM duckdb_functions()",
		"FROM duckdb_databases",
		"SELECT * FROM system.main.duckdb_databases",
		"SELECT * FROM information_schema.tables",
		"SELECT * FROM pg_catalog.pg_tables",
		"SELECT * FROM core.practices",
		"SELECT * FROM warehouse.core.practices",
		"SELECT * FROM _gplens.meta",
		"SELECT * FROM practices",
		"SELECT * FROM pragma_database_size()",
		"SELECT * FROM pragma_table_info('marts.trends')",
		"SHOW TABLES",
		"SHOW ALL TABLES",
		"SELECT version()",
		// A CTE that shadows a system view where it is not in scope.
		"SELECT * FROM (WITH duckdb_databases AS (SELECT 1) SELECT 1), duckdb_databases",
		"WITH a AS (SELECT * FROM duckdb_databases), duckdb_databases AS (SELECT 1) SELECT * FROM a",
		// SQL inside SQL.
		"SELECT * FROM query('SELECT * FROM duckdb_settings()')",
		"SELECT * FROM query_table('marts.trends')",
		"SELECT json_serialize_plan('SELECT * FROM duckdb_settings()')",
		"SELECT * FROM json_execute_serialized_sql('x')",
		// Files.
		"SELECT * FROM read_csv('/etc/passwd')",
		"SELECT * FROM read_parquet('x.parquet')",
		"SELECT * FROM 'x.csv'",
		"SELECT * FROM glob('/*')",
		// One call that runs for minutes or allocates gigabytes between
		// interrupt checks.
		"SELECT levenshtein(repeat('a',100000), repeat('ab',50000))",
		"SELECT length(repeat('x',800000000))",
		"SELECT lpad('x', 800000000, 'y')",
		"SELECT printf('%800000000d', 1)",
		"SELECT format('{:>800000000}', 'x')",
		"SELECT bar(1, 0, 1, 800000000)",
		"SELECT list_resize([1], 800000000)",
		"SELECT range(800000000)",
		"SELECT damerau_levenshtein('a', 'b')",
		// Sequences, sleeps and time travel.
		"SELECT nextval('s')",
		"SELECT sleep_ms(100000)",
		"SELECT * FROM marts.trends AT (VERSION => 1)",
		// Statements other than SELECT.
		"SET memory_limit = '100GB'",
		"SET VARIABLE x = 1",
		"PRAGMA enable_logging",
		"CALL enable_logging()",
		"SELECT 1; SELECT * FROM duckdb_settings()",
		"SELECT * FROM marts.trends; SET threads = 1",
	}
	for _, q := range refused {
		t.Run(q, func(t *testing.T) {
			_, err := c.Execute(ctx, q)
			code := status.Code(err)
			if code != codes.PermissionDenied && code != codes.InvalidArgument {
				t.Fatalf("got %v, want it refused", err)
			}
			msg := status.Convert(err).Message()
			if msg == "" || strings.Contains(msg, ts.ws) {
				t.Errorf("message %q is empty or shows the workspace path", msg)
			}
			// Prepared statements go through the same check.
			if _, err := c.Prepare(ctx, q); status.Code(err) != code {
				t.Errorf("prepare: got %v, want %s", err, code)
			}
		})
	}
	stillServes(t, ts, c)

	bounded := []string{
		"WITH RECURSIVE t(s, n) AS (SELECT 'x', 0 UNION ALL SELECT s || s, n + 1 FROM t WHERE n < 40) SELECT max(length(s)) FROM t",
		"SELECT string_agg(range::VARCHAR, ',') FROM range(2000000000)",
		"SELECT count(*) FROM range(100000000) a, range(100000000) b WHERE a.range + b.range = 7",
		"SELECT list(range) FROM range(3000000000)",
	}
	for _, q := range bounded {
		t.Run(q, func(t *testing.T) {
			start := time.Now()
			_, _, err := query(ctx, t, c, q)
			if err == nil {
				t.Fatal("ran to completion; want it stopped by the timeout or a memory limit")
			}
			if el := time.Since(start); el > 20*time.Second {
				t.Errorf("stopped after %s with a 2s timeout", el)
			}
			code := status.Code(err)
			if code != codes.DeadlineExceeded && code != codes.Canceled && code != codes.ResourceExhausted && code != codes.InvalidArgument {
				t.Errorf("code %s (%v)", code, err)
			}
			stillServes(t, ts, c)
		})
	}
}

// TestQuotasPerToken: one token filling its prepared statements and
// pending results does not stop another token.
func TestQuotasPerToken(t *testing.T) {
	ts := attackServer(t)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	var handles []*flightsql.PreparedStatement
	for i := 0; i < 20; i++ {
		st, err := c.Prepare(ctx, "SELECT count(*) FROM marts.trends WHERE value > ?")
		if err != nil {
			t.Fatalf("prepare %d: %v", i, err)
		}
		handles = append(handles, st)
	}
	if _, err := c.Prepare(ctx, "SELECT 1"); status.Code(err) != codes.ResourceExhausted {
		t.Fatalf("21st prepare: %v, want ResourceExhausted", err)
	}
	octx := withToken(context.Background(), otherToken)
	st, err := c.Prepare(octx, "SELECT 1")
	if err != nil {
		t.Fatalf("another token cannot prepare: %v", err)
	}
	_ = st.Close(octx)
	// Closing one frees a place.
	if err := handles[0].Close(ctx); err != nil {
		t.Fatal(err)
	}
	if st, err := c.Prepare(ctx, "SELECT 1"); err != nil {
		t.Fatalf("after close: %v", err)
	} else {
		_ = st.Close(ctx)
	}
	// Big statements count by size.
	big := "SELECT 1 AS x" + strings.Repeat(" ", 30<<10)
	for _, h := range handles[1:] {
		_ = h.Close(ctx)
	}
	if _, err := c.Prepare(ctx, big+strings.Repeat(" ", 4<<10)); status.Code(err) != codes.InvalidArgument {
		t.Errorf("query over MaxQueryBytes: %v", err)
	}
	for i := 0; i < 2; i++ {
		if _, err := c.Prepare(ctx, big); err != nil {
			t.Fatalf("big %d: %v", i, err)
		}
	}
	if _, err := c.Prepare(ctx, big); status.Code(err) != codes.ResourceExhausted {
		t.Errorf("third 30 KiB statement over a 64 KiB quota: %v", err)
	}

	// Results executed and never fetched: the token is held to its own
	// share and the other token still runs.
	var infos int
	for i := 0; i < 6; i++ {
		if _, err := c.Execute(ctx, "SELECT * FROM marts.trends"); err != nil {
			if status.Code(err) != codes.ResourceExhausted {
				t.Fatalf("pending %d: %v", i, err)
			}
			break
		}
		infos++
	}
	if infos > 3 {
		t.Errorf("%d results pending for one token, quota 3", infos)
	}
	stillServes(t, ts, c)
}
