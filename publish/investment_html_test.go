package publish

import (
	"encoding/csv"
	"html"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// htmlTableRows returns the text of every cell of the table with this id,
// row by row (header row included), from a page as written or as a browser
// serialises its DOM.
func htmlTableRows(t *testing.T, page, id string) [][]string {
	t.Helper()
	m := regexp.MustCompile(`(?s)<table[^>]*\bid="` + regexp.QuoteMeta(id) + `"[^>]*>(.*?)</table>`).FindStringSubmatch(page)
	if m == nil {
		t.Errorf("page has no table %s", id)
		return nil
	}
	tag := regexp.MustCompile(`<[^>]*>`)
	var out [][]string
	for _, tr := range regexp.MustCompile(`(?s)<tr[^>]*>(.*?)</tr>`).FindAllStringSubmatch(m[1], -1) {
		var row []string
		for _, td := range regexp.MustCompile(`(?s)<t[hd][^>]*>(.*?)</t[hd]>`).FindAllStringSubmatch(tr[1], -1) {
			row = append(row, strings.TrimSpace(html.UnescapeString(tag.ReplaceAllString(td[1], ""))))
		}
		out = append(out, row)
	}
	return out
}

// readFeed reads a feed CSV as maps by column name.
func readFeed(t *testing.T, path string) []map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(string(b), "\ufeff"))).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var out []map[string]string
	for _, r := range recs[1:] {
		m := map[string]string{}
		for i, h := range recs[0] {
			m[h] = r[i]
		}
		out = append(out, m)
	}
	return out
}

// shownNumber parses a figure as the page shows it ("-1,234", "12.50").
func shownNumber(s string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(s, ",", ""), 64)
	return v, err == nil
}

// checkInvestmentHTML checks the page's Investment and need part against
// the pack's investment_need feed: the charts are there, every quintile
// figure and every practice's gap and similar-practice figures are the
// feed's (to the places shown), and uncompared practices show no gap.
func checkInvestmentHTML(t *testing.T, page, feed string, area areaRef) {
	t.Helper()
	if !strings.Contains(page, `<section id="investment"`) || !strings.Contains(page, `href="#investment"`) {
		t.Fatal("page has no Investment and need section (or no contents entry for it)")
	}
	for _, id := range []string{"inv-q", "inv-g"} {
		if !regexp.MustCompile(`<svg[^>]*aria-labelledby="` + id + `-t ` + id + `-d"`).MatchString(page) {
			t.Errorf("investment chart %s missing", id)
		}
	}
	rows := readFeed(t, feed)
	if len(rows) == 0 {
		t.Fatal("investment_need feed is empty")
	}
	// quintiles: England and the area, payments per need-weighted patient with intervals
	quint := htmlTableRows(t, page, "inv-quintiles-payments")
	areaCols := 0
	for _, r := range rows {
		if r["part"] != "quintile" || r["measure"] != "payments" {
			continue
		}
		q, _ := strconv.Atoi(r["imd_quintile"])
		col := 1
		if r["area_level"] != "england" {
			if r["area_level"] != area.Level || r["area_code"] != area.Code {
				t.Errorf("feed quintile row for %s %s in the %s pack", r["area_level"], r["area_code"], area.Code)
				continue
			}
			col = 4
			areaCols++
		}
		if q < 1 || q > 5 || q >= len(quint) || len(quint[q]) < col+3 {
			t.Errorf("quintile table has no row/column for quintile %d of %s", q, r["area_code"])
			continue
		}
		cells := quint[q]
		want, _ := strconv.ParseFloat(r["per_need_patient"], 64)
		if got, ok := shownNumber(cells[col]); !ok || got != want {
			t.Errorf("quintile %d %s: page shows %q, feed %s", q, r["area_code"], cells[col], r["per_need_patient"])
		}
		if r["lower95"] != "" {
			lo, _ := strconv.ParseFloat(r["lower95"], 64)
			hi, _ := strconv.ParseFloat(r["upper95"], 64)
			if cells[col+1] != fixed(lo, 2)+" to "+fixed(hi, 2) {
				t.Errorf("quintile %d %s: interval %q, feed %s to %s", q, r["area_code"], cells[col+1], r["lower95"], r["upper95"])
			}
		}
		if cells[col+2] != r["practices"] {
			t.Errorf("quintile %d %s: %q practices, feed %s", q, r["area_code"], cells[col+2], r["practices"])
		}
	}
	if areaCols == 0 {
		t.Errorf("feed has no quintile rows for %s", area.Code)
	}
	// practices: gap, interval, per need-weighted patient, peers
	prac := htmlTableRows(t, page, "inv-practices")
	byCode := map[string][]string{}
	for _, r := range prac[1:] {
		if m := regexp.MustCompile(`\(([A-Z0-9]+)\)$`).FindStringSubmatch(r[0]); m != nil {
			byCode[m[1]] = r
		}
	}
	n, uncompared := 0, 0
	for _, r := range rows {
		if r["part"] != "practice" || r["measure"] != "payments" {
			continue
		}
		n++
		cells := byCode[r["area_code"]]
		if len(cells) < 11 {
			t.Errorf("practice %s: not in the page's table", r["area_code"])
			continue
		}
		near := func(col int, feedCol string, tol float64) {
			got, ok := shownNumber(cells[col])
			if r[feedCol] == "" {
				if cells[col] != "–" {
					t.Errorf("practice %s %s: page shows %q, feed empty", r["area_code"], feedCol, cells[col])
				}
				return
			}
			want, _ := strconv.ParseFloat(r[feedCol], 64)
			if !ok || math.Abs(got-want) > tol {
				t.Errorf("practice %s %s: page shows %q, feed %s", r["area_code"], feedCol, cells[col], r[feedCol])
			}
		}
		near(2, "need_index", 0)
		near(3, "per_need_patient", 0)
		near(4, "fair_share_gap", 0.5)
		near(6, "fair_share_gap_pct", 0.05)
		near(8, "peer_practices", 0)
		near(9, "peer_per_need_patient", 0)
		near(10, "peer_gap", 0.5)
		if r["in_comparisons"] == "false" {
			uncompared++
			if !strings.Contains(cells[7], "not compared: "+r["dq_flag"]) {
				t.Errorf("practice %s is not compared (%s) but the page says %q", r["area_code"], r["dq_flag"], cells[7])
			}
		}
	}
	if n == 0 || len(prac)-1 != n {
		t.Errorf("page lists %d practices, feed %d", len(prac)-1, n)
	}
	if got := strings.Count(regexp.MustCompile(`(?s)<svg[^>]*aria-labelledby="inv-g-t.*?</svg>`).FindString(page), "<title>") - 1; got != n-uncompared {
		t.Errorf("gap chart marks %d practices, want the %d compared", got, n-uncompared)
	}
}

func TestHTMLInvestmentMatchesFeed(t *testing.T) {
	for _, tc := range []struct {
		level, area string
		uncompared  bool
	}{
		{"sub_icb", "00S", true}, // the area's quintiles computed by the section; one practice not compared
		{"icb", "Q00", true},     // the area's quintiles from marts.inverse_care
	} {
		t.Run(tc.level, func(t *testing.T) {
			_, out, res := publishFixture(t, Options{Levels: []string{tc.level}, Areas: []string{tc.area}})
			if len(res.Packs) != 1 {
				t.Fatalf("%d packs", len(res.Packs))
			}
			dir := filepath.Join(out, smallFixture.period, tc.area)
			b, err := os.ReadFile(filepath.Join(dir, "pack.html"))
			if err != nil {
				t.Fatal(err)
			}
			page := string(b)
			checkInvestmentHTML(t, page, filepath.Join(dir, "feeds", "investment_need.csv"), areaRef{Level: tc.level, Code: tc.area})
			if got := strings.Contains(page, "not compared: "); got != tc.uncompared {
				t.Errorf("page mentions an uncompared practice: %v, want %v", got, tc.uncompared)
			}
		})
	}
}

func TestFixedFormat(t *testing.T) {
	for _, c := range []struct {
		v    float64
		dp   int
		want string
	}{{1234567.891, 2, "1,234,567.89"}, {-239917.69, 0, "-239,918"}, {-0.4, 0, "0"}, {0.125, 3, "0.125"}, {-12.5, 1, "-12.5"}, {999.996, 2, "1,000.00"}} {
		if got := fixed(c.v, c.dp); got != c.want {
			t.Errorf("fixed(%v, %d) = %q, want %q", c.v, c.dp, got, c.want)
		}
	}
}
