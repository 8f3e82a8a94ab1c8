package query

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestShellScript(t *testing.T) {
	db := openFixture(t, true)
	input := `.mode csv
-- a comment between statements
SELECT area_code,
       value   -- a ';' in a comment does not end it
FROM variation
WHERE area_level = 'england' AND indicator_id = 'qof_ach_DM012';
SELECT nope FROM variation;
.schema trends
.tables %summary%
SELECT 'a;b' AS s; SELECT 2 AS two;
.bogus
.mode json
SELECT 1 AS last
`
	var out, errs bytes.Buffer
	err := Shell(context.Background(), db, strings.NewReader(input), &out, ShellOptions{SearchPath: DefaultSearchPath, ErrOut: &errs})
	if !errors.Is(err, ErrStatementsFailed) {
		t.Fatalf("err = %v, want ErrStatementsFailed", err)
	}
	if !strings.HasPrefix(err.Error(), "2 of 10 ") {
		t.Errorf("err = %q, want 2 of 10 failed (the bad column and .bogus, of 5 statements and 5 commands)", err)
	}
	o := out.String()
	for _, want := range []string{
		"area_code,value\nE92000001,", // multi-line statement, csv mode
		"trends,point_type,VARCHAR",   // .schema in csv mode
		"marts,area_summary,table",    // .tables with a pattern
		"s\na;b\n",                    // two statements on one line
		"two\n2\n",                    // ... both run
		"[\n{\"last\":1}\n]",          // .mode json, last statement without ';'
	} {
		if !strings.Contains(o, want) {
			t.Errorf("output lacks %q:\n%s", want, o)
		}
	}
	if strings.Contains(o, "indicator_values") && strings.Contains(o, "marts,indicator_values") {
		t.Errorf(".tables pattern not applied:\n%s", o)
	}
	e := errs.String()
	if !strings.Contains(e, "statement 2 (line 7)") || !strings.Contains(e, "nope") {
		t.Errorf("error for the bad column lacks its position:\n%s", e)
	}
	if !strings.Contains(e, "unknown command .bogus") {
		t.Errorf("no error for .bogus:\n%s", e)
	}
}

func TestShellQuitAndClean(t *testing.T) {
	db := openDB(t)
	var out bytes.Buffer
	err := Shell(context.Background(), db, strings.NewReader(".help\nSELECT 1 AS a;\n.quit\nSELECT nope;\n"), &out, ShellOptions{Format: FormatCSV})
	if err != nil {
		t.Fatalf("err = %v, want nil (nothing failed before .quit)", err)
	}
	if !strings.Contains(out.String(), ".schema NAME") || !strings.Contains(out.String(), "a\n1\n") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestShellRead(t *testing.T) {
	db := openDB(t)
	path := filepath.Join(t.TempDir(), "two.sql")
	if err := os.WriteFile(path, []byte("SELECT 1 AS one;\nSELECT 2 AS two;\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	err := Shell(context.Background(), db, strings.NewReader(".mode csv\n.read "+path+"\n.read /nonexistent.sql\n"), &out, ShellOptions{})
	if !errors.Is(err, ErrStatementsFailed) {
		t.Errorf("err = %v, want the missing file to count as a failure", err)
	}
	if !strings.Contains(out.String(), "one\n1\n\ntwo\n2\n") || !strings.Contains(out.String(), "nonexistent.sql") {
		t.Errorf("output:\n%s", out.String())
	}
}

func TestShellSchemaUnknown(t *testing.T) {
	db := openDB(t)
	var out bytes.Buffer
	err := Shell(context.Background(), db, strings.NewReader(".schema nosuch\n"), &out, ShellOptions{})
	if !errors.Is(err, ErrStatementsFailed) || !strings.Contains(out.String(), "no table or view named nosuch") {
		t.Errorf("err = %v, output %q", err, out.String())
	}
}

func TestHistoryEntry(t *testing.T) {
	for _, tc := range []struct {
		lines []string
		want  string
	}{
		{[]string{"SELECT 1;"}, "SELECT 1;"},
		{[]string{"SELECT a,", "  b", "FROM t;"}, "SELECT a, b FROM t;"},
		{[]string{"-- why", "SELECT 1", "", ";"}, "SELECT 1 ;"},
	} {
		if got := historyEntry(tc.lines); got != tc.want {
			t.Errorf("historyEntry(%q) = %q, want %q", tc.lines, got, tc.want)
		}
	}
}

func TestHistoryFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), ".gplens_history")
	h, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	h.Add("SELECT") // the line editor's per-line adds are ignored
	for _, l := range []string{"SELECT 1;", "SELECT 1;", "", "SELECT 2;"} {
		h.record(l)
	}
	if h.Len() != 2 || h.At(0) != "SELECT 2;" || h.At(1) != "SELECT 1;" {
		t.Errorf("history = %v", h.entries)
	}
	h.close()
	h2, err := openHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	defer h2.close()
	if h2.Len() != 2 || h2.At(0) != "SELECT 2;" {
		t.Errorf("reloaded history = %v", h2.entries)
	}
	data, _ := os.ReadFile(path)
	if string(data) != "SELECT 1;\nSELECT 2;\n" {
		t.Errorf("file = %q", data)
	}
}
