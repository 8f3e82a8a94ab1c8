package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gplens/gplens/publish"
)

// The whole pipeline through the CLI: demo (generate, ingest, transform,
// publish), then SQL on the published snapshot, a scheduled job triggered
// by hand on a restated extract dropped in the inbox, and the run history.
func TestDemoPipeline(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a small warehouse")
	}
	ws := filepath.Join(t.TempDir(), "ws")
	code, out, errs := gplens(t, "--workspace", ws, "demo", "--practices", "40", "--months", "3")
	if code != 0 {
		t.Fatalf("demo = %d\n%s\n%s", code, out, errs)
	}
	for _, want := range []string{"ingesting", "warehouse", "published", "packs/2024-03"} {
		if !strings.Contains(out, want) {
			t.Errorf("demo output lacks %q:\n%s", want, out)
		}
	}
	// Words for people, never a Go value's dump ({Primary:13677 ...}) or a format error.
	for _, bad := range []string{"{", "%!"} {
		if strings.Contains(out, bad) {
			t.Errorf("demo output holds %q:\n%s", bad, out)
		}
	}
	packs, _ := filepath.Glob(filepath.Join(ws, "packs", "2024-03", "*", "pack.html"))
	if len(packs) < 7 {
		t.Errorf("only %d packs", len(packs))
	}
	code, out, errs = gplens(t, "--workspace", ws, "sql", "--format", "csv", "-c",
		"SELECT count(DISTINCT practice_code) AS n FROM marts.indicator_values WHERE area_level = 'practice'")
	if code != 0 || !strings.Contains(out, "n\n") {
		t.Fatalf("sql on the snapshot = %d\n%s\n%s", code, out, errs)
	}
	// The snapshot's reader columns carry the data dictionary's text (the
	// SQL endpoint's column remarks).
	want := publish.ColumnRemarks("variation", "value")
	code, out, errs = gplens(t, "--workspace", ws, "sql", "--format", "csv", "-c",
		"SELECT comment FROM duckdb_columns() WHERE schema_name = 'analyst' AND table_name = 'variation' AND column_name = 'value'")
	if code != 0 || want == "" || !strings.Contains(out, want) {
		t.Errorf("remark of analyst.variation.value = %d\n%s\n%s\nwant %q", code, out, errs, want)
	}
	// The query tests' hand-written warehouse still matches what the models build.
	checkQueryFixture(t, filepath.Join(ws, "warehouse.duckdb"))

	code, out, _ = gplens(t, "--workspace", ws, "packs")
	if code != 0 || !strings.Contains(out, "2024-03") {
		t.Errorf("packs = %d\n%s", code, out)
	}

	// A job in gplens.toml, triggered by hand: it ingests the inbox,
	// rebuilds and republishes.
	cfg := filepath.Join(ws, "gplens.toml")
	b, _ := os.ReadFile(cfg)
	b = append(b, []byte("\n[[jobs]]\nname = \"monthly\"\nschedule = \"0 6 12 * *\"\nsteps = [\"run\"]\nperiod = \"2024-03\"\n")...)
	os.WriteFile(cfg, b, 0o644)
	src, _ := filepath.Glob(filepath.Join(ws, "extracts", "registrations", "2024-03", "gp-reg-pat-prac-all.csv"))
	if len(src) != 1 {
		t.Fatalf("extract missing: %v", src)
	}
	data, _ := os.ReadFile(src[0])
	os.WriteFile(filepath.Join(ws, "inbox", "gp-reg-pat-prac-all.csv"), append(data, []byte("\r\n")...), 0o644)
	code, out, errs = gplens(t, "--workspace", ws, "trigger", "monthly")
	if code != 0 || !strings.Contains(out, "succeeded") {
		t.Fatalf("trigger = %d\n%s\n%s", code, out, errs)
	}
	if left, _ := os.ReadDir(filepath.Join(ws, "inbox")); len(left) != 0 {
		t.Errorf("inbox not emptied: %v", left)
	}
	code, out, _ = gplens(t, "--workspace", ws, "runs")
	if code != 0 || !strings.Contains(out, "monthly") || !strings.Contains(out, "succeeded") {
		t.Errorf("runs = %d\n%s", code, out)
	}
	code, _, errs = gplens(t, "--workspace", ws, "trigger", "nope")
	if code != 2 || !strings.Contains(errs, "no job named") {
		t.Errorf("unknown job = %d %s", code, errs)
	}
}
