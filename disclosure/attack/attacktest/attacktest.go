// Package attacktest builds synthetic workspaces through the real pipeline
// (generate, ingest, transform, publish a snapshot) for the attack tests of
// any package that hands data to readers.
package attacktest

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/snapshot"
	sqlmodels "github.com/gplens/gplens/sql"
	"github.com/gplens/gplens/synth"
	"github.com/gplens/gplens/transform"
)

// Fixture is one synthetic workspace, built on first use.
type Fixture struct {
	Name string
	Cfg  synth.Config // Out is set by Workspace
	once sync.Once
	dir  string
	err  error
}

// Synth is a small synthetic England.
var Synth = &Fixture{Name: "synth", Cfg: synth.Config{Practices: 200, Months: 4, Seed: 7, EndMonth: "2024-03"}}

// SmallCounts has few, small practices: most referral counts are small, and
// so are many PCN and sub-ICB totals.
var SmallCounts = &Fixture{Name: "small counts", Cfg: synth.Config{Practices: 36, Months: 4, Seed: 3, EndMonth: "2024-03"}}

// Workspace returns the fixture's workspace folder, holding warehouse.duckdb
// (built as `gplens transform` builds it) and a published snapshot. It
// skips under -short.
func (f *Fixture) Workspace(t testing.TB) string {
	t.Helper()
	if testing.Short() {
		t.Skip("builds a synthetic warehouse")
	}
	f.once.Do(func() { f.dir, f.err = build(f.Cfg) })
	if f.err != nil {
		t.Fatalf("fixture %s: %v", f.Name, f.err)
	}
	return filepath.Join(f.dir, "ws")
}

// Cleanup removes the fixture's files (call from TestMain).
func (f *Fixture) Cleanup() {
	if f.dir != "" {
		os.RemoveAll(f.dir)
	}
}

func build(cfg synth.Config) (string, error) {
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "gplens-attack-")
	if err != nil {
		return "", err
	}
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	cfg.Out = filepath.Join(dir, "extracts")
	sum, err := synth.Generate(ctx, cfg)
	if err != nil {
		return dir, fmt.Errorf("generate: %w", err)
	}
	ws := filepath.Join(dir, "ws")
	lake := filepath.Join(ws, "lake")
	for _, file := range sum.Files {
		if strings.HasPrefix(file.Path, "_truth/") {
			continue
		}
		if _, err := ingest.File(ctx, filepath.Join(cfg.Out, filepath.FromSlash(file.Path)),
			ingest.Options{Lake: lake, Quarantine: filepath.Join(dir, "quarantine")}); err != nil {
			return dir, fmt.Errorf("ingest: %w", err)
		}
	}
	p, err := transform.Load(ctx, sqlmodels.FS())
	if err != nil {
		return dir, err
	}
	var tables []transform.LakeTable
	for n, c := range ingest.Tables() {
		glob := transform.LakeGlob(lake, n)
		if s, ok := ingest.Lookup(n); ok && s.Info().Datasets {
			glob = transform.DatasetLakeGlob(lake, n)
		}
		tables = append(tables, transform.LakeTable{Name: n, Glob: glob, Columns: c})
	}
	sort.Slice(tables, func(i, j int) bool { return tables[i].Name < tables[j].Name })
	wh := filepath.Join(ws, "warehouse.duckdb")
	if _, err := transform.Build(ctx, p, transform.Options{Warehouse: wh, Lake: tables, Full: true, Threads: 2, Logger: quiet}); err != nil {
		return dir, err
	}
	if _, err := snapshot.PublishContext(ctx, ws, wh, "test", snapshot.Options{Logger: quiet}); err != nil {
		return dir, err
	}
	return dir, nil
}

// CheckReaderDatabase asserts what any database handed to readers holds:
// only the reader schemas, no table or view at referral record grain, and
// every view reads.
func CheckReaderDatabase(t testing.TB, db *sql.DB) {
	t.Helper()
	rows, err := db.Query(`SELECT DISTINCT schema_name FROM duckdb_tables() WHERE NOT temporary
		UNION SELECT DISTINCT schema_name FROM duckdb_views() WHERE NOT internal`)
	if err != nil {
		t.Fatal(err)
	}
	var schemas []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			t.Fatal(err)
		}
		schemas = append(schemas, s)
	}
	rows.Close()
	sort.Strings(schemas)
	for _, s := range schemas {
		if !slices.Contains(snapshot.ReaderSchemas, s) {
			t.Errorf("schema %s reaches readers (allowed: %v)", s, snapshot.ReaderSchemas)
		}
	}
	for _, s := range snapshot.ReaderSchemas {
		if !slices.Contains(schemas, s) {
			t.Errorf("schema %s missing (have %v)", s, schemas)
		}
	}
	// row-level referral data: practice x specialty x priority x age x sex
	if n := queryInt(t, db, `SELECT count(*) FROM (SELECT table_schema, table_name FROM information_schema.columns
		GROUP BY ALL HAVING bool_or(column_name IN ('age_band', 'sex')) OR bool_or(column_name = 'treatment_function_code') AND bool_or(column_name = 'priority'))`); n != 0 {
		t.Errorf("%d tables or views at referral record grain reach readers", n)
	}
	views, err := db.Query(`SELECT schema_name || '.' || view_name FROM duckdb_views() WHERE NOT internal`)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for views.Next() {
		var v string
		if err := views.Scan(&v); err != nil {
			t.Fatal(err)
		}
		names = append(names, v)
	}
	views.Close()
	for _, v := range names {
		if _, err := db.Exec("SELECT * FROM " + v + " LIMIT 1"); err != nil {
			t.Errorf("view %s does not read: %v", v, err)
		}
	}
}

func queryInt(t testing.TB, db *sql.DB, q string) int64 {
	t.Helper()
	var n int64
	if err := db.QueryRow(q).Scan(&n); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}
