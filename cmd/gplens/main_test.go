package main

import (
	"bytes"
	"context"
	"math"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/duck/ducktest"
	"github.com/gplens/gplens/snapshot"
)

func gplens(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCLIExitCodes(t *testing.T) {
	ws := t.TempDir()
	bad := filepath.Join(ws, "PREVALENCE_2223.csv")
	os.WriteFile(bad, []byte("NOT,A,QOF\n1,2,3\n"), 0o644)
	good := filepath.Join(ws, "in", "2022-23", "PREVALENCE_2223.csv")
	os.MkdirAll(filepath.Dir(good), 0o755)
	os.WriteFile(good, []byte("PRACTICE_CODE,GROUP_CODE,REGISTER,PATIENT_LIST_TYPE,PRACTICE_LIST_SIZE\nA81001,DM,112.0,17OV,3766\n"), 0o644)
	cases := []struct {
		name string
		args []string
		code int
		out  string // in stdout+stderr
	}{
		{"unknown command", []string{"frobnicate"}, 2, "unknown command"},
		{"unknown flag", []string{"sources", "--nope"}, 2, "unknown flag"},
		{"bad log format", []string{"--log-format", "xml", "sources"}, 2, "text or json"},
		{"init", []string{"init", filepath.Join(ws, "w")}, 0, "workspace ready"},
		{"sources", []string{"sources"}, 0, "qof_achievement"},
		{"one source", []string{"sources", "payments"}, 0, `"Average Number of Registered Patients" [average patients]`},
		{"no such source", []string{"sources", "nope"}, 2, "no source named"},
		{"check good", []string{"check", good}, 0, "qof_prevalence 2022-23, 1 rows read"},
		{"check bad", []string{"check", bad}, 2, "nearest known header: qof_prevalence"},
		{"ingest needs files", []string{"--workspace", filepath.Join(ws, "w"), "ingest"}, 2, "FILE arguments or --inbox"},
		{"ingest bad", []string{"--workspace", filepath.Join(ws, "w"), "ingest", bad}, 2, "quarantined"},
		{"ingest good", []string{"--workspace", filepath.Join(ws, "w"), "ingest", good}, 0, "LOADED"},
		{"ingest again", []string{"--workspace", filepath.Join(ws, "w"), "ingest", good}, 0, "UNCHANGED"},
		{"status", []string{"--workspace", filepath.Join(ws, "w"), "status"}, 0, "qof_prevalence  -        2022-23  1     1"},
		{"status json", []string{"--workspace", filepath.Join(ws, "w"), "status", "--json"}, 0, `"complete_months": []`},
		{"lake drop unknown source", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "nope", "2022-23"}, 2, `no source named "nope"`},
		{"lake drop unknown period", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "qof_prevalence", "2021-22"}, 2, "it holds 2022-23"},
		{"lake drop needs both", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "qof_prevalence"}, 2, "accepts 2 arg"},
		{"lake drop", []string{"--workspace", filepath.Join(ws, "w"), "lake", "drop", "qof_prevalence", "2022-23"}, 0, "DROPPED qof_prevalence 2022-23 (PREVALENCE_2223.csv"},
		{"status after drop", []string{"--workspace", filepath.Join(ws, "w"), "status"}, 0, "empty"},
		{"ingest after drop", []string{"--workspace", filepath.Join(ws, "w"), "ingest", good}, 0, "LOADED"},
		{"missing file", []string{"check", filepath.Join(ws, "nope.csv")}, 1, "no such file"},
		{"sql", []string{"--workspace", filepath.Join(ws, "w"), "sql", "--format", "csv", "-c", "SELECT round(wilson_lower(65, 100), 6) AS lo"}, 0, "0.552544"},
		{"sql error", []string{"--workspace", filepath.Join(ws, "w"), "sql", "-c", "SELECT * FROM nope"}, 1, "nope"},
		{"run needs period", []string{"--workspace", filepath.Join(ws, "w"), "run"}, 2, "--period"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := gplens(t, tc.args...)
			if code != tc.code || !strings.Contains(out+errs, tc.out) {
				t.Errorf("gplens %v = %d\nstdout: %s\nstderr: %s\nwant %d and %q", tc.args, code, out, errs, tc.code, tc.out)
			}
		})
	}
	if q, _ := filepath.Glob(filepath.Join(ws, "w", "quarantine", "*.reason.json")); len(q) != 1 {
		t.Errorf("quarantine: %v", q)
	}
}

// Forgetting --workspace (or naming a folder that is not there) says which
// path was looked at and how to make one, for every command that needs one.
func TestMissingWorkspace(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "nowhere")
	for _, args := range [][]string{
		{"sql", "-c", "SELECT * FROM variation"},
		{"transform"},
		{"publish", "--period", "2024-03"},
		{"packs"},
		{"ingest", "--inbox"},
		{"runs"},
		{"run", "--period", "2024-03"},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, out, errs := gplens(t, append([]string{"--workspace", missing}, args...)...)
			if code != exitBadData || !strings.Contains(errs, "no workspace at "+missing) || !strings.Contains(errs, "gplens init "+missing) {
				t.Errorf("gplens %v = %d\nstdout: %s\nstderr: %s", args, code, out, errs)
			}
		})
	}
	t.Run("from GPLENS_HOME", func(t *testing.T) {
		t.Setenv("GPLENS_HOME", missing)
		if code, _, errs := gplens(t, "sql", "-c", "SELECT 1"); code != exitBadData || !strings.Contains(errs, "from GPLENS_HOME") {
			t.Errorf("= %d %s", code, errs)
		}
	})
	if _, err := os.Stat(missing); err == nil {
		t.Errorf("a command created %s", missing)
	}
}

func TestSQLOptions(t *testing.T) {
	ws := filepath.Join(t.TempDir(), "w")
	if code, _, errs := gplens(t, "init", ws); code != 0 {
		t.Fatal(errs)
	}
	cases := []struct {
		name string
		args []string
		code int
		want []string // in stdout, in this order
		err  string   // in stderr
	}{
		{"repeated -c runs each in order", []string{"--format", "csv", "-c", "SELECT 1 AS one", "-c", "SELECT 2 AS two"}, 0, []string{"one\n1\n", "two\n2\n"}, ""},
		{"-c stops at the failing one", []string{"--format", "csv", "-c", "SELECT nope", "-c", "SELECT 2 AS two"}, 1, nil, "-c #1"},
		{"dot commands in -c", []string{"-c", ".mode csv\nSELECT 3 AS three;"}, 0, []string{"three\n3\n"}, ""},
		{"max-rows 0 is all", []string{"--max-rows", "0", "-c", "SELECT * FROM range(1500)"}, 0, []string{"│   1499 │"}, ""},
		{"max-rows caps", []string{"--max-rows", "10", "-c", "SELECT * FROM range(1500)"}, 0, []string{"│      9 │", "1,500 rows (first 10 shown)"}, ""},
		{"empty workspace says so", []string{"-c", "SELECT 1"}, 0, nil, "no warehouse in " + ws},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, out, errs := gplens(t, append([]string{"--workspace", ws, "sql"}, tc.args...)...)
			if code != tc.code || !strings.Contains(errs, tc.err) {
				t.Fatalf("= %d\nstdout: %s\nstderr: %s", code, out, errs)
			}
			at := 0
			for _, w := range tc.want {
				i := strings.Index(out[at:], w)
				if i < 0 {
					t.Fatalf("stdout lacks %q:\n%s", w, out)
				}
				at += i + len(w)
			}
		})
	}
	if _, out, _ := gplens(t, "--workspace", ws, "sql", "--max-rows", "10", "-c", "SELECT * FROM range(1500)"); strings.Contains(out, "│     10 │") {
		t.Errorf("--max-rows 10 showed an 11th row:\n%s", out)
	}
}

// publishedOld makes a workspace whose warehouse holds t(v = 'old'),
// published as the snapshot for 2024-03.
func publishedOld(t *testing.T) (ws, wh string) {
	t.Helper()
	ws = filepath.Join(t.TempDir(), "w")
	if code, _, errs := gplens(t, "init", ws); code != 0 {
		t.Fatal(errs)
	}
	wh = filepath.Join(ws, "warehouse.duckdb")
	db, err := duck.Open(context.Background(), wh, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec("CREATE TABLE t AS SELECT 'old' AS v"); err != nil {
		t.Fatal(err)
	}
	db.Close()
	if _, err := snapshot.PublishContext(context.Background(), ws, wh, "2024-03", snapshot.Options{}); err != nil {
		t.Fatal(err)
	}
	return ws, wh
}

// gplens sql reads the published snapshot, and says so when the warehouse
// has been rebuilt since (new models are only in the warehouse then).
func TestSQLSnapshotLagNote(t *testing.T) {
	ws, wh := publishedOld(t)
	code, out, errs := gplens(t, "--workspace", ws, "sql", "--format", "csv", "-c", "SELECT v FROM t")
	if code != 0 || !strings.Contains(out, "old") || strings.Contains(errs, "note:") {
		t.Fatalf("fresh snapshot = %d\n%s\n%s", code, out, errs)
	}
	later := time.Now().Add(time.Hour)
	if err := os.Chtimes(wh, later, later); err != nil {
		t.Fatal(err)
	}
	code, _, errs = gplens(t, "--workspace", ws, "sql", "-c", "SELECT v FROM t")
	if code != 0 || !strings.Contains(errs, "the warehouse was rebuilt since (--live reads it)") {
		t.Errorf("lagging snapshot = %d, stderr %q", code, errs)
	}
}

// Ingest sets the soft heap limit while it runs, unless GOMEMLIMIT is
// set, and puts the previous one back: the other commands have none.
func TestIngestMemoryLimit(t *testing.T) {
	t.Setenv("GOMEMLIMIT", "")
	os.Unsetenv("GOMEMLIMIT")
	const none = math.MaxInt64
	before := debug.SetMemoryLimit(none)
	defer debug.SetMemoryLimit(before)
	restore := ingestMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != ingestHeapLimit {
		t.Errorf("during ingest: limit %d, want %d", got, ingestHeapLimit)
	}
	restore()
	if got := debug.SetMemoryLimit(-1); got != none {
		t.Errorf("after ingest: limit %d, want none (%d) back", got, int64(none))
	}
	t.Setenv("GOMEMLIMIT", "1GiB")
	restore = ingestMemoryLimit()
	if got := debug.SetMemoryLimit(-1); got != none {
		t.Errorf("with GOMEMLIMIT set: limit %d, want it left alone", got)
	}
	restore()
}

// TestHelperHoldWarehouseRW is not a test: ducktest.Hold runs it in a
// child process, holding the warehouse open for writing as a build does.
func TestHelperHoldWarehouseRW(t *testing.T) { ducktest.Helper(t) }

// While a build changes the warehouse in place (another process holds it
// open for writing), `gplens sql --live` says what holds it and what to do
// instead of DuckDB's lock error alone; the published snapshot still reads.
func TestSQLLiveDuringBuild(t *testing.T) {
	ws, wh := publishedOld(t)
	ducktest.Hold(t, "TestHelperHoldWarehouseRW", wh, true)
	code, _, errs := gplens(t, "--workspace", ws, "sql", "--live", "-c", "SELECT v FROM t")
	if code == 0 || !strings.Contains(errs, "being changed by a build") || !strings.Contains(errs, "without --live") {
		t.Errorf("sql --live during a build = %d, stderr %q", code, errs)
	}
	code, sout, errs := gplens(t, "--workspace", ws, "sql", "--format", "csv", "-c", "SELECT v FROM t")
	if code != 0 || !strings.Contains(sout, "old") {
		t.Errorf("sql on the snapshot during a build = %d\n%s\n%s", code, sout, errs)
	}
}
