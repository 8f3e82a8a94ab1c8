package publish

import (
	"bytes"
	"cmp"
	"context"
	"database/sql"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gplens/gplens/duck"
	"github.com/xuri/excelize/v2"
)

// publishFixture builds the small fixture once per test and publishes it.
func publishFixture(t *testing.T, opts Options) (*sql.DB, string, Result) {
	t.Helper()
	dir := t.TempDir()
	// the release schema is built with the rule the options describe
	f := smallFixture
	f.minCount, f.noSecondary = opts.Suppression.MinCount, opts.Suppression != (SuppressionConfig{}) && !opts.Suppression.Secondary
	db := openFixture(t, dir, f)
	out := filepath.Join(dir, "packs")
	if opts.Period == "" {
		opts.Period = smallFixture.period
	}
	opts.OutDir = out
	if opts.Version == "" {
		opts.Version = "test"
	}
	opts.Sources = []SourceFile{{Name: "qof/2023-24/ACHIEVEMENT_2324.csv", SHA256: strings.Repeat("ab", 32), Period: "2023-24"}}
	res, err := Publish(context.Background(), db, opts)
	if err != nil {
		t.Fatalf("Publish: %v", err)
	}
	return db, out, res
}

func readManifest(t *testing.T, dir string) Manifest {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "manifest.json"))
	if err != nil {
		t.Fatal(err)
	}
	var m Manifest
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("manifest: %v", err)
	}
	return m
}

func TestPublishPacks(t *testing.T) {
	db, out, res := publishFixture(t, Options{})
	checkPacks(t, db, out, res, DefaultListDownTo())
}

// TestListDownTo: region packs listing every practice (list_down_to region =
// "practice") carry their practices' rows, feed and sheet, like the others;
// a level above the pack's own is refused.
func TestListDownTo(t *testing.T) {
	deep := map[string]string{"region": "practice"}
	db, out, res := publishFixture(t, Options{ListDownTo: deep})
	want := DefaultListDownTo()
	want["region"] = "practice"
	checkPacks(t, db, out, res, want)
	for _, bad := range []map[string]string{{"icb": "region"}, {"icb": "ward"}, {"practice": "practice"}} {
		_, err := Publish(context.Background(), db, Options{Period: smallFixture.period, OutDir: t.TempDir(), ListDownTo: bad})
		if err == nil || !strings.Contains(err.Error(), "list_down_to") {
			t.Errorf("ListDownTo %v: err = %v, want a list_down_to error", bad, err)
		}
	}
}

// checkPacks checks every pack of res against its manifest and the fixture,
// each listing its areas down to deepest[level].
func checkPacks(t *testing.T, db *sql.DB, out string, res Result, deepest map[string]string) {
	t.Helper()
	f := smallFixture
	wantPacks := f.regions + f.regions*f.icbsPerRegion + f.regions*f.icbsPerRegion*f.subsPerICB
	if len(res.Packs) != wantPacks {
		t.Fatalf("packs = %d, want %d", len(res.Packs), wantPacks)
	}
	// nothing but the period folder is left in the packs folder
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 || ents[0].Name() != f.period {
		t.Fatalf("packs folder holds %v, want only %s", ents, f.period)
	}
	for _, p := range res.Packs {
		dir := filepath.Join(out, f.period, p.Area)
		m := readManifest(t, dir)
		if m.Area != p.Area || m.Period != f.period || m.Level != p.Level {
			t.Errorf("%s: manifest says %s/%s/%s", p.Area, m.Period, m.Area, m.Level)
		}
		wantPractices := map[string]int{"region": f.icbsPerRegion * f.subsPerICB * f.practicesPerSub,
			"icb": f.subsPerICB * f.practicesPerSub, "sub_icb": f.practicesPerSub}[p.Level]
		if m.Practices != wantPractices {
			t.Errorf("%s: %d practices, want %d", p.Area, m.Practices, wantPractices)
		}
		for _, mf := range m.Files {
			b, err := os.ReadFile(filepath.Join(dir, filepath.FromSlash(mf.Path)))
			if err != nil {
				t.Fatalf("%s: %v", mf.Path, err)
			}
			if sha(b) != mf.SHA256 || int64(len(b)) != mf.Bytes {
				t.Errorf("%s/%s: manifest checksum or size does not match the file", p.Area, mf.Path)
			}
		}
		checkFeeds(t, db, dir, m, p.Level, p.Area, deepest[p.Level])
	}
}

// checkFeeds: CSV with BOM, Parquet rows as the manifest says, only the
// area's practices, areas listed down to deepest and no lower, no count 1..7
// of a non-public indicator visible.
func checkFeeds(t *testing.T, db *sql.DB, dir string, m Manifest, level, area, deepest string) {
	t.Helper()
	iv := filepath.Join(dir, "feeds", "indicator_values.parquet")
	var lowest string
	if err := db.QueryRow(`SELECT arg_max(area_level, list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], area_level)) FROM read_parquet(?)`, iv).Scan(&lowest); err != nil {
		t.Fatal(err)
	}
	if lowest != deepest {
		t.Errorf("%s (%s): rows listed down to %s, want %s", area, level, lowest, deepest)
	}
	if deepest != "practice" {
		if _, err := os.Stat(filepath.Join(dir, "feeds", "practices.csv")); !os.IsNotExist(err) {
			t.Errorf("%s lists no practices, yet has a practices feed (%v)", area, err)
		}
		return
	}
	rows := map[string]int{}
	for _, f := range m.Files {
		if f.Rows != nil {
			rows[f.Path] = *f.Rows
		}
	}
	for _, feed := range []string{"indicators", "indicator_values", "inequality", "inequality_deciles", "trends", "summary", "practices"} {
		b, err := os.ReadFile(filepath.Join(dir, "feeds", feed+".csv"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(b, []byte("\ufeff")) {
			t.Errorf("%s.csv has no BOM", feed)
		}
		recs, err := csv.NewReader(bytes.NewReader(b[3:])).ReadAll()
		if err != nil {
			t.Fatalf("%s.csv: %v", feed, err)
		}
		if len(recs)-1 != rows["feeds/"+feed+".csv"] {
			t.Errorf("%s.csv has %d rows, manifest says %d", feed, len(recs)-1, rows["feeds/"+feed+".csv"])
		}
		var n int
		if err := db.QueryRow(`SELECT count(*) FROM read_parquet(?)`, filepath.Join(dir, "feeds", feed+".parquet")).Scan(&n); err != nil {
			t.Fatalf("%s.parquet: %v", feed, err)
		}
		if n != rows["feeds/"+feed+".parquet"] {
			t.Errorf("%s.parquet has %d rows, manifest says %d", feed, n, rows["feeds/"+feed+".parquet"])
		}
	}
	// practices of other areas never appear
	col := map[string]string{"region": "region_code", "icb": "icb_code", "sub_icb": "sub_icb_code"}[level]
	var foreign, total int
	err := db.QueryRow(`SELECT count(*) FILTER (WHERE p.`+col+` <> ?), count(*) FROM read_parquet(?) f JOIN core.practices p ON p.practice_code = f.practice_code WHERE f.area_level = 'practice'`,
		area, filepath.Join(dir, "feeds", "indicator_values.parquet")).Scan(&foreign, &total)
	if err != nil {
		t.Fatal(err)
	}
	if foreign != 0 || total == 0 {
		t.Errorf("%s: %d of %d practice rows belong to other areas", area, foreign, total)
	}
	var small int
	err = db.QueryRow(`SELECT count(*) FROM read_parquet(?) f JOIN core.indicators i USING (indicator_id)
		WHERE NOT i.public AND f.numerator BETWEEN 1 AND 7`, filepath.Join(dir, "feeds", "indicator_values.parquet")).Scan(&small)
	if err != nil {
		t.Fatal(err)
	}
	if small != 0 {
		t.Errorf("%s: %d non-public counts of 1..7 published", area, small)
	}
	// secondary suppression: the area's published total never has exactly
	// one withheld practice beneath it
	var lone int
	err = db.QueryRow(`SELECT count(*) FROM
		(SELECT indicator_id, count(*) FILTER (WHERE suppression_reason IS NOT NULL) AS s FROM read_parquet(?) WHERE area_level = 'practice' GROUP BY indicator_id) x
		JOIN (SELECT indicator_id FROM read_parquet(?) WHERE area_level = ? AND area_code = ? AND suppression_reason IS NULL) a USING (indicator_id)
		WHERE s = 1`, iv, iv, level, area).Scan(&lone)
	if err != nil {
		t.Fatal(err)
	}
	if lone != 0 {
		t.Errorf("%s: %d indicators have exactly one withheld practice under a published total", area, lone)
	}
}

func TestPublishWorkbook(t *testing.T) {
	_, out, res := publishFixture(t, Options{Levels: []string{"sub_icb"}})
	dir := filepath.Join(out, smallFixture.period, res.Packs[0].Area)
	f, err := excelize.OpenFile(filepath.Join(dir, "pack.xlsx"))
	if err != nil {
		t.Fatalf("open workbook: %v", err)
	}
	defer f.Close()
	want := []string{"Contents", "Summary", "Practices", "QOF", "Investment", "Workforce", "Referrals", "Inequality", "Deprivation deciles", "Investment and need", "Notes"}
	if got := f.GetSheetList(); !slices.Equal(got, want) {
		t.Fatalf("sheets = %v, want %v", got, want)
	}
	rows, err := f.GetRows("Practices")
	if err != nil {
		t.Fatal(err)
	}
	if len(rows)-1 != smallFixture.practicesPerSub {
		t.Errorf("Practices sheet has %d rows, want %d", len(rows)-1, smallFixture.practicesPerSub)
	}
	// each comparison cell carries its label as text and a fill for it
	hdr := rows[0]
	ci := slices.IndexFunc(hdr, func(h string) bool { return strings.HasSuffix(h, "compared with England") })
	if ci < 0 {
		t.Fatalf("no comparison column in %v", hdr)
	}
	cell, _ := excelize.CoordinatesToCellName(ci+1, 2)
	label, _ := f.GetCellValue("Practices", cell)
	if _, ok := comparisonFill[label]; !ok && label != "not compared" {
		t.Errorf("comparison cell %s = %q, not a comparison label", cell, label)
	}
	if sid, _ := f.GetCellStyle("Practices", cell); comparisonFill[label] != "" && sid == 0 {
		t.Errorf("comparison cell %s (%s) has no fill", cell, label)
	}
	panes, err := f.GetPanes("Practices")
	if err != nil || !panes.Freeze || panes.YSplit != 1 {
		t.Errorf("Practices header not frozen: %+v %v", panes, err)
	}
	// referrals: the small-count indicator shows '*' somewhere
	ref, _ := f.GetRows("Referrals")
	stars := 0
	for _, r := range ref {
		for _, c := range r {
			if c == "*" {
				stars++
			}
		}
	}
	if stars == 0 {
		t.Error("Referrals sheet shows no withheld cells, though the fixture has counts 1..7")
	}
	notes, _ := f.GetRows("Notes")
	var found bool
	for _, r := range notes {
		if len(r) > 2 && r[2] == strings.Repeat("ab", 32) {
			found = true
		}
	}
	if !found {
		t.Error("Notes sheet does not list the source file's sha256")
	}
	m := readManifest(t, dir)
	if m.Suppression.Cells.Primary == 0 || m.Suppression.MinCount != 8 {
		t.Errorf("manifest suppression = %+v", m.Suppression)
	}
}

func TestPublishHTML(t *testing.T) {
	_, out, res := publishFixture(t, Options{Levels: []string{"icb"}})
	b, err := os.ReadFile(filepath.Join(out, smallFixture.period, res.Packs[0].Area, "pack.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, bad := range []string{"<script", "<link", "<img", "@import", "url(http", "src="} {
		if strings.Contains(s, bad) {
			t.Errorf("pack.html contains %q: it must be self-contained", bad)
		}
	}
	if n := strings.Count(s, "http"); n != strings.Count(s, `xmlns="http://www.w3.org/2000/svg"`) {
		t.Errorf("pack.html has %d http references besides the SVG namespace", n-strings.Count(s, `xmlns="http://www.w3.org/2000/svg"`))
	}
	for _, want := range []string{`role="img"`, "<caption>", "<desc id=", "@media print", "Funnel plot", "Ranked practices", "Trend (statistical process control)", "By deprivation", "<h1>", "<h2>", "<h3>"} {
		if !strings.Contains(s, want) {
			t.Errorf("pack.html lacks %q", want)
		}
	}
	// every practice of the area is labelled on hover in the funnel plot
	if strings.Count(s, "Practice ") < 10 {
		t.Error("practice hover labels missing")
	}
	if strings.Contains(s, "O'Brien") && !strings.Contains(s, "O&#39;Brien") && !strings.Contains(s, "O&#x27;Brien") {
		t.Error("practice names are not escaped")
	}
}

// TestRegionPackCharts: a region pack listing down to its sub-ICB
// locations (the default) plots them where other packs plot practices, and
// has no practices table.
func TestRegionPackCharts(t *testing.T) {
	_, out, res := publishFixture(t, Options{Levels: []string{"region"}})
	b, err := os.ReadFile(filepath.Join(out, smallFixture.period, res.Packs[0].Area, "pack.html"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{"Ranked sub-ICB locations", "sub-ICB locations plotted by denominator", "Sub-ICB locations by denominator", "Hover a point for the sub-ICB location"} {
		if !strings.Contains(s, want) {
			t.Errorf("region pack.html lacks %q", want)
		}
	}
	for _, bad := range []string{"Ranked practices", `id="practices"`, "practices plotted by denominator"} {
		if strings.Contains(s, bad) {
			t.Errorf("region pack.html has %q, yet lists no practices", bad)
		}
	}
}

func TestPublishDeterministic(t *testing.T) {
	dir := t.TempDir()
	db := openFixture(t, dir, smallFixture)
	snapshot := func(out string) map[string][]byte {
		opts := Options{Period: smallFixture.period, OutDir: out, Version: "v1", Seed: 42, Workers: 2}
		if _, err := Publish(context.Background(), db, opts); err != nil {
			t.Fatal(err)
		}
		files := map[string][]byte{}
		err := filepath.WalkDir(out, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(out, p)
			b, err := os.ReadFile(p)
			files[rel] = b
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		return files
	}
	a := snapshot(filepath.Join(dir, "a"))
	b := snapshot(filepath.Join(dir, "b"))
	c := snapshot(filepath.Join(dir, "a")) // republish over the first
	if len(a) == 0 || len(a) != len(b) || len(a) != len(c) {
		t.Fatalf("file counts differ: %d %d %d", len(a), len(b), len(c))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) || !bytes.Equal(v, c[k]) {
			t.Errorf("%s differs between identical publications", k)
		}
	}
}

func TestPublishPartialKeepsOtherAreas(t *testing.T) {
	dir := t.TempDir()
	db := openFixture(t, dir, smallFixture)
	out := filepath.Join(dir, "packs")
	ctx := context.Background()
	if _, err := Publish(ctx, db, Options{Period: smallFixture.period, OutDir: out}); err != nil {
		t.Fatal(err)
	}
	before, err := List(out)
	if err != nil {
		t.Fatal(err)
	}
	res, err := Publish(ctx, db, Options{Period: smallFixture.period, OutDir: out, Areas: []string{"Q00"}, Version: "v2"})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Packs) != 1 || res.Packs[0].Area != "Q00" {
		t.Fatalf("partial publish made %+v", res.Packs)
	}
	after, err := List(out)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != len(before) {
		t.Fatalf("after a partial publish %d packs are listed, before %d", len(after), len(before))
	}
	if m := readManifest(t, filepath.Join(out, smallFixture.period, "Q00")); m.Gplens != "v2" {
		t.Errorf("Q00 was not republished: version %q", m.Gplens)
	}
	if m := readManifest(t, filepath.Join(out, smallFixture.period, "Q01")); m.Gplens != "" {
		t.Errorf("Q01 should be carried over unchanged, has version %q", m.Gplens)
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Errorf("leftovers in the packs folder: %v", ents)
	}
	if _, err := Publish(ctx, db, Options{Period: smallFixture.period, OutDir: out, Areas: []string{"NOPE"}}); err == nil || !strings.Contains(err.Error(), "NOPE") {
		t.Errorf("unknown area: err = %v", err)
	}
}

func TestPublishOptionErrors(t *testing.T) {
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"bad period", Options{Period: "2024-13", OutDir: "x"}, "YYYY-MM"},
		{"financial year", Options{Period: "2023-24", OutDir: "x"}, "YYYY-MM"},
		{"bad level", Options{Period: "2024-06", OutDir: "x", Levels: []string{"practice"}}, "level"},
		{"no destination", Options{Period: "2024-06"}, "OutDir"},
		{"negative threshold", Options{Period: "2024-06", OutDir: "x", Suppression: SuppressionConfig{MinCount: -1}}, "min_count"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Publish(context.Background(), nil, c.opts)
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("err = %v, want mention of %q", err, c.want)
			}
		})
	}
}

func TestPublishThresholdConfigurable(t *testing.T) {
	// with min_count 12 more cells are withheld than with the default 8
	_, _, r8 := publishFixture(t, Options{Levels: []string{"icb"}})
	_, out12, r12 := publishFixture(t, Options{Levels: []string{"icb"}, Suppression: SuppressionConfig{MinCount: 12, Secondary: true}})
	if r12.Suppressed.Primary <= r8.Suppressed.Primary {
		t.Errorf("primary suppressed: min_count 12 gives %d, 8 gives %d", r12.Suppressed.Primary, r8.Suppressed.Primary)
	}
	m := readManifest(t, filepath.Join(out12, smallFixture.period, "Q00"))
	if m.Suppression.MinCount != 12 || !strings.Contains(m.Suppression.Rule, "1 to 11") {
		t.Errorf("manifest rule = %+v", m.Suppression)
	}
}

// failingDest fails the stage's nth write, as a full disk would.
type failingDest struct {
	LocalDir
	n int
}

func (d failingDest) Begin(ctx context.Context, period string) (Stage, error) {
	s, err := d.LocalDir.Begin(ctx, period)
	return &failingStage{Stage: s, left: d.n}, err
}

type failingStage struct {
	Stage
	mu   sync.Mutex
	left int
}

func (s *failingStage) WriteFile(ctx context.Context, rel string, data []byte) error {
	s.mu.Lock()
	s.left--
	fail := s.left < 0
	s.mu.Unlock()
	if fail {
		return errors.New("disk full")
	}
	return s.Stage.WriteFile(ctx, rel, data)
}

func TestPublishFailureKeepsLastGood(t *testing.T) {
	dir := t.TempDir()
	db := openFixture(t, dir, smallFixture)
	out := filepath.Join(dir, "packs")
	ctx := context.Background()
	if _, err := Publish(ctx, db, Options{Period: smallFixture.period, OutDir: out, Version: "good"}); err != nil {
		t.Fatal(err)
	}
	before, _ := List(out)
	_, err := Publish(ctx, db, Options{Period: smallFixture.period, Version: "bad", Dest: failingDest{LocalDir{out}, 20}})
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("err = %v, want the write failure", err)
	}
	after, _ := List(out)
	if len(after) != len(before) {
		t.Fatalf("a failed publication changed the packs: %d then %d", len(before), len(after))
	}
	for _, p := range after {
		if m := readManifest(t, p.Dir); m.Gplens != "good" {
			t.Errorf("%s: version %q after a failed publication", p.Area, m.Gplens)
		}
	}
	ents, _ := os.ReadDir(out)
	if len(ents) != 1 {
		t.Errorf("staging left behind: %v", ents)
	}
}

func TestListEmpty(t *testing.T) {
	got, err := List(filepath.Join(t.TempDir(), "none"))
	if err != nil || len(got) != 0 {
		t.Errorf("List of a missing folder = %v, %v", got, err)
	}
}

// The packs state the disclosure rule the release models applied
// (disclosure.cells, per indicator), not the one configured for publish.
func TestAppliedRule(t *testing.T) {
	ctx := context.Background()
	tests := []struct {
		name  string
		setup string
		want  string
	}{
		{"no disclosure.cells: the configured rule", ``, ""},
		{"one rule, rounded",
			`CREATE SCHEMA disclosure; CREATE TABLE disclosure.cells AS SELECT * FROM (VALUES
				('ref_a', 8.0, false, true, 5.0), ('ref_b', 8.0, false, true, 5.0), ('ref_b', 8.0, false, true, 5.0))
				AS t(indicator_id, min_count, suppress_zero, secondary, round_to)`,
			"non-public indicators: counts 1 to 7 withheld with every statistic built on them, further counts withheld so that no withheld count follows from any combination of published totals and parts (area hierarchy, deprivation deciles, priorities and specialties), published counts rounded to the nearest 5; public data (QOF, payments, workforce) not suppressed"},
		{"two rules",
			`CREATE SCHEMA disclosure; CREATE TABLE disclosure.cells AS SELECT * FROM (VALUES
				('ref_a', 8.0, false, true, 1.0), ('ref_c', 11.0, true, false, 1.0), ('ref_b', 8.0, false, true, 1.0))
				AS t(indicator_id, min_count, suppress_zero, secondary, round_to)`,
			"2 indicators (ref_a, ref_b): counts 1 to 7 withheld with every statistic built on them, further counts withheld so that no withheld count follows from any combination of published totals and parts (area hierarchy, deprivation deciles, priorities and specialties); 1 indicators (ref_c): counts 0 to 10 withheld with every statistic built on them; public data (QOF, payments, workforce) not suppressed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := memoryDB(t, tt.setup)
			got, err := appliedRule(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			c := DefaultSuppression()
			c.applied = got
			if want := cmp.Or(tt.want, sdcRule(DefaultSuppression())); sdcRule(c) != want {
				t.Errorf("sdcRule: %q, want %q", sdcRule(c), want)
			}
		})
	}
}

// memoryDB is an in-memory database (one connection, closed with the test)
// after the setup statements, if any.
func memoryDB(t *testing.T, setup string) *sql.DB {
	t.Helper()
	db, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	db.SetMaxOpenConns(1)
	if setup != "" {
		if _, err := db.ExecContext(context.Background(), setup); err != nil {
			t.Fatal(err)
		}
	}
	return db
}

// A local stage's files are whole after Commit, whatever the write-behind
// queue did with them, and a write after Abort (a renderer still running
// when another failed) is refused or lands in the removed stage, never a
// panic on the closed queue.
func TestLocalStageWriteBehind(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st, err := LocalDir{root}.Begin(ctx, "2024-04")
	if err != nil {
		t.Fatal(err)
	}
	want := map[string][]byte{}
	for i := range 600 { // more than the queue holds
		rel := fmt.Sprintf("A%02d/feeds/f%03d.csv", i%7, i)
		data := bytes.Repeat([]byte{byte('a' + i%26)}, 1000+i*37)
		want[rel] = data
		if err := st.WriteFile(ctx, rel, data); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for rel, data := range want {
		got, err := os.ReadFile(filepath.Join(root, "2024-04", rel))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("%s after commit: %d bytes, %v; want %d bytes", rel, len(got), err, len(data))
		}
	}
	st2, err := LocalDir{root}.Begin(ctx, "2024-05")
	if err != nil {
		t.Fatal(err)
	}
	if err := st2.Abort(); err != nil {
		t.Fatal(err)
	}
	_ = st2.WriteFile(ctx, "A00/late.csv", []byte("x")) // must not panic
	if err := st2.Abort(); err != nil {
		t.Fatal(err)
	}
}

// A partial publish carries the other areas' files over as links to the live
// publication's, and a file written into the stage afterwards replaces the
// link rather than writing through it: the live publication stays as it was
// until Commit, and the carried files are whole after it.
func TestLocalStageCarryOverLinks(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	st, err := LocalDir{root}.Begin(ctx, "2024-04")
	if err != nil {
		t.Fatal(err)
	}
	for rel, data := range map[string]string{"A/x.csv": "old x", "A/feeds/y.csv": "old y", "B/z.csv": "old z"} {
		if err := st.WriteFile(ctx, rel, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	live := func(rel string) string {
		b, err := os.ReadFile(filepath.Join(root, "2024-04", filepath.FromSlash(rel)))
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	st2, err := LocalDir{root}.Begin(ctx, "2024-04")
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Abort()
	for _, a := range []string{"A", "B"} {
		if err := st2.CarryOver(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	tmp := st2.(*localStage).tmp
	for _, rel := range []string{"A/x.csv", "A/feeds/y.csv", "B/z.csv"} {
		a, err1 := os.Stat(filepath.Join(tmp, filepath.FromSlash(rel)))
		b, err2 := os.Stat(filepath.Join(root, "2024-04", filepath.FromSlash(rel)))
		if err1 != nil || err2 != nil || !os.SameFile(a, b) {
			t.Errorf("%s carried over: not a link to the live file (%v, %v)", rel, err1, err2)
		}
	}
	if err := st2.WriteFile(ctx, "A/x.csv", []byte("new x")); err != nil {
		t.Fatal(err)
	}
	if got := live("A/x.csv"); got != "old x" {
		t.Fatalf("a stage write changed the live publication: %q", got)
	}
	if err := st2.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	for rel, want := range map[string]string{"A/x.csv": "new x", "A/feeds/y.csv": "old y", "B/z.csv": "old z"} {
		if got := live(rel); got != want {
			t.Errorf("%s after commit = %q, want %q", rel, got, want)
		}
	}
}
