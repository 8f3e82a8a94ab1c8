package publish

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"
)

// readCSV reads a feed (after its BOM) as records.
func readCSV(t *testing.T, path string) [][]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(bytes.NewReader(bytes.TrimPrefix(b, []byte("\ufeff")))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// A month where one source has no data and another has a year missing for
// one indicator: the empty section is left out of the workbook, its
// Contents, the feeds and the page; no section mixes years; every sheet and
// feed that is there has rows.
func TestNoEmptySection(t *testing.T) {
	dir := t.TempDir()
	db := openFixture(t, dir, smallFixture)
	for _, q := range []string{
		`DELETE FROM marts.indicator_values WHERE indicator_id = 'wf_gp_fte_per_10k'`,
		`DELETE FROM marts.trends WHERE indicator_id = 'wf_gp_fte_per_10k'`,
		`DELETE FROM marts.indicator_values WHERE indicator_id = 'qof_ach_BP002' AND period = '2023-24'`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(dir, "packs")
	res, err := Publish(context.Background(), db, Options{Period: smallFixture.period, OutDir: out, Version: "t"})
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range res.Packs {
		pdir := filepath.Join(out, smallFixture.period, p.Area)
		sheets := checkWorkbookSections(t, filepath.Join(pdir, "pack.xlsx"))
		if slices.Contains(sheets, "Workforce") {
			t.Errorf("%s: Workforce sheet shown with no workforce data", p.Area)
		}
		for _, ent := range mustReadDir(t, filepath.Join(pdir, "feeds")) {
			if strings.HasSuffix(ent, ".csv") && len(readCSV(t, filepath.Join(pdir, "feeds", ent))) < 2 {
				t.Errorf("%s: feed %s is empty", p.Area, ent)
			}
		}
		html, _ := os.ReadFile(filepath.Join(pdir, "pack.html"))
		if bytes.Contains(html, []byte("<tbody></tbody>")) {
			t.Errorf("%s: pack.html has an empty table", p.Area)
		}
		if bytes.Contains(html, []byte("Workforce")) || bytes.Contains(html, []byte("GP FTE")) {
			t.Errorf("%s: pack.html mentions workforce, which has no data", p.Area)
		}
		// one period per sheet: QOF shows 2023-24 only, BP002 (2022-23 only) is left out
		iv := readCSV(t, filepath.Join(pdir, "feeds", "indicator_values.csv"))
		for _, r := range iv[1:] {
			if strings.HasPrefix(r[0], "qof_") && r[1] != "2023-24" {
				t.Fatalf("%s: %s shown for %s beside 2023-24 QOF data", p.Area, r[0], r[1])
			}
		}
	}
}

// checkWorkbookSections asserts that every sheet but Contents and Notes has
// data rows, that Contents lists exactly the sheets there, each with the
// period of its data where it has one; it returns the sheets.
func checkWorkbookSections(t *testing.T, path string) []string {
	t.Helper()
	f, err := excelize.OpenFile(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sheets := f.GetSheetList()
	contents, _ := f.GetRows("Contents")
	var listed []string
	for _, r := range contents[4:] {
		listed = append(listed, r[0])
		if slices.Contains([]string{"QOF", "Investment", "Referrals", "Inequality"}, r[0]) && (len(r) < 3 || r[2] == "") {
			t.Errorf("%s: Contents gives no period for %s", path, r[0])
		}
	}
	if !slices.Equal(listed, sheets[1:]) {
		t.Errorf("%s: Contents lists %v, the workbook has %v", path, listed, sheets[1:])
	}
	for _, s := range sheets {
		if s == "Contents" || s == "Notes" {
			continue
		}
		rows, _ := f.GetRows(s)
		header := 0
		for i, r := range rows {
			if len(r) > 1 && header == 0 {
				header = i + 1
			}
		}
		if header == 0 || len(rows) <= header {
			t.Errorf("%s: sheet %s has no data rows", path, s)
		}
		if s == "Summary" {
			for _, r := range rows[header:] {
				if len(r) < 3 || r[1] == "" {
					t.Errorf("%s: Summary row %v has no period", path, r)
				}
			}
		}
	}
	return sheets
}

func mustReadDir(t *testing.T, dir string) []string {
	t.Helper()
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range ents {
		out = append(out, e.Name())
	}
	return out
}

// The feeds' types are the data dictionary's: DuckDB's read_csv (as pandas
// or a BI tool would) reads every numeric column as a number and every flag
// as a boolean; Parquet has the dictionary's types exactly; no '*' anywhere.
func TestFeedTypesMatchDictionary(t *testing.T) {
	db, out, _ := publishFixture(t, Options{Levels: []string{"sub_icb"}, Areas: []string{"00S"}})
	feeds := filepath.Join(out, smallFixture.period, "00S", "feeds")
	dict := readCSV(t, filepath.Join(feeds, "data_dictionary.csv"))
	want := map[string]map[string]string{}
	for _, r := range dict[1:] {
		if want[r[0]] == nil {
			want[r[0]] = map[string]string{}
		}
		want[r[0]][r[1]] = r[2]
	}
	if len(want) != len(sections) {
		t.Fatalf("dictionary covers %d feeds, want %d", len(want), len(sections))
	}
	for feed, cols := range want {
		csvPath := filepath.Join(feeds, feed+".csv")
		if b, _ := os.ReadFile(csvPath); bytes.Contains(b, []byte(",*")) || bytes.Contains(b, []byte("*,")) {
			t.Errorf("%s.csv holds '*'", feed)
		}
		got := describe(t, db, `SELECT * FROM read_csv(?, header = true)`, csvPath)
		nonEmpty := nonEmptyColumns(t, db, csvPath)
		for col, typ := range cols {
			g, ok := got[col]
			if !ok {
				t.Errorf("%s.csv lacks column %s", feed, col)
				continue
			}
			switch {
			case !nonEmpty[col]: // an all-empty column has no type to check
			case typ == tDouble && g != "DOUBLE" && g != "BIGINT":
				t.Errorf("%s.csv %s: read_csv types it %s, dictionary says DOUBLE", feed, col, g)
			case (typ == tBigint || typ == tInteger) && g != "BIGINT" && g != "INTEGER":
				t.Errorf("%s.csv %s: read_csv types it %s, dictionary says %s", feed, col, g, typ)
			case typ == tBool && g != "BOOLEAN":
				t.Errorf("%s.csv %s: read_csv types it %s, dictionary says BOOLEAN", feed, col, g)
			}
		}
		pq := describe(t, db, `SELECT * FROM read_parquet(?)`, filepath.Join(feeds, feed+".parquet"))
		for col, typ := range cols {
			if pq[col] != typ {
				t.Errorf("%s.parquet %s is %s, dictionary says %s", feed, col, pq[col], typ)
			}
		}
		if len(pq) != len(cols) {
			t.Errorf("%s.parquet has %d columns, dictionary %d", feed, len(pq), len(cols))
		}
	}
	// a withheld value is NULL with its flag, and the flag is set only then
	var bad int
	err := db.QueryRow(`SELECT count(*) FROM read_parquet(?) WHERE value_suppressed <> (suppression_reason IS NOT NULL)
		OR (value_suppressed AND (value IS NOT NULL OR numerator IS NOT NULL))`, filepath.Join(feeds, "indicator_values.parquet")).Scan(&bad)
	if err != nil || bad != 0 {
		t.Errorf("%d rows with inconsistent suppression flags (%v)", bad, err)
	}
}

func describe(t *testing.T, db *sql.DB, q, path string) map[string]string {
	t.Helper()
	rows, err := db.Query(`DESCRIBE `+q, path)
	if err != nil {
		t.Fatalf("describe %s: %v", path, err)
	}
	defer rows.Close()
	out := map[string]string{}
	cols, _ := rows.Columns()
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		out[vals[0].(string)] = vals[1].(string)
	}
	return out
}

func nonEmptyColumns(t *testing.T, db *sql.DB, path string) map[string]bool {
	t.Helper()
	recs := readCSV(t, path)
	out := map[string]bool{}
	for _, r := range recs[1:] {
		for i, v := range r {
			if v != "" {
				out[recs[0][i]] = true
			}
		}
	}
	return out
}

// The same inputs built with 1 and with 4 DuckDB threads publish the same
// bytes: parallel sums differ in their last bits, published figures are
// rounded to the dictionary's precision.
func TestPublishSameBytesWhateverThreads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a larger warehouse twice")
	}
	medium := fixture{regions: 2, icbsPerRegion: 2, subsPerICB: 2, practicesPerSub: 100, period: "2024-06"}
	var dbs []*sql.DB
	var outs []string
	for _, threads := range []int{1, 4} {
		dir := t.TempDir()
		db := openFixtureThreads(t, dir, medium, threads)
		out := filepath.Join(dir, "packs")
		if _, err := Publish(context.Background(), db, Options{Period: medium.period, OutDir: out, Version: "t",
			Levels: []string{"sub_icb"}, Areas: []string{"00S", "05S"}}); err != nil {
			t.Fatal(err)
		}
		dbs, outs = append(dbs, db), append(outs, out)
	}
	// the raw warehouses differ (else this test would prove nothing)
	var raw []string
	for _, db := range dbs {
		var s string
		if err := db.QueryRow(`SELECT string_agg(CAST(numerator AS VARCHAR) || '/' || CAST(denominator AS VARCHAR) || '/' || CAST(value AS VARCHAR), ',' ORDER BY indicator_id, period, area_level, area_code)
			FROM marts.indicator_values WHERE area_level <> 'practice'`).Scan(&s); err != nil {
			t.Fatal(err)
		}
		raw = append(raw, s)
	}
	if raw[0] == raw[1] {
		t.Log("the two builds agree at full precision this time; the byte comparison below still applies")
	}
	a, b := treeFiles(t, outs[0]), treeFiles(t, outs[1])
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("file counts %d and %d", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Errorf("%s differs between the 1-thread and the 4-thread warehouse", k)
		}
	}
}

func treeFiles(t *testing.T, root string) map[string][]byte {
	t.Helper()
	out := map[string][]byte{}
	err := filepath.Walk(root, func(p string, info os.FileInfo, err error) error {
		if err != nil || info.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		b, err := os.ReadFile(p)
		out[rel] = b
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cancelOnWrite cancels a publication at its first progress line, as
// Ctrl-C would mid-run.
type cancelOnWrite struct {
	cancel context.CancelFunc
	lines  int
}

func (c *cancelOnWrite) Write(b []byte) (int, error) {
	c.lines++
	c.cancel()
	return len(b), nil
}

// A cancelled publication stops, says so, and leaves the last good one.
func TestPublishCancelled(t *testing.T) {
	dir := t.TempDir()
	db := openFixture(t, dir, smallFixture)
	out := filepath.Join(dir, "packs")
	if _, err := Publish(context.Background(), db, Options{Period: smallFixture.period, OutDir: out, Version: "good"}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w := &cancelOnWrite{cancel: cancel}
	_, err := Publish(ctx, db, Options{Period: smallFixture.period, OutDir: out, Version: "bad", Progress: w, Workers: 1})
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	f := smallFixture
	if all := f.regions + f.regions*f.icbsPerRegion + f.regions*f.icbsPerRegion*f.subsPerICB; w.lines >= all {
		t.Errorf("%d packs rendered after the cancel, of %d", w.lines, all)
	}
	packs, _ := List(out)
	for _, p := range packs {
		if m := readManifest(t, p.Dir); m.Gplens != "good" {
			t.Errorf("%s: version %q after a cancelled publication", p.Area, m.Gplens)
		}
	}
	if ents := mustReadDir(t, out); len(ents) != 1 {
		t.Errorf("staging left behind: %v", ents)
	}
}

// Progress: one line per pack with the count, the area and an ETA.
func TestPublishProgress(t *testing.T) {
	var b bytes.Buffer
	_, _, res := publishFixture(t, Options{Levels: []string{"icb"}, Progress: &b})
	lines := strings.Split(strings.TrimSpace(b.String()), "\r")
	var got []string
	for _, l := range lines {
		if l != "" {
			got = append(got, l)
		}
	}
	if len(got) != len(res.Packs) {
		t.Fatalf("%d progress lines for %d packs: %q", len(got), len(res.Packs), b.String())
	}
	last := got[len(got)-1]
	if !strings.Contains(last, "4/4 packs") || !strings.Contains(last, "ETA 0s") {
		t.Errorf("last progress line %q", last)
	}
}

// The bytes do not move when every figure in the marts moves by its last
// bit (what a different summation order does): the test above at its
// sharpest, since here the raw numbers certainly differ.
func TestPublishSameBytesWhateverLastBits(t *testing.T) {
	dir := t.TempDir()
	db := openFixture(t, dir, smallFixture)
	publishTo := func(out string) map[string][]byte {
		if _, err := Publish(context.Background(), db, Options{Period: smallFixture.period, OutDir: out, Version: "t",
			Levels: []string{"icb"}}); err != nil {
			t.Fatal(err)
		}
		return treeFiles(t, out)
	}
	a := publishTo(filepath.Join(dir, "a"))
	rows, err := db.Query(`SELECT table_name, column_name FROM information_schema.columns
		WHERE table_schema = 'marts' AND data_type = 'DOUBLE' ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	var updates []string
	for rows.Next() {
		var tb, col string
		if err := rows.Scan(&tb, &col); err != nil {
			t.Fatal(err)
		}
		// alternate up and down by column, so sums and ratios move too
		dir := "'Infinity'"
		if len(updates)%2 == 1 {
			dir = "'-Infinity'"
		}
		updates = append(updates, `UPDATE marts.`+tb+` SET "`+col+`" = nextafter("`+col+`", CAST(`+dir+` AS DOUBLE)) WHERE "`+col+`" <> 0`)
	}
	rows.Close()
	if len(updates) < 20 {
		t.Fatalf("only %d DOUBLE columns in the fixture marts", len(updates))
	}
	for _, u := range updates {
		if _, err := db.Exec(u); err != nil {
			t.Fatalf("%s: %v", u, err)
		}
	}
	b := publishTo(filepath.Join(dir, "b"))
	if len(a) == 0 || len(a) != len(b) {
		t.Fatalf("file counts %d and %d", len(a), len(b))
	}
	for k, v := range a {
		if !bytes.Equal(v, b[k]) {
			t.Errorf("%s differs after a last-bit change to the marts", k)
		}
	}
}
