//go:build duckdb_arrow

package server_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/flight"
	"github.com/apache/arrow-go/v18/arrow/flight/flightsql"
	"github.com/apache/arrow-go/v18/arrow/memory"
	"github.com/duckdb/duckdb-go/v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/server"
	"github.com/gplens/gplens/snapshot"
	"github.com/gplens/gplens/snapshot/snapshottest"
)

const (
	adminToken  = "admin-token-0123456789"
	otherToken  = "other-token-0123456789"
	icbToken    = "icb-token-QAA-01234567"
	subICBToken = "subicb-token-AAA1-0123"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type testServer struct {
	srv  *server.Server
	ws   string
	wh   string
	addr string
}

// newServer publishes a fixture warehouse (version 1, trendRows rows in
// marts.trends) and serves it on a free port until the test ends.
func newServer(t testing.TB, trendRows int, mod func(*server.Config)) *testServer {
	t.Helper()
	ctx := context.Background()
	ws := t.TempDir()
	wh := filepath.Join(ws, "warehouse.duckdb")
	if err := snapshottest.Warehouse(ctx, wh, 1, trendRows); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.PublishContext(ctx, ws, wh, "v1", snapshot.Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{
		Addr:      "127.0.0.1:0",
		Workspace: ws,
		Tokens: []server.Token{
			{Name: "admin", Token: adminToken},
			{Name: "other", Token: otherToken},
			{Name: "icb-a", Token: icbToken, ICB: "QAA"},
			{Name: "sub-a1", Token: subICBToken, SubICB: "AAA1"},
		},
		MemoryLimit:  "512MB",
		Threads:      2,
		PollInterval: -1,
		Logger:       quiet,
	}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{srv: srv, ws: ws, wh: wh, addr: srv.Addr().String()}
}

func (ts *testServer) client(t testing.TB) *flightsql.Client {
	t.Helper()
	c, err := flightsql.NewClient(ts.addr, nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func withToken(ctx context.Context, tok string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tok)
}

// rowsOf renders every value of a record stream as text, row by row.
func rowsOf(t testing.TB, rdr array.RecordReader) [][]string {
	t.Helper()
	var out [][]string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for c := range row {
				col := rec.Column(c)
				if col.IsNull(i) {
					row[c] = "NULL"
				} else {
					// Clone: the text may point into Arrow buffers freed with the batch.
					row[c] = strings.Clone(col.ValueStr(i))
				}
			}
			out = append(out, row)
		}
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// fetch runs a FlightInfo's stream to the end.
func fetch(ctx context.Context, t testing.TB, c *flightsql.Client, info *flight.FlightInfo) ([][]string, *arrow.Schema, error) {
	t.Helper()
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var out [][]string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for col := range row {
				if rec.Column(col).IsNull(i) {
					row[col] = "NULL"
				} else {
					row[col] = strings.Clone(rec.Column(col).ValueStr(i))
				}
			}
			out = append(out, row)
		}
	}
	return out, rdr.Schema(), rdr.Err()
}

func query(ctx context.Context, t testing.TB, c *flightsql.Client, q string) ([][]string, *arrow.Schema, error) {
	t.Helper()
	info, err := c.Execute(ctx, q)
	if err != nil {
		return nil, nil, err
	}
	return fetch(ctx, t, c, info)
}

// direct runs q in DuckDB on the warehouse file, through DuckDB's own Arrow
// interface.
func direct(t testing.TB, path, q string, args ...any) ([][]string, *arrow.Schema) {
	t.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	var rows [][]string
	var schema *arrow.Schema
	err = conn.Raw(func(dc any) error {
		ar, err := duckdb.NewArrowFromConn(dc.(*duckdb.Conn))
		if err != nil {
			return err
		}
		rdr, err := ar.QueryContext(ctx, q, args...)
		if err != nil {
			return err
		}
		defer rdr.Release()
		schema = rdr.Schema()
		rows = rowsOf(t, rdr)
		return nil
	})
	if err != nil {
		t.Fatal(q, err)
	}
	return rows, schema
}

func equalRows(a, b [][]string) bool {
	return slices.EqualFunc(a, b, func(x, y []string) bool { return slices.Equal(x, y) })
}

func TestQueriesMatchDuckDB(t *testing.T) {
	ts := newServer(t, 5000, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	queries := []string{
		"SELECT * FROM marts.indicator_values ORDER BY indicator_id, area_level, area_code",
		"SELECT * FROM analyst.practices ORDER BY practice_code",
		"SELECT indicator_id, count(*) AS n, avg(value) AS mean FROM marts.indicator_values GROUP BY ALL ORDER BY 1",
		"WITH x AS (SELECT * FROM marts.area_summary) SELECT area_level, sum(list_size) FROM x GROUP BY 1 ORDER BY 1",
		"SELECT * FROM marts.icb_values ORDER BY indicator_id, area_code",
		"SELECT * FROM marts.trends ORDER BY area_code, month, value",
		"FROM analyst.indicators ORDER BY indicator_id",
		"SELECT 1 AS one, NULL::VARCHAR AS nothing, DATE '2024-03-31' AS d, 2.5::DECIMAL(10,2) AS dec -- trailing comment",
		"SELECT * FROM marts.indicator_values WHERE false",
	}
	for _, q := range queries {
		t.Run(q, func(t *testing.T) {
			got, gotSchema, err := query(ctx, t, c, q)
			if err != nil {
				t.Fatal(err)
			}
			want, wantSchema := direct(t, ts.wh, q)
			if !gotSchema.Equal(wantSchema) {
				t.Errorf("schema\n got %s\nwant %s", gotSchema, wantSchema)
			}
			if !equalRows(got, want) {
				t.Errorf("rows differ: got %d rows, want %d; first got %v want %v", len(got), len(want), first(got), first(want))
			}
		})
	}
}

func first(r [][]string) []string {
	if len(r) == 0 {
		return nil
	}
	return r[0]
}

func TestPreparedStatements(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	const q = "SELECT area_code, value FROM marts.indicator_values WHERE indicator_id = ? AND area_level = ? ORDER BY area_code"
	stmt, err := c.Prepare(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	defer stmt.Close(ctx)
	if n := len(stmt.ParameterSchema().Fields()); n != 2 {
		t.Fatalf("parameter schema has %d fields, want 2", n)
	}
	cases := []struct{ indicator, level string }{
		{"qof_ach_DM012", "practice"},
		{"pay_total_per_weighted", "icb"},
		{"qof_ach_DM012", "nowhere"},
	}
	for _, tc := range cases {
		schema := arrow.NewSchema([]arrow.Field{{Name: "a", Type: arrow.BinaryTypes.String}, {Name: "b", Type: arrow.BinaryTypes.String}}, nil)
		b := array.NewRecordBuilder(memory.DefaultAllocator, schema)
		b.Field(0).(*array.StringBuilder).Append(tc.indicator)
		b.Field(1).(*array.StringBuilder).Append(tc.level)
		rec := b.NewRecordBatch()
		b.Release()
		stmt.SetParameters(rec)
		info, err := stmt.Execute(ctx)
		rec.Release()
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := fetch(ctx, t, c, info)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := direct(t, ts.wh, q, tc.indicator, tc.level)
		if !equalRows(got, want) {
			t.Errorf("%v: got %v, want %v", tc, got, want)
		}
		if tc.level != "nowhere" && len(want) == 0 {
			t.Errorf("%v: fixture should have rows", tc)
		}
	}

	// Without parameters the dataset schema is known at prepare time.
	stmt2, err := c.Prepare(ctx, "SELECT indicator_id, public FROM analyst.indicators ORDER BY 1")
	if err != nil {
		t.Fatal(err)
	}
	defer stmt2.Close(ctx)
	if ds := stmt2.DatasetSchema(); ds == nil || ds.NumFields() != 2 || ds.Field(1).Type.ID() != arrow.BOOL {
		t.Errorf("dataset schema = %v", ds)
	}
	info, err := stmt2.Execute(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _, err := fetch(ctx, t, c, info)
	if err != nil {
		t.Fatal(err)
	}
	want, _ := direct(t, ts.wh, "SELECT indicator_id, public FROM analyst.indicators ORDER BY 1")
	if !equalRows(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}

	// Preparing a forbidden statement fails up front.
	if _, err := c.Prepare(ctx, "DELETE FROM analyst.indicators"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("prepare DELETE: %v", err)
	}
	// Another user cannot use this user's statement.
	if _, err := stmt2.Execute(withToken(context.Background(), otherToken)); status.Code(err) != codes.NotFound {
		t.Errorf("other user's execute: %v", err)
	}
}

func TestForbiddenStatements(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	outside := filepath.Join(t.TempDir(), "leak")
	cases := []struct {
		q    string
		want codes.Code
	}{
		{"CREATE TABLE marts.x AS SELECT 1", codes.PermissionDenied},
		{"CREATE TEMP TABLE x AS SELECT 1", codes.PermissionDenied},
		{"INSERT INTO analyst.indicators SELECT * FROM analyst.indicators", codes.PermissionDenied},
		{"UPDATE analyst.indicators SET public = true", codes.PermissionDenied},
		{"DELETE FROM analyst.indicators", codes.PermissionDenied},
		{"DROP TABLE analyst.indicators", codes.PermissionDenied},
		{"SELECT * FROM read_csv('/etc/passwd')", codes.PermissionDenied},
		{"SELECT * FROM read_text('/etc/hostname')", codes.PermissionDenied},
		{"SELECT * FROM glob('/etc/*')", codes.PermissionDenied},
		{"COPY analyst.indicators TO '" + outside + ".csv'", codes.PermissionDenied},
		{"COPY (SELECT 1) TO '" + outside + ".parquet'", codes.PermissionDenied},
		{"EXPORT DATABASE '" + outside + "'", codes.PermissionDenied},
		{"ATTACH '" + outside + ".duckdb' AS x", codes.PermissionDenied},
		{"DETACH warehouse", codes.PermissionDenied},
		{"INSTALL httpfs", codes.PermissionDenied},
		{"LOAD httpfs", codes.PermissionDenied},
		{"SET threads = 1", codes.PermissionDenied},
		{"SET enable_external_access = true", codes.PermissionDenied},
		{"RESET lock_configuration", codes.PermissionDenied},
		{"PRAGMA threads = 1", codes.PermissionDenied},
		{"PRAGMA enable_profiling", codes.PermissionDenied},
		{"CALL pragma_version()", codes.PermissionDenied},
		{"USE memory", codes.PermissionDenied},
		{"BEGIN TRANSACTION", codes.PermissionDenied},
		{"CHECKPOINT", codes.PermissionDenied},
		{"SELECT 1; DROP TABLE analyst.indicators", codes.PermissionDenied},
		{"SELECT 1; SELECT 2", codes.InvalidArgument},
		{"SELECT * FROM query('CREATE TEMP TABLE t AS SELECT 1')", codes.PermissionDenied},
		{"SELEC 1", codes.InvalidArgument},
		{"", codes.InvalidArgument},
	}
	for _, tc := range cases {
		t.Run(tc.q, func(t *testing.T) {
			_, err := c.Execute(ctx, tc.q)
			if status.Code(err) != tc.want {
				t.Fatalf("got %v, want code %s", err, tc.want)
			}
			if msg := status.Convert(err).Message(); msg == "" {
				t.Error("empty error message")
			}
		})
	}
	if matches, _ := filepath.Glob(outside + "*"); len(matches) > 0 {
		t.Errorf("files written outside: %v", matches)
	}
	if _, err := c.ExecuteUpdate(ctx, "DELETE FROM analyst.indicators"); status.Code(err) != codes.PermissionDenied {
		t.Errorf("ExecuteUpdate: %v", err)
	}
	// The table is intact and the session still works.
	rows, _, err := query(ctx, t, c, "SELECT count(*) FROM analyst.indicators")
	if err != nil || len(rows) != 1 || rows[0][0] != "3" {
		t.Errorf("after refusals: %v %v", rows, err)
	}
}

func TestAuthentication(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	bg := context.Background()
	okInfo, err := c.Execute(withToken(bg, adminToken), "SELECT 42")
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		ctx  context.Context
	}{
		{"no token", bg},
		{"wrong token", withToken(bg, "not-a-real-token-at-all")},
		{"prefix of token", withToken(bg, adminToken[:10])},
		{"token without Bearer", metadata.AppendToOutgoingContext(bg, "authorization", adminToken)},
		{"basic auth", metadata.AppendToOutgoingContext(bg, "authorization", "Basic YWRtaW46YWRtaW4=")},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := c.Execute(tc.ctx, "SELECT 1"); status.Code(err) != codes.Unauthenticated {
				t.Errorf("Execute: %v", err)
			}
			if _, err := c.GetCatalogs(tc.ctx); status.Code(err) != codes.Unauthenticated {
				t.Errorf("GetCatalogs: %v", err)
			}
			// A ticket is no use without a token.
			rdr, err := c.DoGet(tc.ctx, okInfo.Endpoint[0].Ticket)
			if err == nil {
				_, err = rdr.Read()
				rdr.Release()
			}
			if status.Code(err) != codes.Unauthenticated {
				t.Errorf("DoGet: %v", err)
			}
		})
	}
	// Nor with another user's token.
	if _, _, err := fetch(withToken(bg, otherToken), t, c, okInfo); status.Code(err) != codes.NotFound {
		t.Errorf("other user's ticket: %v", err)
	}
	rows, _, err := fetch(withToken(bg, adminToken), t, c, okInfo)
	if err != nil || len(rows) != 1 || rows[0][0] != "42" {
		t.Errorf("owner's ticket: %v %v", rows, err)
	}
	// A ticket is single use.
	if _, _, err := fetch(withToken(bg, adminToken), t, c, okInfo); status.Code(err) != codes.NotFound {
		t.Errorf("reused ticket: %v", err)
	}
}

func TestPublishDuringStream(t *testing.T) {
	const n = 100_000
	ts := newServer(t, n, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	// min(value) is the fixture version; every row says which snapshot it came from.
	info, err := c.Execute(ctx, "SELECT value, (SELECT version FROM analyst.snapshot_meta) AS version FROM marts.trends")
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	if !rdr.Next() {
		t.Fatal("no first batch", rdr.Err())
	}
	rows := int(rdr.RecordBatch().NumRows())
	if rows >= n {
		t.Fatalf("first batch holds all %d rows; the test needs a stream", rows)
	}
	checkVersion := func(rec arrow.RecordBatch, want int32) {
		v := rec.Column(1).(*array.Int32)
		for i := 0; i < v.Len(); i++ {
			if v.Value(i) != want {
				t.Fatalf("row from version %d, want %d", v.Value(i), want)
			}
		}
	}
	checkVersion(rdr.RecordBatch(), 1)

	// Publish version 2 underneath the open stream.
	os.Remove(ts.wh)
	if err := snapshottest.Warehouse(context.Background(), ts.wh, 2, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.PublishContext(context.Background(), ts.ws, ts.wh, "v2", snapshot.Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	got, _, err := query(ctx, t, c, "SELECT version FROM analyst.snapshot_meta")
	if err != nil || len(got) != 1 || got[0][0] != "2" {
		t.Fatalf("new query after publish: %v %v", got, err)
	}
	for rdr.Next() {
		checkVersion(rdr.RecordBatch(), 1)
		rows += int(rdr.RecordBatch().NumRows())
	}
	if err := rdr.Err(); err != nil {
		t.Fatal(err)
	}
	if rows != n {
		t.Errorf("old stream delivered %d rows, want %d", rows, n)
	}
}

func TestConcurrentClients(t *testing.T) {
	ts := newServer(t, 2000, nil)
	const q = "SELECT area_code, count(*), sum(value) FROM marts.trends WHERE area_code = ? GROUP BY 1"
	codes5 := []string{"P001", "P002", "P003", "P004", "P005"}
	want := map[string][][]string{}
	for _, code := range codes5 {
		want[code], _ = direct(t, ts.wh, q, code)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 50)
	for i := 0; i < 50; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := ts.client(t)
			ctx := withToken(context.Background(), adminToken)
			code := codes5[i%5]
			got, _, err := query(ctx, t, c, strings.Replace(q, "?", "'"+code+"'", 1))
			if err != nil {
				errs <- err
				return
			}
			if !equalRows(got, want[code]) {
				errs <- fmt.Errorf("client %d: got %v, want %v", i, got, want[code])
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestCatalogCalls(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)

	info, err := c.GetCatalogs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := fetch(ctx, t, c, info)
	if err != nil || len(rows) != 1 || rows[0][0] != snapshot.Catalog {
		t.Errorf("catalogs: %v %v", rows, err)
	}

	pattern := "%ar%"
	info, err = c.GetDBSchemas(ctx, &flightsql.GetDBSchemasOpts{DbSchemaFilterPattern: &pattern})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err = fetch(ctx, t, c, info)
	if err != nil || len(rows) != 1 || rows[0][1] != "marts" {
		t.Errorf("schemas like %s: %v %v", pattern, rows, err)
	}

	info, err = c.GetTables(ctx, &flightsql.GetTablesOpts{IncludeSchema: true})
	if err != nil {
		t.Fatal(err)
	}
	rdr, err := c.DoGet(ctx, info.Endpoint[0].Ticket)
	if err != nil {
		t.Fatal(err)
	}
	defer rdr.Release()
	tables := map[string]string{}
	var ivSchema *arrow.Schema
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			name := rec.Column(1).ValueStr(i) + "." + rec.Column(2).ValueStr(i)
			tables[name] = rec.Column(3).ValueStr(i)
			if name == "marts.indicator_values" {
				ivSchema, err = flight.DeserializeSchema(rec.Column(4).(*array.Binary).Value(i), memory.DefaultAllocator)
				if err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for name, typ := range map[string]string{"analyst.indicators": "VIEW", "analyst.practices": "VIEW", "core.practices": "", "_gplens.meta": "", "marts.indicator_values": "TABLE", "marts.icb_values": "VIEW", "marts.trends": "TABLE"} {
		if tables[name] != typ {
			t.Errorf("table %s: type %q, want %q (all: %v)", name, tables[name], typ, tables)
		}
	}
	_, wantSchema := direct(t, ts.wh, "SELECT * FROM marts.indicator_values LIMIT 0")
	if ivSchema == nil || ivSchema.NumFields() != wantSchema.NumFields() {
		t.Fatalf("included schema %v, want %v", ivSchema, wantSchema)
	}
	for i, f := range ivSchema.Fields() {
		w := wantSchema.Field(i)
		if f.Name != w.Name || !arrow.TypeEqual(f.Type, w.Type) {
			t.Errorf("field %d: %s %s, want %s %s", i, f.Name, f.Type, w.Name, w.Type)
		}
		md := flightsql.ColumnMetadata{Data: &f.Metadata}
		if tn, ok := md.TypeName(); !ok || tn == "" {
			t.Errorf("field %s: no type name in %v", f.Name, f.Metadata)
		}
		if s, ok := md.SchemaName(); !ok || s != "marts" {
			t.Errorf("field %s: schema name %q", f.Name, s)
		}
		if i := f.Metadata.FindKey("XDBC_NULLABLE"); i < 0 {
			t.Errorf("field %s: no XDBC_NULLABLE", f.Name)
		}
	}
	vf, _ := ivSchema.FieldsByName("value")
	if r, ok := (&flightsql.ColumnMetadata{Data: &vf[0].Metadata}).Remarks(); !ok || !strings.Contains(r, "indicator value") {
		t.Errorf("value column remarks = %q, want the column comment", r)
	}
	if tn, _ := (&flightsql.ColumnMetadata{Data: &vf[0].Metadata}).TypeName(); tn != "DOUBLE" {
		t.Errorf("value column type name = %q, want DOUBLE", tn)
	}

	viewType := []string{"VIEW"}
	info, err = c.GetTables(ctx, &flightsql.GetTablesOpts{TableTypes: viewType})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err = fetch(ctx, t, c, info)
	var views []string
	for _, r := range rows {
		views = append(views, r[1]+"."+r[2])
	}
	if want := []string{"analyst.indicators", "analyst.practices", "analyst.snapshot_meta", "analyst.variation", "marts.icb_values"}; err != nil || !slices.Equal(views, want) {
		t.Errorf("views: %v %v, want %v", views, err, want)
	}

	info, err = c.GetTableTypes(ctx)
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err = fetch(ctx, t, c, info)
	if err != nil || len(rows) != 2 {
		t.Errorf("table types: %v %v", rows, err)
	}

	info, err = c.GetSqlInfo(ctx, []flightsql.SqlInfo{flightsql.SqlInfoFlightSqlServerName, flightsql.SqlInfoFlightSqlServerReadOnly})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err = fetch(ctx, t, c, info)
	if err != nil || len(rows) != 2 {
		t.Fatalf("sql info: %v %v", rows, err)
	}
	joined := fmt.Sprint(rows)
	if !strings.Contains(joined, "gplens") || !strings.Contains(joined, "true") {
		t.Errorf("sql info = %v", rows)
	}
}

func TestRowLevelScoping(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	cases := []struct {
		name, token, q string
		want           []string // one value per row, first column
		wantErr        bool
	}{
		{"icb practices", icbToken, "SELECT DISTINCT practice_code FROM analyst.practices ORDER BY 1", []string{"P001", "P002", "P003"}, false},
		{"icb areas in values", icbToken, "SELECT DISTINCT area_level || ':' || area_code FROM marts.indicator_values ORDER BY 1",
			[]string{"england:E92000001", "icb:QAA", "practice:P001", "practice:P002", "practice:P003", "sub_icb:AAA1", "sub_icb:AAA2"}, false},
		{"fully qualified name is scoped too", icbToken, "SELECT DISTINCT icb_code FROM warehouse.analyst.practices", []string{"QAA"}, false},
		{"no referral rows", icbToken, "SELECT count(*) FROM marts.indicator_values WHERE indicator_id = 'ref_rate_per_1000'", []string{"0"}, false},
		{"referral columns emptied", icbToken, "SELECT DISTINCT coalesce(referrals::VARCHAR, 'null') FROM marts.area_summary", []string{"null"}, false},
		{"catalogue whole", icbToken, "SELECT count(*) FROM analyst.indicators", []string{"3"}, false},
		{"view rebuilt over scoped rows", icbToken, "SELECT DISTINCT area_code FROM marts.icb_values", []string{"QAA"}, false},
		{"unscopable table withheld", icbToken, "SELECT * FROM analyst.snapshot_meta", nil, true},
		{"sub-icb practices", subICBToken, "SELECT practice_code FROM analyst.practices ORDER BY 1", []string{"P001", "P002"}, false},
		{"sub-icb sees no icb rows", subICBToken, "SELECT DISTINCT area_level FROM marts.indicator_values ORDER BY 1", []string{"england", "practice", "sub_icb"}, false},
		{"sub-icb trends", subICBToken, "SELECT DISTINCT practice_code FROM marts.trends ORDER BY 1", []string{"P001", "P002"}, false},
		{"unscoped sees all", adminToken, "SELECT DISTINCT icb_code FROM analyst.practices ORDER BY 1", []string{"QAA", "QBB"}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rows, _, err := query(withToken(context.Background(), tc.token), t, c, tc.q)
			if tc.wantErr {
				if err == nil {
					t.Fatalf("want error, got %v", rows)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range rows {
				got = append(got, r[0])
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("got %v, want %v", got, tc.want)
			}
		})
	}
	// Scoped catalog calls list only what the scope holds.
	ctx := withToken(context.Background(), icbToken)
	info, err := c.GetTables(ctx, &flightsql.GetTablesOpts{})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := fetch(ctx, t, c, info)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r[1] != "marts" && r[1] != "analyst" {
			t.Errorf("scoped token sees %s.%s", r[1], r[2])
		}
		if r[2] == "snapshot_meta" {
			t.Errorf("scoped catalog lists a view over a withheld table")
		}
	}
}

func TestQueryTimeout(t *testing.T) {
	ts := newServer(t, 10, func(c *server.Config) { c.QueryTimeout = 200 * time.Millisecond })
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	_, _, err := query(ctx, t, c, "SELECT count(*) FROM range(1000000) a, range(1000000) b WHERE a.range + b.range = 7")
	if code := status.Code(err); code != codes.DeadlineExceeded && code != codes.Canceled {
		t.Fatalf("got %v, want a timeout", err)
	}
	// The server still answers.
	if _, _, err := query(ctx, t, c, "SELECT 1"); err != nil {
		t.Fatal(err)
	}
}

func TestEmptyWorkspace(t *testing.T) {
	srv, err := server.New(server.Config{Addr: "127.0.0.1:0", Workspace: t.TempDir(), Tokens: []server.Token{{Name: "a", Token: adminToken}}, Logger: quiet, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	defer func() { cancel(); <-done }()
	c, err := flightsql.NewClient(srv.Addr().String(), nil, nil, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, err = c.Execute(withToken(context.Background(), adminToken), "SELECT 1")
	if status.Code(err) != codes.Unavailable || !strings.Contains(err.Error(), "gplens publish") {
		t.Errorf("got %v", err)
	}
}

func TestConfigErrors(t *testing.T) {
	dir := t.TempDir()
	tokFile := filepath.Join(dir, "tokens")
	cases := []struct {
		name  string
		file  string
		cfg   server.Config
		field string // expected in the error
	}{
		{"no tokens", "", server.Config{}, "no tokens"},
		{"short token", "", server.Config{Tokens: []server.Token{{Name: "a", Token: "short"}}}, "shorter"},
		{"no name", "", server.Config{Tokens: []server.Token{{Token: adminToken}}}, "name is empty"},
		{"both scopes", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken, ICB: "QAA", SubICB: "AAA1"}}}, "not both"},
		{"bad code", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken, ICB: "Q'; --"}}}, "not an ODS code"},
		{"duplicate token", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken}, {Name: "b", Token: adminToken}}}, "token value used twice"},
		{"duplicate name", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken}, {Name: "a", Token: otherToken}}}, "name used twice"},
		{"file bad line", "alice\n", server.Config{TokenFile: tokFile}, "line 1"},
		{"file bad scope", "alice " + adminToken + " region=Y\n", server.Config{TokenFile: tokFile}, "unknown scope"},
		{"missing file", "", server.Config{TokenFile: filepath.Join(dir, "nope")}, "token file"},
		{"tls half", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken}}, TLSCert: "x.pem"}, "tls_key"},
		{"lower-case code", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken, ICB: "qaa"}}}, `"qaa" is not an ODS code`},
		{"file empty scope", "# tokens\nalice " + adminToken + " icb=\n", server.Config{TokenFile: tokFile}, "line 2: icb= has no area code"},
		{"file bad code names line", "alice " + adminToken + " sub_icb=aaa1\n", server.Config{TokenFile: tokFile}, `line 1 ("alice"): area code "aaa1"`},
		{"non-loopback without TLS", "", server.Config{Tokens: []server.Token{{Name: "a", Token: adminToken}}, Addr: "0.0.0.0:0"}, "--insecure"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if tc.file != "" {
				if err := os.WriteFile(tokFile, []byte(tc.file), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			tc.cfg.Workspace = dir
			if tc.cfg.Addr == "" {
				tc.cfg.Addr = "127.0.0.1:0"
			}
			tc.cfg.Logger = quiet
			_, err := server.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Errorf("got %v, want error mentioning %q", err, tc.field)
			}
		})
	}
}

// TestUnknownScopeRefused: a scope the published warehouse does not have
// stops the server at start, naming the token.
func TestUnknownScopeRefused(t *testing.T) {
	ts := newServer(t, 10, nil)
	tokFile := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(tokFile, []byte("bob "+otherToken+"x icb=QZZ\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := server.New(server.Config{Addr: "127.0.0.1:0", Workspace: ts.ws, Logger: quiet, PollInterval: -1,
		Tokens: []server.Token{{Name: "carol", Token: adminToken + "x", SubICB: "ZZZ9"}}, TokenFile: tokFile})
	for _, want := range []string{`entry 1 ("carol"): sub_icb ZZZ9 is not in the published warehouse`, `line 1 ("bob"): icb QZZ is not in the published warehouse`} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("got %v, want %q", err, want)
		}
	}
}

func TestTokenFile(t *testing.T) {
	ts := newServer(t, 10, func(c *server.Config) {
		f := filepath.Join(t.TempDir(), "tokens")
		body := "# comment\n\nfilereader file-token-0123456789\nscoped file-scoped-0123456789 icb=QBB\n"
		if err := os.WriteFile(f, []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
		c.TokenFile = f
	})
	c := ts.client(t)
	rows, _, err := query(withToken(context.Background(), "file-token-0123456789"), t, c, "SELECT count(DISTINCT icb_code) FROM analyst.practices")
	if err != nil || rows[0][0] != "2" {
		t.Errorf("file token: %v %v", rows, err)
	}
	rows, _, err = query(withToken(context.Background(), "file-scoped-0123456789"), t, c, "SELECT DISTINCT icb_code FROM analyst.practices")
	if err != nil || len(rows) != 1 || rows[0][0] != "QBB" {
		t.Errorf("scoped file token: %v %v", rows, err)
	}
}

func TestScopedFollowsPublish(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), icbToken)
	// list_size in the fixture's area_summary is 1000 * version + its row count.
	const q = "SELECT list_size FROM marts.area_summary WHERE area_level = 'icb'"
	before, _, err := query(ctx, t, c, q)
	if err != nil || len(before) != 1 || before[0][0] != "1003" {
		t.Fatalf("before publish: %v %v", before, err)
	}
	os.Remove(ts.wh)
	if err := snapshottest.Warehouse(context.Background(), ts.wh, 2, 10); err != nil {
		t.Fatal(err)
	}
	if _, err := snapshot.PublishContext(context.Background(), ts.ws, ts.wh, "v2", snapshot.Options{Logger: quiet}); err != nil {
		t.Fatal(err)
	}
	if err := ts.srv.Refresh(context.Background()); err != nil {
		t.Fatal(err)
	}
	after, _, err := query(ctx, t, c, q)
	if err != nil || len(after) != 1 || after[0][0] != "2003" {
		t.Fatalf("after publish: %v %v", after, err)
	}
	// The old snapshot, with its scoped copy, is closed: one reader link is left.
	links, err := os.ReadDir(filepath.Join(snapshot.Dir(ts.ws), ".open"))
	if err != nil || len(links) != 1 {
		t.Errorf("open links after swap: %v %v", links, err)
	}
}

func TestXdbcTypeInfo(t *testing.T) {
	ts := newServer(t, 10, nil)
	c := ts.client(t)
	ctx := withToken(context.Background(), adminToken)
	info, err := c.GetXdbcTypeInfo(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	all, _, err := fetch(ctx, t, c, info)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, r := range all {
		names[r[0]] = true
	}
	for _, want := range []string{"VARCHAR", "DOUBLE", "BIGINT", "DATE", "BOOLEAN"} {
		if !names[want] {
			t.Errorf("type %s missing from %v", want, names)
		}
	}
	varchar := int32(12)
	info, err = c.GetXdbcTypeInfo(ctx, &varchar)
	if err != nil {
		t.Fatal(err)
	}
	one, _, err := fetch(ctx, t, c, info)
	if err != nil || len(one) != 1 || one[0][0] != "VARCHAR" {
		t.Errorf("filtered: %v %v", one, err)
	}
}
