package query

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gplens/gplens/duck"
)

func TestRunScript(t *testing.T) {
	db := openDB(t)
	script := `-- a script as a user would write it
CREATE TEMP TABLE t AS SELECT range AS i, 'x;' || range AS s FROM range(3);
INSERT INTO t VALUES (10, 'ten');
SELECT count(*) AS n FROM t;
SELECT s FROM t WHERE i = 10;`
	var buf bytes.Buffer
	if err := Run(context.Background(), db, script, Options{Format: FormatCSV}, &buf); err != nil {
		t.Fatal(err)
	}
	// CREATE prints nothing; INSERT prints its count as DuckDB's CLI does.
	want := "Count\n1\n\nn\n4\n\ns\nten\n"
	if buf.String() != want {
		t.Errorf("output = %q, want %q", buf.String(), want)
	}
}

func TestRunFile(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "checks.sql")
	if err := os.WriteFile(path, []byte("SELECT 1 AS a;\nSELECT nope;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	err := RunFile(context.Background(), db, path, Options{Format: FormatCSV}, &buf)
	var se *StatementError
	if !errors.As(err, &se) || !strings.HasPrefix(err.Error(), path+": statement 2 (line 2)") {
		t.Errorf("err = %v, want it to name the file and line", err)
	}
	if buf.String() != "a\n1\n" {
		t.Errorf("output %q", buf.String())
	}
	if err := RunFile(context.Background(), db, path+".missing", Options{}, &buf); err == nil {
		t.Error("missing file: no error")
	}
}

func TestRunNoStatements(t *testing.T) {
	db := openDB(t)
	err := Run(context.Background(), db, "  -- nothing\n", Options{}, &bytes.Buffer{})
	if !errors.Is(err, ErrNoStatements) {
		t.Errorf("err = %v, want ErrNoStatements", err)
	}
}

func TestRunErrors(t *testing.T) {
	db := openFixture(t, false)
	tests := []struct {
		name      string
		script    string
		index     int
		line      int // StatementError.Line
		errLine   int // line DuckDB pointed at, in the script
		msg, hint string
	}{
		{"unknown column on line 5", "SELECT 1;\n\nSELECT area_code,\n  area_level\n  , nope\nFROM marts.indicator_values;", 2, 3, 5, "LINE 5:", ".schema"},
		{"unknown table", "SELECT * FROM variations;", 1, 1, 1, "Catalog Error", ".tables"},
		{"syntax", "SELECT 1;\nSELEC 2;", 2, 2, 2, "Parser Error", "single quotes"},
		{"conversion", "SELECT 'abc'::INTEGER;", 1, 1, 1, "Conversion Error", "TRY_CAST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Run(context.Background(), db, tt.script, Options{}, &buf)
			var se *StatementError
			if !errors.As(err, &se) {
				t.Fatalf("err = %v (%T), want *StatementError", err, err)
			}
			if se.Index != tt.index || se.Line != tt.line || se.ErrLine != tt.errLine {
				t.Errorf("index, line, errLine = %d, %d, %d; want %d, %d, %d", se.Index, se.Line, se.ErrLine, tt.index, tt.line, tt.errLine)
			}
			if !strings.Contains(se.Error(), tt.msg) || !strings.Contains(se.Hint, tt.hint) {
				t.Errorf("error %q\nwant it to contain %q and hint %q", se.Error(), tt.msg, tt.hint)
			}
		})
	}
}

// TestRunErrorCaret checks that the caret still points at the bad name
// after the LINE number is rewritten to a wider one.
func TestRunErrorCaret(t *testing.T) {
	db := openDB(t)
	script := strings.Repeat("SELECT 1;\n", 11) + "SELECT nope;"
	err := Run(context.Background(), db, script, Options{}, &bytes.Buffer{})
	if err == nil {
		t.Fatal("no error")
	}
	lines := strings.Split(err.Error(), "\n")
	for i, l := range lines {
		if strings.HasPrefix(l, "LINE 12: ") && i+1 < len(lines) {
			caret := strings.Index(lines[i+1], "^")
			if got := l[caret:]; !strings.HasPrefix(got, "nope") {
				t.Errorf("caret points at %q, want nope\n%s", got, err)
			}
			return
		}
	}
	t.Errorf("no LINE 12 in %s", err)
}

func TestRunContinueOnError(t *testing.T) {
	db := openDB(t)
	script := "SELECT 1 AS a; SELECT nope; SELECT 3 AS c;"
	for _, cont := range []bool{false, true} {
		var buf bytes.Buffer
		err := Run(context.Background(), db, script, Options{Format: FormatCSV, ContinueOnError: cont}, &buf)
		var se *StatementError
		if !errors.As(err, &se) || se.Index != 2 {
			t.Fatalf("continue=%v: err = %v, want statement 2's error", cont, err)
		}
		if got := strings.Contains(buf.String(), "c\n3"); got != cont {
			t.Errorf("continue=%v: third statement ran = %v; output %q", cont, got, buf.String())
		}
	}
}

func TestRunTimeout(t *testing.T) {
	db := openDB(t)
	q := "SELECT sum(a.range * b.range) FROM range(100000) a, range(100000) b"
	err := Run(context.Background(), db, q, Options{Timeout: 50 * time.Millisecond}, &bytes.Buffer{})
	var se *StatementError
	if !errors.As(err, &se) {
		t.Fatalf("err = %v, want a timeout StatementError", err)
	}
	if !strings.Contains(se.Error(), "timed out") || !strings.Contains(se.Hint, "--timeout") {
		t.Errorf("error %q does not say it timed out", se.Error())
	}
}

func TestRunSearchPath(t *testing.T) {
	db := openFixture(t, true)
	var buf bytes.Buffer
	// "nosuch" is skipped rather than failing the SET.
	err := Run(context.Background(), db, "SELECT count(*) AS n FROM variation WHERE area_level = 'england';",
		Options{Format: FormatCSV, SearchPath: append([]string{"nosuch"}, DefaultSearchPath...)}, &buf)
	if err != nil {
		t.Fatal(err)
	}
	if buf.String() != "n\n11\n" {
		t.Errorf("output %q, want 11 England rows", buf.String())
	}
}

func TestRunOut(t *testing.T) {
	db := openFixture(t, false)
	dir := t.TempDir()
	q := `SELECT practice_code, list_size, imd_decile, weighted_list_size
FROM core.practices WHERE period = '2024-06' -- the latest month
ORDER BY practice_code`
	for _, ext := range []string{".parquet", ".csv", ".json", ".ndjson"} {
		t.Run(ext, func(t *testing.T) {
			out := filepath.Join(dir, "practices"+ext)
			var buf bytes.Buffer
			// A first statement prints; only the last goes to the file.
			if err := Run(context.Background(), db, "SELECT 42 AS answer;\n"+q, Options{Out: out, Format: FormatCSV}, &buf); err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(buf.String(), "answer\n42\n") || !strings.Contains(buf.String(), "wrote 40 rows to "+out) {
				t.Errorf("output %q", buf.String())
			}
			reader := map[string]string{".parquet": "read_parquet", ".csv": "read_csv", ".json": "read_json", ".ndjson": "read_json"}[ext]
			// Round trip: the file holds exactly the query's rows and values.
			check := "SELECT count(*) FROM (SELECT * FROM " + reader + "(" + sqlString(out) + ") EXCEPT ALL SELECT * FROM (" + q + "\n)) UNION ALL SELECT count(*) FROM " + reader + "(" + sqlString(out) + ")"
			rows, err := db.Query(check)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			var counts []int
			for rows.Next() {
				var n int
				if err := rows.Scan(&n); err != nil {
					t.Fatal(err)
				}
				counts = append(counts, n)
			}
			if len(counts) != 2 || counts[0] != 0 || counts[1] != 40 {
				t.Errorf("round trip: %v rows differ / rows in file, want [0 40]", counts)
			}
			left, _ := filepath.Glob(filepath.Join(dir, ".*tmp*"))
			if len(left) > 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}

func TestRunOutErrors(t *testing.T) {
	db := openDB(t)
	dir := t.TempDir()
	tests := []struct {
		name, script, out, want string
	}{
		{"not a query", "CREATE TEMP TABLE x(i INT);", filepath.Join(dir, "x.parquet"), "must be a query"},
		{"unknown extension", "SELECT 1;", filepath.Join(dir, "x.xlsx"), "unknown file type"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Run(context.Background(), db, tt.script, Options{Out: tt.out}, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
			if _, serr := os.Stat(tt.out); serr == nil {
				t.Errorf("%s written despite the error", tt.out)
			}
		})
	}
}

// TestRunReadOnlySnapshot runs as the CLI does on a published snapshot: a
// file opened read-only, with the analyst search path.
func TestRunReadOnlySnapshot(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "snapshot.duckdb")
	rw, err := duck.Open(ctx, path, duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := rw.ExecContext(ctx, "CREATE SCHEMA analyst; CREATE VIEW analyst.practices AS SELECT 'P1' AS practice_code"); err != nil {
		t.Fatal(err)
	}
	rw.Close()
	db, err := duck.Open(ctx, path, duck.Options{ReadOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var buf bytes.Buffer
	opts := Options{Format: FormatCSV, SearchPath: DefaultSearchPath}
	if err := Run(ctx, db, "SELECT * FROM practices", opts, &buf); err != nil || buf.String() != "practice_code\nP1\n" {
		t.Errorf("read-only query = %q, %v", buf.String(), err)
	}
	err = Run(ctx, db, "CREATE TABLE x AS SELECT 1", opts, &buf)
	var se *StatementError
	if !errors.As(err, &se) || !strings.Contains(se.Hint, "read-only") {
		t.Errorf("write on a read-only snapshot: %v, want a read-only hint", err)
	}
}

// Dot commands work in -c / -f scripts as at the prompt, in order with the
// statements around them; a failing one stops the script like a failing
// statement, and a later statement keeps its line number.
func TestRunDotCommands(t *testing.T) {
	db := openDB(t)
	inc := filepath.Join(t.TempDir(), "inc.sql")
	if err := os.WriteFile(inc, []byte("SELECT 'from the file' AS f;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, script string
		want         []string // in this order in the output
		wantErr      string
	}{
		{"mode between statements", "SELECT 1 AS a;\n.mode csv\nSELECT 2 AS b;", []string{"│ integer │", "b\n2\n"}, ""},
		{"mode first, one line each", ".mode json\nSELECT 3 AS c;", []string{`{"c":3}`}, ""},
		{"read", ".mode csv\n.read " + inc + "\nSELECT 4 AS d;", []string{"f\nfrom the file\n", "d\n4\n"}, ""},
		{"tables", "CREATE TEMP TABLE tiny AS SELECT 1 AS x;\n.tables tiny", []string{"tiny"}, ""},
		{"schema", "CREATE TEMP TABLE tiny2 AS SELECT 1 AS x;\n.schema tiny2", []string{"INTEGER"}, ""},
		{"unknown stops", ".mode csv\nSELECT 5 AS e;\n.nope\nSELECT 6 AS f;", []string{"e\n5\n"}, "unknown command .nope"},
		{"quit stops", ".mode csv\nSELECT 7 AS g;\n.quit\nSELECT 8 AS h;", []string{"g\n7\n"}, ""},
		{"line numbers after a dot command", ".mode csv\n\nSELECT nope;", nil, "line 3"},
		{"dot inside a statement is SQL", ".mode csv\nSELECT\n.5 AS half;", []string{"half\n0.5\n"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			err := Run(context.Background(), db, tc.script, Options{}, &buf)
			if tc.wantErr == "" && err != nil || tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tc.wantErr)
			}
			out, at := buf.String(), 0
			for _, w := range tc.want {
				i := strings.Index(out[at:], w)
				if i < 0 {
					t.Fatalf("output lacks %q after byte %d:\n%s", w, at, out)
				}
				at += i + len(w)
			}
			for _, never := range []string{"\n6\n", "\n8\n"} {
				if strings.Contains(out, never) {
					t.Errorf("ran past the stop:\n%s", out)
				}
			}
		})
	}
}
