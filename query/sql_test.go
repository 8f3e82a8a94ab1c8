package query

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

var (
	materializedRe = regexp.MustCompile(`(?m)\A-- materialized: view\n-- description: \S.*\n`)
	// directiveRe is how the transform engine spots a header directive in
	// the leading comment block; any key it does not know is an error there.
	directiveRe  = regexp.MustCompile(`^--\s*([a-z_]+)\s*:`)
	analystViews = []string{"areas", "inequality", "inverse_care", "investment", "investment_need", "peers", "practices", "referrals", "trends", "variation", "workforce"}
)

// TestAnalystViews checks each view file has the header the transform
// engine reads, is one SELECT, builds on the fixture warehouse and returns
// rows there.
func TestAnalystViews(t *testing.T) {
	files := analystFiles(t)
	var names []string
	for _, f := range files {
		names = append(names, strings.TrimSuffix(filepath.Base(f), ".sql"))
	}
	if strings.Join(names, ",") != strings.Join(analystViews, ",") {
		t.Fatalf("analyst views = %v, want %v", names, analystViews)
	}
	db := openFixture(t, true)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".sql")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !materializedRe.Match(src) {
				t.Errorf("%s does not start with the materialized/description header", f)
			}
			for n, line := range strings.Split(string(src), "\n") {
				line = strings.TrimSpace(line)
				if line != "" && !strings.HasPrefix(line, "--") {
					break
				}
				if m := directiveRe.FindStringSubmatch(line); m != nil && m[1] != "materialized" && m[1] != "description" {
					t.Errorf("%s:%d: comment reads as header directive %q", f, n+1, m[1])
				}
			}
			st := Split(string(src))
			if len(st) != 1 {
				t.Fatalf("%s holds %d statements, want one SELECT", f, len(st))
			}
			if first := strings.ToUpper(strings.Fields(st[0].Text)[0]); first != "SELECT" && first != "WITH" {
				t.Errorf("%s starts with %s, want SELECT or WITH", f, first)
			}
			rows := runJSON(t, db, "SELECT * FROM analyst."+name)
			if len(rows) == 0 {
				t.Errorf("analyst.%s returns no rows on the fixture", name)
			}
		})
	}
}

// TestAnalystViewValues spot-checks derived columns against the marts.
func TestAnalystViewValues(t *testing.T) {
	db := openFixture(t, true)
	tests := []struct {
		name, query string
	}{
		// every 0.001 overdispersed outlier has a judgement, nothing else does
		{"judgement_od", "SELECT count(*) FROM analyst.variation WHERE (judgement_od IS NOT NULL) <> coalesce(funnel_significance_od LIKE '%(0.001)', false)"},
		// higher_is_better and High means better
		{"judgement polarity", "SELECT count(*) FROM analyst.variation WHERE polarity = 'higher_is_better' AND funnel_significance_od = 'High (0.001)' AND judgement_od <> 'better'"},
		// investment keeps one row per area x period x component, with both bases
		{"investment grain", "SELECT count(*) - (SELECT count(*) FROM (SELECT DISTINCT period, area_level, area_code, regexp_extract(indicator_id, '^pay_(.+)_per_', 1) FROM marts.indicator_values WHERE indicator_id LIKE 'pay%')) FROM analyst.investment"},
		{"investment values", "SELECT count(*) FROM analyst.investment i JOIN marts.indicator_values v ON v.indicator_id = 'pay_total_per_weighted' AND v.area_code = i.area_code AND v.area_level = i.area_level AND v.period = i.period WHERE i.component = 'total' AND abs(i.per_weighted_patient - v.value) > 1e-9"},
		// one row per practice, taken from the latest period
		{"practices latest", "SELECT count(*) - 40 + count(*) FILTER (WHERE period <> '2024-06') FROM analyst.practices"},
		{"closed practice", "SELECT count(*) FILTER (WHERE status = 'closed') - 1 FROM analyst.practices"},
		{"areas unique", "SELECT count(*) - count(DISTINCT (area_level, area_code)) FROM analyst.areas"},
		{"areas parent names", "SELECT count(*) FROM analyst.areas WHERE area_level = 'sub_icb' AND parent_name IS NULL"},
		{"trends latest", "SELECT count(*) FROM analyst.trends WHERE is_latest <> (variation_icon IS NOT NULL)"},
		{"referrals only", "SELECT count(*) FROM analyst.referrals WHERE indicator_id NOT LIKE 'ref%' OR (indicator_id = 'ref_isr_330') <> (specialty_code = '330')"},
		{"workforce england", "SELECT count(*) FROM analyst.workforce WHERE area_level = 'england' AND gp_fte_per_10k_vs_england <> 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var n int
			if err := db.QueryRow(tt.query).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if n != 0 {
				t.Errorf("%d rows break the rule: %s", n, tt.query)
			}
		})
	}
}

// TestExamples runs every example on the fixture: each has a header
// comment saying what it answers, runs as it is and returns columns and rows.
func TestExamples(t *testing.T) {
	files, err := filepath.Glob("../sql/examples/*.sql")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 6 {
		t.Fatalf("%d examples, want at least 6", len(files))
	}
	db := openFixture(t, true)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			src, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(string(src), "-- ") || !strings.Contains(strings.SplitN(string(src), "\n", 2)[0], "?") {
				t.Errorf("%s should open with a comment asking the question it answers", f)
			}
			rows := runJSON(t, db, string(src))
			if len(rows) == 0 || len(rows[0]) < 2 {
				t.Errorf("%s returned %d rows on the fixture", f, len(rows))
			}
		})
	}
}

// TestExampleOutliers checks the sub-ICB example's answer against the
// release table directly (what readers see): the first sub-ICB's
// overdispersed 99.8% outliers.
func TestExampleOutliers(t *testing.T) {
	db := openFixture(t, true)
	src, err := os.ReadFile("../sql/examples/outliers_in_my_sub_icb.sql")
	if err != nil {
		t.Fatal(err)
	}
	rows := runJSON(t, db, string(src))
	var want int
	err = db.QueryRow(`SELECT count(*) FROM release.indicator_values WHERE area_level = 'practice' AND sub_icb_code = '07K'
		AND funnel_significance_od LIKE '%0.001%'`).Scan(&want)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != want || want == 0 {
		t.Errorf("example found %d outliers, marts have %d", len(rows), want)
	}
	for _, r := range rows {
		if r["sub_icb_code"] != "07K" {
			t.Errorf("row outside the sub-ICB: %v", r)
		}
	}
}

func runJSON(t *testing.T, db *sql.DB, q string) []map[string]any {
	t.Helper()
	var buf bytes.Buffer
	if err := Run(context.Background(), db, q, Options{Format: FormatJSON}, &buf); err != nil {
		t.Fatalf("run: %v", err)
	}
	var rows []map[string]any
	if err := json.Unmarshal(buf.Bytes(), &rows); err != nil {
		t.Fatalf("parse %s: %v", buf.String(), err)
	}
	return rows
}
