//go:build duckdb_arrow

package server_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/apache/arrow-adbc/go/adbc"
	adbcflight "github.com/apache/arrow-adbc/go/adbc/driver/flightsql"
	"github.com/apache/arrow-adbc/go/adbc/sqldriver"
	"github.com/apache/arrow-go/v18/arrow"
	"github.com/apache/arrow-go/v18/arrow/array"
	"github.com/apache/arrow-go/v18/arrow/memory"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/publish"
	"github.com/gplens/gplens/server"
	"github.com/gplens/gplens/snapshot"
	sqlmodels "github.com/gplens/gplens/sql"
	"github.com/gplens/gplens/synth"
	"github.com/gplens/gplens/transform"
)

// The settings the README's "Connecting" section gives Python/R/Superset
// users of ADBC; TestADBCConformance checks the README still says so.
const (
	readmeAuthOption = "adbc.flight.sql.authorization_header"
	readmeTLSOption  = "adbc.flight.sql.client_option.tls_root_certs"
)

// realWarehouse is one small synthetic England built with the real models
// and published, shared by the conformance tests.
var realWH struct {
	once sync.Once
	ws   string
	icb  string
	err  error
}

func realWorkspace(t *testing.T) (ws, icb string) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a synthetic warehouse with the real models")
	}
	realWH.once.Do(func() {
		ctx := context.Background()
		dir, err := os.MkdirTemp("", "gplens-adbc-")
		if err != nil {
			realWH.err = err
			return
		}
		realWH.ws = dir
		realWH.err = buildReal(ctx, dir)
		if realWH.err != nil {
			return
		}
		db, err := duck.Open(ctx, filepath.Join(dir, "warehouse.duckdb"), duck.Options{ReadOnly: true})
		if err != nil {
			realWH.err = err
			return
		}
		defer db.Close()
		realWH.err = db.QueryRow("SELECT min(icb_code) FROM analyst.practices").Scan(&realWH.icb)
	})
	if realWH.err != nil {
		t.Fatalf("synthetic warehouse: %v", realWH.err)
	}
	return realWH.ws, realWH.icb
}

func buildReal(ctx context.Context, dir string) error {
	out := filepath.Join(dir, "extracts")
	sum, err := synth.Generate(ctx, synth.Config{Out: out, Practices: 60, Months: 13, Seed: 3, EndMonth: "2024-03"})
	if err != nil {
		return err
	}
	lake := filepath.Join(dir, "lake")
	for _, f := range sum.Files {
		if strings.HasPrefix(f.Path, "_truth/") {
			continue
		}
		if _, err := ingest.File(ctx, filepath.Join(out, filepath.FromSlash(f.Path)), ingest.Options{Lake: lake, Quarantine: filepath.Join(dir, "quarantine")}); err != nil {
			return err
		}
	}
	p, err := transform.Load(ctx, sqlmodels.FS())
	if err != nil {
		return err
	}
	cols := ingest.Tables()
	var names []string
	for n := range cols {
		names = append(names, n)
	}
	sort.Strings(names)
	var tables []transform.LakeTable
	for _, n := range names {
		tables = append(tables, transform.LakeTable{Name: n, Glob: transform.LakeGlob(lake, n), Columns: cols[n]})
	}
	_, err = transform.Build(ctx, p, transform.Options{Warehouse: filepath.Join(dir, "warehouse.duckdb"), Lake: tables, Full: true, Threads: 2,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	return err
}

// TestMain removes the shared synthetic workspace.
func TestMain(m *testing.M) {
	code := m.Run()
	if realWH.ws != "" {
		os.RemoveAll(realWH.ws)
	}
	os.Exit(code)
}

// realServer publishes the synthetic warehouse (with the ICB token's
// scoped copy, as `gplens publish` does) into a fresh workspace and serves it.
func realServer(t *testing.T, mod func(*server.Config)) (*testServer, string) {
	t.Helper()
	src, icb := realWorkspace(t)
	ws := t.TempDir()
	toks := []server.Token{
		{Name: "admin", Token: adminToken},
		{Name: "other", Token: otherToken},
		{Name: "icb", Token: icbToken, ICB: icb},
	}
	scopes, err := server.Scopes(toks, "")
	if err != nil {
		t.Fatal(err)
	}
	wh := filepath.Join(src, "warehouse.duckdb")
	if _, err := snapshot.PublishContext(context.Background(), ws, wh, "v1", snapshot.Options{Logger: quiet, Scopes: scopes, Remarks: publish.ColumnRemarks}); err != nil {
		t.Fatal(err)
	}
	cfg := server.Config{Addr: "127.0.0.1:0", Workspace: ws, Tokens: toks, MemoryLimit: "1GB", Threads: 2, PollInterval: -1, Logger: quiet}
	if mod != nil {
		mod(&cfg)
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	sctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(sctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	return &testServer{srv: srv, ws: ws, wh: wh, addr: srv.Addr().String()}, icb
}

func adbcConn(t *testing.T, uri string, opts map[string]string) (adbc.Connection, error) {
	t.Helper()
	o := map[string]string{adbc.OptionKeyURI: uri}
	for k, v := range opts {
		o[k] = v
	}
	db, err := adbcflight.NewDriver(memory.DefaultAllocator).NewDatabase(o)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { db.Close() })
	cn, err := db.Open(context.Background())
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { cn.Close() })
	return cn, nil
}

func adbcQuery(ctx context.Context, cn adbc.Connection, q string, bind arrow.RecordBatch) ([][]string, *arrow.Schema, error) {
	st, err := cn.NewStatement()
	if err != nil {
		return nil, nil, err
	}
	defer st.Close()
	if err := st.SetSqlQuery(q); err != nil {
		return nil, nil, err
	}
	if bind != nil {
		if err := st.Prepare(ctx); err != nil {
			return nil, nil, err
		}
		if err := st.Bind(ctx, bind); err != nil {
			return nil, nil, err
		}
	}
	rdr, _, err := st.ExecuteQuery(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer rdr.Release()
	var out [][]string
	for rdr.Next() {
		rec := rdr.RecordBatch()
		for i := 0; i < int(rec.NumRows()); i++ {
			row := make([]string, rec.NumCols())
			for c := range row {
				row[c] = rec.Column(c).ValueStr(i)
			}
			out = append(out, row)
		}
	}
	return out, rdr.Schema(), rdr.Err()
}

func adbcCode(err error) adbc.Status {
	var e adbc.Error
	if errors.As(err, &e) {
		return e.Code
	}
	return adbc.StatusUnknown
}

// TestADBCConformance drives the endpoint with the ADBC Flight SQL driver
// (the one Python's adbc_driver_flightsql, R and Superset-via-ADBC load)
// through what those clients do.
func TestADBCConformance(t *testing.T) {
	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{readmeAuthOption, readmeTLSOption, `"grpc://127.0.0.1:31337"`, `"Bearer <token>"`, `grpc+tls://`} {
		if !strings.Contains(string(readme), s) {
			t.Errorf("README's Connecting section no longer says %s", s)
		}
	}
	ts, icb := realServer(t, nil)
	ctx := context.Background()
	uri := "grpc://" + ts.addr
	cn, err := adbcConn(t, uri, map[string]string{readmeAuthOption: "Bearer " + adminToken})
	if err != nil {
		t.Fatal(err)
	}

	t.Run("GetInfo", func(t *testing.T) {
		rdr, err := cn.GetInfo(ctx, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		var got []string
		for rdr.Next() {
			rec := rdr.RecordBatch()
			for i := 0; i < int(rec.NumRows()); i++ {
				got = append(got, rec.Column(1).ValueStr(i))
			}
		}
		if !strings.Contains(strings.Join(got, " "), "gplens") {
			t.Errorf("GetInfo = %v, want the server name", got)
		}
	})

	t.Run("GetObjects depth all", func(t *testing.T) {
		rdr, err := cn.GetObjects(ctx, adbc.ObjectDepthAll, nil, nil, nil, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		tables := map[string]int{}
		var badCols []string
		for rdr.Next() {
			rec := rdr.RecordBatch()
			schemas := rec.Column(1).(*array.List)
			schemaStruct := schemas.ListValues().(*array.Struct)
			for ci := 0; ci < int(rec.NumRows()); ci++ {
				s0, s1 := schemas.ValueOffsets(ci)
				for si := s0; si < s1; si++ {
					schemaName := schemaStruct.Field(0).ValueStr(int(si))
					tl := schemaStruct.Field(1).(*array.List)
					ts := tl.ListValues().(*array.Struct)
					t0, t1 := tl.ValueOffsets(int(si))
					for ti := t0; ti < t1; ti++ {
						name := schemaName + "." + ts.Field(0).ValueStr(int(ti))
						cl := ts.Field(2).(*array.List)
						cs := cl.ListValues().(*array.Struct)
						c0, c1 := cl.ValueOffsets(int(ti))
						tables[name] = int(c1 - c0)
						for k := c0; k < c1; k++ {
							col := name + "." + cs.Field(0).ValueStr(int(k))
							st := cs.DataType().(*arrow.StructType)
							// ADBC 1.10's Flight SQL driver copies only these from the
							// field metadata (its metadata builder never hands the
							// rest, such as XDBC_NULLABLE and REMARKS, to the default
							// reader); the server sends all of them, see
							// TestCatalogCalls.
							for _, f := range []string{"xdbc_data_type", "xdbc_type_name", "xdbc_sql_data_type", "xdbc_scope_schema", "xdbc_scope_table"} {
								idx, ok := st.FieldIdx(f)
								if !ok || cs.Field(idx).IsNull(int(k)) {
									badCols = append(badCols, col+":"+f)
								}
							}
						}
					}
				}
			}
		}
		if err := rdr.Err(); err != nil {
			t.Fatal(err)
		}
		if len(badCols) > 0 {
			t.Errorf("%d column attributes NULL, e.g. %v", len(badCols), badCols[:min(5, len(badCols))])
		}
		for name, n := range tables {
			if !strings.HasPrefix(name, "analyst.") && !strings.HasPrefix(name, "marts.") {
				t.Errorf("catalog lists %s", name)
			}
			if n == 0 {
				t.Errorf("%s has no columns", name)
			}
		}
		for _, want := range []string{"analyst.variation", "analyst.practices", "analyst.trends", "analyst.areas", "marts.indicator_values"} {
			if tables[want] == 0 {
				t.Errorf("%s missing from GetObjects (got %d tables)", want, len(tables))
			}
		}
	})

	t.Run("GetTableSchema", func(t *testing.T) {
		sch := "analyst"
		sc, err := cn.GetTableSchema(ctx, nil, &sch, "variation")
		if err != nil {
			t.Fatal(err)
		}
		if _, ok := sc.FieldsByName("judgement_od"); !ok {
			t.Errorf("analyst.variation schema lacks judgement_od: %v", sc)
		}
		// What GetObjects drops, GetTableSchema hands over whole.
		for _, f := range sc.Fields() {
			if f.Metadata.FindKey("XDBC_NULLABLE") < 0 || f.Metadata.FindKey("ARROW:FLIGHT:SQL:TYPE_NAME") < 0 {
				t.Errorf("column %s: metadata %v lacks nullability or type name", f.Name, f.Metadata)
				break
			}
		}
		_, err = cn.GetTableSchema(ctx, nil, &sch, "no_such_table")
		if adbcCode(err) != adbc.StatusNotFound || !strings.Contains(err.Error(), "found") {
			t.Errorf("missing table: %v (code %v), want NotFound with a message", err, adbcCode(err))
		}
		staging := "staging"
		if _, err := cn.GetTableSchema(ctx, nil, &staging, "qof_achievement"); adbcCode(err) != adbc.StatusNotFound {
			t.Errorf("staging view: %v, want NotFound", err)
		}
	})

	t.Run("GetTableTypes", func(t *testing.T) {
		rdr, err := cn.GetTableTypes(ctx)
		if err != nil {
			t.Fatal(err)
		}
		rdr.Release()
	})

	t.Run("sql/examples", func(t *testing.T) {
		files, _ := filepath.Glob("../sql/examples/*.sql")
		if len(files) == 0 {
			t.Fatal("no sql/examples")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			q := strings.TrimRight(strings.TrimSpace(string(b)), ";")
			got, _, err := adbcQuery(ctx, cn, q, nil)
			if err != nil {
				t.Errorf("%s: %v", filepath.Base(f), err)
				continue
			}
			want, _ := direct(t, ts.wh, q)
			if len(got) != len(want) {
				t.Errorf("%s: %d rows, DuckDB gives %d", filepath.Base(f), len(got), len(want))
			}
		}
	})

	t.Run("prepared statement re-executed with new parameters", func(t *testing.T) {
		st, err := cn.NewStatement()
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		q := "SELECT area_code, round(value, 6) FROM analyst.variation WHERE area_level = ? AND indicator_id = ? ORDER BY area_code, period"
		if err := st.SetSqlQuery(q); err != nil {
			t.Fatal(err)
		}
		if err := st.Prepare(ctx); err != nil {
			t.Fatal(err)
		}
		var ind string
		var db *sql.DB
		db, err = duck.Open(ctx, ts.wh, duck.Options{ReadOnly: true})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.QueryRow("SELECT min(indicator_id) FROM analyst.variation WHERE area_level = 'icb'").Scan(&ind); err != nil {
			t.Fatal(err)
		}
		for _, level := range []string{"icb", "sub_icb", "icb"} {
			rec := bindRecord(level, ind)
			if err := st.Bind(ctx, rec); err != nil {
				t.Fatal(err)
			}
			rec.Release()
			rdr, _, err := st.ExecuteQuery(ctx)
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for rdr.Next() {
				n += int(rdr.RecordBatch().NumRows())
			}
			rdr.Release()
			want, _ := direct(t, ts.wh, strings.Replace(strings.Replace(q, "?", "'"+level+"'", 1), "?", "'"+ind+"'", 1))
			if n != len(want) || n == 0 {
				t.Errorf("%s: %d rows, want %d", level, n, len(want))
			}
		}
	})

	t.Run("1M-row result", func(t *testing.T) {
		st, _ := cn.NewStatement()
		defer st.Close()
		_ = st.SetSqlQuery("SELECT range AS i, range * 2 AS j, 'x' || range::VARCHAR AS s FROM range(1000000)")
		rdr, _, err := st.ExecuteQuery(ctx)
		if err != nil {
			t.Fatal(err)
		}
		defer rdr.Release()
		var n, sum int64
		for rdr.Next() {
			rec := rdr.RecordBatch()
			n += rec.NumRows()
			for _, v := range rec.Column(0).(*array.Int64).Int64Values() {
				sum += v
			}
		}
		if err := rdr.Err(); err != nil || n != 1_000_000 || sum != 999_999*1_000_000/2 {
			t.Errorf("rows %d sum %d err %v", n, sum, err)
		}
	})

	t.Run("wrong and missing tokens", func(t *testing.T) {
		for name, opts := range map[string]map[string]string{
			"wrong":   {readmeAuthOption: "Bearer not-a-valid-token-at-all"},
			"missing": {},
		} {
			c, err := adbcConn(t, uri, opts)
			if err == nil {
				_, _, err = adbcQuery(ctx, c, "SELECT 1", nil)
			}
			if adbcCode(err) != adbc.StatusUnauthenticated {
				t.Errorf("%s token: %v (code %v), want Unauthenticated", name, err, adbcCode(err))
			}
		}
	})

	t.Run("scoped token", func(t *testing.T) {
		sc, err := adbcConn(t, uri, map[string]string{readmeAuthOption: "Bearer " + icbToken})
		if err != nil {
			t.Fatal(err)
		}
		rows, _, err := adbcQuery(ctx, sc, "SELECT DISTINCT icb_code FROM analyst.practices", nil)
		if err != nil || len(rows) != 1 || rows[0][0] != icb {
			t.Errorf("scoped practices: %v %v, want only %s", rows, err, icb)
		}
		rows, _, err = adbcQuery(ctx, sc, "SELECT count(*) FROM analyst.variation", nil)
		if err != nil || len(rows) != 1 || rows[0][0] == "0" {
			t.Errorf("scoped copy lacks the analyst views: %v %v", rows, err)
		}
		cur, _ := snapshot.Current(ts.ws)
		if _, err := os.Stat(snapshot.ScopedPath(cur, server.Scope{Level: "icb", Code: icb})); err != nil {
			t.Errorf("scoped copy not built at publish: %v", err)
		}
	})

	// Column remarks come from the data dictionary (publish.ColumnRemarks,
	// written into the snapshot and its scoped copies at publish).
	// GetTableSchema hands them over as field metadata; ADBC 1.10's
	// GetObjects leaves remarks NULL whatever the server sends (its Flight
	// SQL metadata builder never gives the field metadata to the reader of
	// REMARKS: see the README), so there it may only be NULL or right.
	t.Run("column remarks", func(t *testing.T) {
		sc, err := adbcConn(t, uri, map[string]string{readmeAuthOption: "Bearer " + icbToken})
		if err != nil {
			t.Fatal(err)
		}
		cases := []struct{ schema, table, column string }{
			{"marts", "indicator_values", "area_code"}, // a table
			{"analyst", "variation", "value"},          // a view
			{"analyst", "trends", "period"},            // a view named like a feed
		}
		for _, c := range cases {
			want := publish.ColumnRemarks(c.table, c.column)
			if want == "" {
				t.Fatalf("the dictionary does not describe %s.%s", c.table, c.column)
			}
			for who, conn := range map[string]adbc.Connection{"admin": cn, "icb scope": sc} {
				sch := c.schema
				schema, err := conn.GetTableSchema(ctx, nil, &sch, c.table)
				if err != nil {
					t.Fatalf("%s: %v", who, err)
				}
				f, ok := schema.FieldsByName(c.column)
				if !ok {
					t.Fatalf("%s: %s.%s has no column %s", who, c.schema, c.table, c.column)
				}
				for _, key := range []string{"REMARKS", "ARROW:FLIGHT:SQL:REMARKS"} {
					if got, _ := f[0].Metadata.GetValue(key); got != want {
						t.Errorf("%s: %s.%s.%s %s = %q, want %q", who, c.schema, c.table, c.column, key, got, want)
					}
				}
			}
			tbl, col := c.table, c.column
			rdr, err := cn.GetObjects(ctx, adbc.ObjectDepthAll, nil, &c.schema, &tbl, &col, nil)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for rdr.Next() {
				rec := rdr.RecordBatch()
				schemas := rec.Column(1).(*array.List).ListValues().(*array.Struct)
				tables := schemas.Field(1).(*array.List).ListValues().(*array.Struct)
				cols := tables.Field(2).(*array.List).ListValues().(*array.Struct)
				st := cols.DataType().(*arrow.StructType)
				ri, _ := st.FieldIdx("remarks")
				for k := 0; k < cols.Len(); k++ {
					if cols.Field(0).ValueStr(k) != c.column {
						continue
					}
					found = true
					if r := cols.Field(ri); r.IsValid(k) && r.ValueStr(k) != want {
						t.Errorf("GetObjects remarks of %s.%s = %q, want %q", c.table, c.column, r.ValueStr(k), want)
					}
				}
			}
			rdr.Release()
			if !found {
				t.Errorf("GetObjects did not list %s.%s.%s", c.schema, c.table, c.column)
			}
		}
	})

	t.Run("database/sql adapter", func(t *testing.T) {
		db := sql.OpenDB(mustConnector(t, "uri="+uri+";"+readmeAuthOption+"=Bearer "+adminToken))
		defer db.Close()
		// The adapter binds parameters only on a prepared statement
		// (db.QueryRow with arguments fails inside ADBC's sqldriver).
		ps, err := db.PrepareContext(ctx, "SELECT count(*) FROM analyst.practices WHERE icb_code = ?")
		if err != nil {
			t.Fatal(err)
		}
		defer ps.Close()
		// One run: ADBC's sqldriver loses the prepared state after the
		// first execution ("must call Prepare ... before calling Bind").
		for i := 0; i < 1; i++ {
			var n int64
			if err := ps.QueryRowContext(ctx, icb).Scan(&n); err != nil || n == 0 {
				t.Errorf("database/sql prepared, run %d: %d %v", i, n, err)
			}
		}
		rows, err := db.QueryContext(ctx, "SELECT practice_code, list_size FROM analyst.practices ORDER BY 1 LIMIT 3")
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		k := 0
		for rows.Next() {
			var code string
			var size sql.NullInt64
			if err := rows.Scan(&code, &size); err != nil {
				t.Fatal(err)
			}
			k++
		}
		if k != 3 {
			t.Errorf("%d rows", k)
		}
	})
}

// mustConnector opens ADBC's database/sql adapter with a DSN of
// semicolon-separated options.
func mustConnector(t *testing.T, dsn string) driver.Connector {
	t.Helper()
	c, err := sqldriver.Driver{Driver: adbcflight.NewDriver(memory.DefaultAllocator)}.OpenConnector(dsn)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestADBCTLS connects over TLS with a self-signed CA, as the README says.
func TestADBCTLS(t *testing.T) {
	certFile, keyFile, _ := selfSigned(t)
	ts, _ := realServer(t, func(c *server.Config) { c.TLSCert, c.TLSKey = certFile, keyFile })
	pem, err := os.ReadFile(certFile)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	cn, err := adbcConn(t, "grpc+tls://"+ts.addr, map[string]string{readmeAuthOption: "Bearer " + adminToken, readmeTLSOption: string(pem)})
	if err != nil {
		t.Fatal(err)
	}
	rows, _, err := adbcQuery(ctx, cn, "SELECT count(*) FROM analyst.practices", nil)
	if err != nil || len(rows) != 1 || rows[0][0] == "0" {
		t.Fatalf("over TLS: %v %v", rows, err)
	}
	// Without the CA the handshake fails.
	plain, err := adbcConn(t, "grpc+tls://"+ts.addr, map[string]string{readmeAuthOption: "Bearer " + adminToken})
	if err == nil {
		_, _, err = adbcQuery(ctx, plain, "SELECT 1", nil)
	}
	if err == nil {
		t.Error("TLS without the CA succeeded")
	}
}

func bindRecord(level, ind string) arrow.RecordBatch {
	b := array.NewRecordBuilder(memory.DefaultAllocator, arrow.NewSchema([]arrow.Field{
		{Name: "$1", Type: arrow.BinaryTypes.String}, {Name: "$2", Type: arrow.BinaryTypes.String},
	}, nil))
	defer b.Release()
	b.Field(0).(*array.StringBuilder).Append(level)
	b.Field(1).(*array.StringBuilder).Append(ind)
	return b.NewRecordBatch()
}
