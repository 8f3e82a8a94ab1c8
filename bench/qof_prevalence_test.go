// Package bench holds analyses timed by scripts/bench-qof.sh: the QOF
// prevalence analysis in gplens SQL (qof_prevalence.sql) and in pandas
// (qof_prevalence.py). The tests here check that the SQL computes what
// METRICS.md says (against the Go metrics package on the raw file) and that
// the pandas baseline computes the same thing, row by row.
package bench

import (
	"context"
	"database/sql"
	"encoding/csv"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gplens/gplens/duck"
	"github.com/gplens/gplens/metrics"
	"github.com/gplens/gplens/query"
)

const realDir = "../shared/data/real" // from the repository root, as the SQL reads it

// table is a result keyed by its key columns joined with "|".
type table struct {
	cols []string
	rows map[string][]string
}

func (t table) get(tb testing.TB, key, col string) string {
	tb.Helper()
	r, ok := t.rows[key]
	if !ok {
		tb.Fatalf("no row %s", key)
	}
	i := slices.Index(t.cols, col)
	if i < 0 {
		tb.Fatalf("no column %s in %v", col, t.cols)
	}
	return r[i]
}

func (t table) num(tb testing.TB, key, col string) float64 {
	tb.Helper()
	v, err := strconv.ParseFloat(t.get(tb, key, col), 64)
	if err != nil {
		tb.Fatalf("%s %s: %v", key, col, err)
	}
	return v
}

// runSQL runs qof_prevalence.sql on one connection and reads its tables.
func runSQL(t *testing.T) map[string]table {
	t.Helper()
	src, err := os.ReadFile("bench/qof_prevalence.sql")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	// One connection: the file's temporary tables stay readable after it.
	for _, st := range query.Split(string(src)) {
		rows, err := conn.QueryContext(ctx, st.Text)
		if err != nil {
			t.Fatalf("qof_prevalence.sql line %d: %v", st.Line, err)
		}
		for rows.Next() {
		}
		if err := rows.Close(); err != nil {
			t.Fatal(err)
		}
	}
	out := map[string]table{}
	for name, key := range map[string][]string{
		"england": {"group_code"}, "icbs": {"icb_code", "group_code"},
		"sii_by_group": {"group_code"}, "practices": {"practice_code", "group_code"},
	} {
		out[name] = readSQL(t, conn, name, key)
	}
	return out
}

func readSQL(t *testing.T, conn *sql.Conn, name string, key []string) table {
	t.Helper()
	rows, err := conn.QueryContext(context.Background(), "SELECT * FROM "+name)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	tb := table{cols: cols, rows: map[string][]string{}}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			t.Fatal(err)
		}
		r := make([]string, len(cols))
		for i, v := range vals {
			switch x := v.(type) {
			case float64:
				r[i] = strconv.FormatFloat(x, 'g', -1, 64)
			case nil:
				r[i] = ""
			default:
				r[i] = fmt.Sprint(x)
			}
		}
		tb.rows[keyOf(cols, r, key)] = r
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return tb
}

func keyOf(cols, r, key []string) string {
	var k []string
	for _, c := range key {
		k = append(k, r[slices.Index(cols, c)])
	}
	return strings.Join(k, "|")
}

func readRecords(t *testing.T, path string) [][]string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return recs
}

// readCSV reads a CSV file keyed by columns that must be unique.
func readCSV(t *testing.T, path string, key ...string) table {
	t.Helper()
	recs := readRecords(t, path)
	tb := table{cols: recs[0], rows: map[string][]string{}}
	for _, r := range recs[1:] {
		k := keyOf(recs[0], r, key)
		if _, dup := tb.rows[k]; dup {
			t.Fatalf("%s: key %s twice", path, k)
		}
		tb.rows[k] = r
	}
	return tb
}

func chdirRoot(t *testing.T) {
	t.Chdir("..")
	if _, err := os.Stat(filepath.Join(realDir, "qof/2022-23/PREVALENCE_2223.csv")); err != nil {
		t.Skipf("real files absent (%v)", err)
	}
}

// TestQOFPrevalenceSQLMatchesMetrics recomputes every practice and ICB row,
// England and the SII from the raw file with the Go metrics package and
// requires the SQL's numbers to be identical.
func TestQOFPrevalenceSQLMatchesMetrics(t *testing.T) {
	chdirRoot(t)
	got := runSQL(t)

	// The raw files.
	prevRows := readCSV(t, filepath.Join(realDir, "qof/2022-23/PREVALENCE_2223.csv"), "PRACTICE_CODE", "GROUP_CODE")
	geo := readCSV(t, filepath.Join(realDir, "qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv"), "PRACTICE_CODE")
	type rec struct {
		practice, group, icb string
		x, n                 float64
	}
	var recs []rec
	dropped := 0
	for _, r := range prevRows.rows {
		x, _ := strconv.ParseFloat(r[2], 64)
		n, _ := strconv.ParseFloat(r[4], 64)
		g, ok := geo.rows[r[0]]
		if !ok {
			continue
		}
		if !(n > 0) || x > n {
			dropped++
			continue
		}
		recs = append(recs, rec{r[0], r[1], g[slices.Index(geo.cols, "ICB_ODS_CODE")], x, n})
	}
	if dropped != 1 || len(recs) != 133937 {
		t.Fatalf("%d rows kept, %d dropped; want 133,937 and 1 (Y05750 LD: register above list)", len(recs), dropped)
	}
	slices.SortFunc(recs, func(a, b rec) int { return strings.Compare(a.practice+a.group, b.practice+b.group) })

	// England and ICB totals: sums of whole numbers, exact in any order.
	type tot struct{ x, n, k float64 }
	eng := map[string]*tot{}
	icb := map[string]*tot{}
	byGroup := map[string][]int{}
	for i, r := range recs {
		add := func(m map[string]*tot, k string) {
			if m[k] == nil {
				m[k] = &tot{}
			}
			m[k].x += r.x
			m[k].n += r.n
			m[k].k++
		}
		add(eng, r.group)
		add(icb, r.icb+"|"+r.group)
		byGroup[r.group] = append(byGroup[r.group], i)
	}
	if len(got["england"].rows) != 21 || len(eng) != 21 {
		t.Fatalf("%d/%d registers, want 21", len(got["england"].rows), len(eng))
	}
	for g, e := range eng {
		if v := got["england"].num(t, g, "prevalence"); v != e.x/e.n {
			t.Errorf("England %s: %v, want %v", g, v, e.x/e.n)
		}
	}

	// Every practice row.
	if len(got["practices"].rows) != len(recs) {
		t.Fatalf("%d practice rows, want %d", len(got["practices"].rows), len(recs))
	}
	deciles := map[int]int{}
	for _, idx := range byGroup {
		vals := make([]float64, len(idx))
		for j, i := range idx {
			vals[j] = recs[i].x / recs[i].n
		}
		q, err := metrics.PHEQuantiles(vals, 10, false)
		if err != nil {
			t.Fatal(err)
		}
		for j, i := range idx {
			deciles[i] = q[j]
		}
	}
	labels := map[string]int{}
	for i, r := range recs {
		key := r.practice + "|" + r.group
		e := eng[r.group].x / eng[r.group].n
		lo, hi, err := metrics.Wilson(r.x, r.n, 0.95)
		if err != nil {
			t.Fatal(err)
		}
		lo3, hi3, _ := metrics.Wilson(r.x, r.n, 0.998)
		want := map[string]float64{"prevalence": r.x / r.n, "lower95": lo, "upper95": hi, "lower998": lo3, "upper998": hi3, "england": e}
		for c, w := range want {
			if v := got["practices"].num(t, key, c); v != w {
				t.Errorf("%s %s: %v, want %v", key, c, v, w)
			}
		}
		label := metrics.CompareLabel(e, lo, hi, lo3, hi3, metrics.NoJudgement)
		funnel, err := metrics.FunnelSignificance(metrics.StatProportion, r.x, r.n, e)
		if err != nil {
			t.Fatal(err)
		}
		if v := got["practices"].get(t, key, "vs_england"); v != label {
			t.Errorf("%s vs England: %q, want %q", key, v, label)
		}
		if v := got["practices"].get(t, key, "funnel"); v != funnel {
			t.Errorf("%s funnel: %q, want %q", key, v, funnel)
		}
		if v := got["practices"].get(t, key, "decile"); v != strconv.Itoa(deciles[i]) {
			t.Errorf("%s decile: %s, want %d", key, v, deciles[i])
		}
		labels[funnel]++
		if t.Failed() {
			t.FailNow()
		}
	}
	if len(labels) != 5 {
		t.Errorf("funnel labels seen: %v; want all five", labels)
	}

	// ICB rows.
	if len(got["icbs"].rows) != len(icb) {
		t.Fatalf("%d ICB rows, want %d", len(got["icbs"].rows), len(icb))
	}
	for k, s := range icb {
		lo, hi, _ := metrics.Wilson(s.x, s.n, 0.95)
		g := k[strings.Index(k, "|")+1:]
		e := eng[g].x / eng[g].n
		lo3, hi3, _ := metrics.Wilson(s.x, s.n, 0.998)
		for c, w := range map[string]float64{"practices": s.k, "prevalence": s.x / s.n, "lower95": lo, "upper95": hi, "lower998": lo3, "upper998": hi3} {
			if v := got["icbs"].num(t, k, c); v != w {
				t.Errorf("ICB %s %s: %v, want %v", k, c, v, w)
			}
		}
		if v, w := got["icbs"].get(t, k, "vs_england"), metrics.CompareLabel(e, lo, hi, lo3, hi3, metrics.NoJudgement); v != w {
			t.Errorf("ICB %s vs England: %q, want %q", k, v, w)
		}
	}

	// SII: practices' IMD deciles (PHE's rule, most deprived first), pooled
	// per register, metrics.SII with the SQL's options and seed.
	imd := readRecords(t, filepath.Join(realDir, "deprivation/indicator-data.csv"))
	score := map[string]float64{}
	at, ac, av := slices.Index(imd[0], "Area Type"), slices.Index(imd[0], "Area Code"), slices.Index(imd[0], "Value")
	for _, r := range imd[1:] {
		if r[at] != "GP" || r[av] == "" {
			continue
		}
		v, err := strconv.ParseFloat(r[av], 64)
		if err != nil {
			t.Fatal(err)
		}
		code := r[ac]
		if old, ok := score[code]; !ok || v > old {
			score[code] = v
		}
	}
	var codes []string
	seen := map[string]bool{}
	for _, r := range recs {
		if _, ok := score[r.practice]; ok && !seen[r.practice] {
			seen[r.practice] = true
			codes = append(codes, r.practice)
		}
	}
	sv := make([]float64, len(codes))
	for i, c := range codes {
		sv[i] = score[c]
	}
	q, err := metrics.PHEQuantiles(sv, 10, true)
	if err != nil {
		t.Fatal(err)
	}
	dec := map[string]int{}
	for i, c := range codes {
		dec[c] = q[i]
	}
	for g, idx := range byGroup {
		var x, n [10]float64
		for _, i := range idx {
			if d, ok := dec[recs[i].practice]; ok {
				x[d-1] += recs[i].x
				n[d-1] += recs[i].n
			}
		}
		var v, lo, hi []float64
		for d := range 10 {
			l, h, _ := metrics.Wilson(x[d], n[d], 0.95)
			v, lo, hi = append(v, x[d]/n[d]), append(lo, l), append(hi, h)
		}
		r, err := metrics.SII(context.Background(), v, n[:], lo, hi, metrics.SIIOptions{
			ValueType: metrics.ValueProportion, Multiplier: 100, Confidence: 0.95, Reps: 100000, Seed: 2223})
		if err != nil {
			t.Fatal(err)
		}
		for c, w := range map[string]float64{"sii": r.SII, "sii_lower": r.SIILower, "sii_upper": r.SIIUpper, "rii": r.RII, "intercept": r.Intercept} {
			if got := got["sii_by_group"].num(t, g, c); got != w {
				t.Errorf("SII %s %s: %v, want %v", g, c, got, w)
			}
		}
	}
}

// findPandas returns a python3 that imports pandas, or "".
func findPandas() string {
	for _, c := range []string{os.Getenv("PYTHON"), "python3", "/usr/bin/python3"} {
		if c == "" {
			continue
		}
		if err := exec.Command(c, "-c", "import pandas, numpy").Run(); err == nil {
			return c
		}
	}
	return ""
}

// TestQOFPrevalencePandasAgrees runs the pandas baseline and compares it
// with the SQL row by row: the same rows, labels and deciles exactly,
// numbers within 1e-9 relative; the SII's simulated limits (numpy's draws,
// not Go's) within 5% of the interval's width.
func TestQOFPrevalencePandasAgrees(t *testing.T) {
	chdirRoot(t)
	py := findPandas()
	if py == "" {
		t.Skip("no python3 with pandas (Debian: apt-get install python3-pandas)")
	}
	out := t.TempDir()
	cmd := exec.Command(py, "bench/qof_prevalence.py", "--data", realDir, "--out", out)
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(cmd.Args, " "), err, b)
	}
	got := runSQL(t)
	pd := map[string]table{
		"england":      readCSV(t, filepath.Join(out, "england.csv"), "group_code"),
		"icbs":         readCSV(t, filepath.Join(out, "icbs.csv"), "icb_code", "group_code"),
		"sii_by_group": readCSV(t, filepath.Join(out, "sii.csv"), "group_code"),
		"practices":    readCSV(t, filepath.Join(out, "practices.csv"), "practice_code", "group_code"),
	}
	near := func(a, b float64) bool {
		return a == b || math.Abs(a-b) <= 1e-9*math.Max(math.Abs(a), math.Abs(b))
	}
	for name, p := range pd {
		s := got[name]
		if len(p.rows) != len(s.rows) {
			t.Errorf("%s: pandas %d rows, SQL %d", name, len(p.rows), len(s.rows))
			continue
		}
		for key, prow := range p.rows {
			if _, ok := s.rows[key]; !ok {
				t.Errorf("%s: row %s only in pandas", name, key)
				continue
			}
			for i, c := range p.cols {
				pv, sv := prow[i], s.get(t, key, c)
				pf, perr := strconv.ParseFloat(pv, 64)
				sf, serr := strconv.ParseFloat(sv, 64)
				switch {
				case perr != nil || serr != nil:
					if pv != sv {
						t.Errorf("%s %s %s: pandas %q, SQL %q", name, key, c, pv, sv)
					}
				case name == "sii_by_group" && strings.Contains(c, "_"):
					// Simulated limits: compare with the SQL interval's width.
					w := s.num(t, key, c[:3]+"_upper") - s.num(t, key, c[:3]+"_lower")
					if math.Abs(pf-sf) > 0.05*w {
						t.Errorf("%s %s %s: pandas %v, SQL %v (interval width %v)", name, key, c, pf, sf, w)
					}
				case !near(pf, sf):
					t.Errorf("%s %s %s: pandas %v, SQL %v", name, key, c, pf, sf)
				}
			}
			if t.Failed() {
				t.FailNow()
			}
		}
	}
}
