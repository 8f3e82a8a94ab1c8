package query

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// typesQuery covers what the formats must render: integers, doubles,
// decimals, text needing quoting or escaping, wide characters, NULLs,
// dates, timestamps, booleans and lists.
const typesQuery = `SELECT * FROM (VALUES
  (1, 'A81001', 85.2, 12.50::DECIMAL(10,2), DATE '2024-03-31', TIMESTAMP '2024-04-01 09:30:00', true, [1, 2]),
  (-20, 'Smith, "Jones" & Co', 0.1 + 0.2, -0.05::DECIMAL(10,2), NULL, NULL, false, []),
  (300000, 'line1' || chr(10) || 'line|2', NULL, NULL, DATE '1999-12-31', TIMESTAMP '2000-01-01 00:00:00.5', NULL, NULL),
  (NULL, '診療所 é', 1e20, 1000000.00::DECIMAL(10,2), NULL, NULL, NULL, [NULL])
) t(n, practice, value, amount, day, stamp, ok, list)
ORDER BY n NULLS LAST`

func TestFormatsGolden(t *testing.T) {
	db := openDB(t)
	for _, f := range Formats {
		t.Run(string(f), func(t *testing.T) {
			var buf bytes.Buffer
			if err := Run(context.Background(), db, typesQuery, Options{Format: f}, &buf); err != nil {
				t.Fatal(err)
			}
			golden(t, filepath.Join("testdata", "golden", "types."+string(f)), buf.Bytes())
		})
	}
}

func golden(t *testing.T, path string, got []byte) {
	t.Helper()
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create): %v", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs (go test -update rewrites it)\n--- got ---\n%s\n--- want ---\n%s", path, got, want)
	}
}

// TestFormatsParse checks the machine formats with real parsers, beyond
// the golden bytes: JSON numbers stay numbers and NULL is null; CSV keeps
// commas, quotes and newlines inside fields.
func TestFormatsParse(t *testing.T) {
	db := openDB(t)
	var js bytes.Buffer
	if err := Run(context.Background(), db, typesQuery, Options{Format: FormatJSON}, &js); err != nil {
		t.Fatal(err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(js.Bytes(), &rows); err != nil {
		t.Fatalf("json output does not parse: %v\n%s", err, js.String())
	}
	if len(rows) != 4 {
		t.Fatalf("json rows = %d, want 4", len(rows))
	}
	if v, ok := rows[1]["value"].(float64); !ok || v != 85.2 {
		t.Errorf("json value = %#v, want number 85.2", rows[1]["value"])
	}
	if v, ok := rows[1]["amount"].(float64); !ok || v != 12.5 {
		t.Errorf("json decimal = %#v, want number 12.5", rows[1]["amount"])
	}
	if rows[3]["n"] != nil {
		t.Errorf("json NULL = %#v, want null", rows[3]["n"])
	}
	if l, ok := rows[1]["list"].([]any); !ok || len(l) != 2 {
		t.Errorf("json list = %#v, want [1,2]", rows[1]["list"])
	}

	var cs bytes.Buffer
	if err := Run(context.Background(), db, typesQuery, Options{Format: FormatCSV}, &cs); err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(&cs).ReadAll()
	if err != nil {
		t.Fatalf("csv output does not parse: %v", err)
	}
	if len(recs) != 5 || recs[0][1] != "practice" {
		t.Fatalf("csv = %q, want header and 4 rows", recs)
	}
	if recs[1][1] != `Smith, "Jones" & Co` || recs[3][1] != "line1\nline|2" {
		t.Errorf("csv text fields = %q, %q", recs[1][1], recs[3][1])
	}
	if recs[4][0] != "" {
		t.Errorf("csv NULL = %q, want empty", recs[4][0])
	}
}

func TestTableMaxRows(t *testing.T) {
	db := openDB(t)
	tests := []struct {
		maxRows   int
		wantLines int // data lines in the box
		wantNote  string
	}{
		{0, 25, ""},
		{10, 10, "25 rows (first 10 shown)"},
		{-1, 25, ""},
	}
	for _, tt := range tests {
		var buf bytes.Buffer
		err := Run(context.Background(), db, "SELECT range AS i FROM range(25)", Options{MaxRows: tt.maxRows}, &buf)
		if err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		// header (2 lines) + rules (3) + data lines + note.
		lines := strings.Count(out, "│ ") - 2
		if lines != tt.wantLines {
			t.Errorf("MaxRows %d: %d data lines, want %d\n%s", tt.maxRows, lines, tt.wantLines, out)
		}
		if tt.wantNote != "" && !strings.Contains(out, tt.wantNote) {
			t.Errorf("MaxRows %d: no note %q in\n%s", tt.maxRows, tt.wantNote, out)
		}
		if tt.wantNote == "" && strings.Contains(out, "shown") {
			t.Errorf("MaxRows %d: unexpected truncation note\n%s", tt.maxRows, out)
		}
	}
}

func TestParseFormat(t *testing.T) {
	for in, want := range map[string]Format{"": FormatTable, "TABLE": FormatTable, "csv": FormatCSV, "json": FormatJSON, "md": FormatMarkdown, "markdown": FormatMarkdown} {
		got, err := ParseFormat(in)
		if err != nil || got != want {
			t.Errorf("ParseFormat(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	if _, err := ParseFormat("xml"); err == nil {
		t.Error("ParseFormat(xml) accepted")
	}
	// Run takes the aliases too.
	var buf bytes.Buffer
	if err := Run(context.Background(), openDB(t), "SELECT 1 AS a", Options{Format: "md"}, &buf); err != nil || buf.String() != "| a   |\n| --: |\n|   1 |\n" {
		t.Errorf("Run with md = %q, %v", buf.String(), err)
	}
	if err := Run(context.Background(), openDB(t), "SELECT 1", Options{Format: "xml"}, &buf); err == nil {
		t.Error("Run accepted format xml")
	}
}
