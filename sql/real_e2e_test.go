package sqlmodels

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"unicode"

	"github.com/gplens/gplens/ingest"
	"github.com/gplens/gplens/publish"
)

// notGPSource are the real files that belong to no GP source: ingest
// refuses them by design (trusts, prescribing, Excel workbooks).
func notGPSource(path string) bool {
	base := filepath.Base(path)
	return strings.HasSuffix(base, ".xlsx") || base == "etr.csv" || base == "epd_201709.csv"
}

// norm reduces a published heading to lower-case letters and digits, so
// 'TotalNHSPaymentsToGeneralPractice_£' and 'Total NHS Payments to General
// Practice' compare equal.
func norm(h string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(h) {
		if r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func col(t *testing.T, header []string, names ...string) int {
	t.Helper()
	for _, n := range names {
		for i, h := range header {
			if norm(h) == n {
				return i
			}
		}
	}
	t.Fatalf("none of %v in %q", names, header)
	return -1
}

// publisher holds the totals the real files state themselves, by year and area.
type publisher struct {
	payments      map[string]float64           // financial year -> £
	paymentsByReg map[string]float64           // region code -> £ (2022-23)
	paymentsByICB map[string]float64           // ICB code -> £ (2022-23, sub-ICB mapped by the QOF geography)
	points        map[string]float64           // financial year -> QOF points
	pointsByICB   map[string]float64           // ICB code -> QOF points (2022-23)
	pointsByReg   map[string]float64           // region code -> QOF points (2022-23)
	listByReg     map[string]float64           // region code -> QOF list size (2022-23)
	registers     map[string]float64           // QOF register group -> patients (2022-23)
	lists         map[string]float64           // QOF register group -> the list it counts against (2022-23)
	listByICB     map[string]float64           // ICB code -> QOF list size (2022-23, as list)
	list          float64                      // QOF practice list size (2022-23, the hypertension register's list)
	registered    float64                      // registered patients, January 2021
	names         map[string]map[string]string // level -> code -> name in the latest QOF mapping (2023-24)
	subICBToICB   map[string]string            // 2022-23 QOF geography
}

func readPublisher(t *testing.T) *publisher {
	t.Helper()
	p := &publisher{payments: map[string]float64{}, paymentsByReg: map[string]float64{}, paymentsByICB: map[string]float64{},
		points: map[string]float64{}, pointsByICB: map[string]float64{}, registers: map[string]float64{}, lists: map[string]float64{},
		pointsByReg: map[string]float64{}, listByReg: map[string]float64{},
		listByICB: map[string]float64{}, names: map[string]map[string]string{}, subICBToICB: map[string]string{}}
	path := func(rel string) string { return filepath.Join(realDir, filepath.FromSlash(rel)) }

	h, rows := readCSV(t, path("qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv"))
	sub, icb, prac, region := col(t, h, "subicbodscode"), col(t, h, "icbodscode"), col(t, h, "practicecode"), col(t, h, "regionodscode")
	practiceICB, practiceRegion := map[string]string{}, map[string]string{}
	for _, r := range rows {
		p.subICBToICB[r[sub]] = r[icb]
		practiceICB[r[prac]] = r[icb]
		practiceRegion[r[prac]] = r[region]
	}

	h, rows = readCSV(t, path("qof/2023-24/QOF_MANUAL_MAPPINGS.csv"))
	for level, cols := range map[string][2]string{
		"practice": {"practicecode", "practicename"}, "sub_icb": {"ccgodscode", "ccgname"},
		"icb": {"stpodscode", "stpname"}, "region": {"regionodscode", "regionname"}} {
		c, n := col(t, h, cols[0]), col(t, h, cols[1])
		p.names[level] = map[string]string{}
		for _, r := range rows {
			p.names[level][strings.TrimSpace(r[c])] = strings.TrimSpace(r[n])
		}
	}

	for fy, rel := range map[string]string{
		"2014-15": "nhs_payments_gp/heec_harmonised/14-15.csv", "2015-16": "nhs_payments_gp/nhspaymentsgp-15-16-csv.csv",
		"2017-18": "nhs_payments_gp/nhspaymentsgp-17-18-csv.csv", "2018-19": "nhs_payments_gp/nhspaymentsgp-18-19-csv.csv",
		"2019-20": "nhs_payments_gp/nhspaymentsgp-19-20-prac-csv.csv", "2021-22": "nhs_payments_gp/nhspaymentsgp-21-22-prac-csv-v2.csv",
		"2022-23": "nhs_payments_gp/nhspaymentsgp-22-23-prac-csv.csv"} {
		h, rows := readCSV(t, path(rel))
		total, code := col(t, h, "totalnhspaymentstogeneralpractice"), col(t, h, "practicecode")
		reg, sub := -1, -1
		if fy == "2022-23" {
			reg, sub = col(t, h, "nhsenglandregioncode"), col(t, h, "subicbcode")
		}
		for _, r := range rows {
			if strings.TrimSpace(r[code]) == "" {
				continue // a totals row
			}
			v, _ := number(r[total])
			p.payments[fy] += v
			if reg >= 0 {
				p.paymentsByReg[r[reg]] += v
				p.paymentsByICB[p.subICBToICB[r[sub]]] += v
			}
		}
	}

	for fy, rel := range map[string]string{"2017-18": "qof/2017-18/QOF 2017-18.csv", "2018-19": "qof/2018-19/QOF 2018-19.csv",
		"2021-22": "qof/2021-22/QOF 2021-22.csv", "2022-23": "qof/2022-23/QOF 2022-23.csv"} {
		h, rows := readCSV(t, path(rel))
		score := column(t, h, func(s string) bool { return strings.HasPrefix(norm(s), "achievementscore") })
		code := col(t, h, "practicecode")
		for _, r := range rows {
			if strings.TrimSpace(r[code]) == "" {
				continue
			}
			v, _ := number(r[score])
			p.points[fy] += v
			if fy == "2022-23" {
				p.pointsByICB[practiceICB[r[code]]] += v
				p.pointsByReg[practiceRegion[r[code]]] += v
			}
		}
	}

	h, rows = readCSV(t, path("qof/2022-23/PREVALENCE_2223.csv"))
	g, reg, list, pc := col(t, h, "groupcode"), col(t, h, "register"), col(t, h, "practicelistsize"), col(t, h, "practicecode")
	for _, r := range rows {
		v, _ := number(r[reg])
		p.registers[r[g]] += v
		l, _ := number(r[list])
		p.lists[r[g]] += l
		// the hypertension register counts against the whole list (list type TOTAL)
		if r[g] == "HYP" {
			p.list += l
			p.listByICB[practiceICB[r[pc]]] += l
			p.listByReg[practiceRegion[r[pc]]] += l
		}
	}

	h, rows = readCSV(t, path("gp_registrations/gp-reg-pat-prac-all.csv"))
	n, sex, age := col(t, h, "numberofpatients"), col(t, h, "sex"), col(t, h, "age")
	for _, r := range rows {
		if r[sex] == "ALL" && r[age] == "ALL" {
			v, _ := number(r[n])
			p.registered += v
		}
	}
	return p
}

// unit: equal to the unit and closer: within half a penny (patients and
// registers are whole numbers; rounding both sides would disagree on £x.50
// summed in a different order).
func unit(a, b float64) bool { return math.Abs(a-b) < 0.005 }

// TestRealEndToEnd ingests every real file in ../shared/data/real into one
// workspace, builds every model and publishes an ICB pack for the latest
// month with annual data; it checks that every pound and patient reaches
// every level, that the totals equal the publisher's own, one name per
// code, and that closed practices are left out of comparisons.
func TestRealEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("the all-real-files build takes a few minutes")
	}
	if _, err := os.Stat(realDir); err != nil {
		t.Skipf("real NHS files not available: %v", err)
	}
	ctx := context.Background()
	dir := t.TempDir()
	var files []string
	err := filepath.WalkDir(realDir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && d.Name() != "SOURCES.md" {
			files = append(files, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(files)
	for _, f := range files {
		_, err := ingest.File(ctx, f, ingest.Options{Lake: filepath.Join(dir, "lake"), Quarantine: filepath.Join(dir, "quarantine")})
		if err != nil && !notGPSource(f) {
			t.Errorf("ingest %s: %v", f, err)
		} else if err == nil && notGPSource(f) {
			t.Errorf("ingest %s: accepted a file that belongs to no GP source", f)
		}
	}
	db, _ := buildLake(ctx, t, dir)
	t.Cleanup(func() { db.Close() })
	pub := readPublisher(t)

	// Every practice row of every indicator and period reaches its PCN (when
	// it has one), sub-ICB, ICB and region, and each level adds up to England.
	t.Run("every level adds up to England", func(t *testing.T) {
		var bad, n int64
		err := db.QueryRow(`WITH p AS (
				SELECT v.indicator_id, v.period, v.numerator AS num, v.denominator AS den,
					c.pcn_code, c.sub_icb_code, c.icb_code, c.region_code
				FROM marts.indicator_values AS v
				JOIN core.practices AS c ON c.period = v.period AND c.practice_code = v.area_code
				WHERE v.area_level = 'practice'),
			sums AS (
				SELECT indicator_id, period, 'pcn' AS lvl, pcn_code AS code, sum(num) AS num, sum(den) AS den FROM p WHERE pcn_code IS NOT NULL GROUP BY ALL
				UNION ALL SELECT indicator_id, period, 'sub_icb', sub_icb_code, sum(num), sum(den) FROM p GROUP BY ALL
				UNION ALL SELECT indicator_id, period, 'icb', icb_code, sum(num), sum(den) FROM p GROUP BY ALL
				UNION ALL SELECT indicator_id, period, 'region', region_code, sum(num), sum(den) FROM p GROUP BY ALL
				UNION ALL SELECT indicator_id, period, 'england', 'E92000001', sum(num), sum(den) FROM p GROUP BY ALL),
			areas AS (SELECT indicator_id, period, area_level AS lvl, area_code AS code, numerator AS num, denominator AS den
				FROM marts.indicator_values WHERE area_level <> 'practice')
			SELECT count(*) FILTER (WHERE s.code IS NULL OR a.code IS NULL
					OR abs(s.num - a.num) >= 0.005 OR abs(s.den - a.den) >= 0.005),
				count(*)
			FROM sums AS s FULL JOIN areas AS a USING (indicator_id, period, lvl, code)`).Scan(&bad, &n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || bad > 0 {
			t.Errorf("%d of %d area rows differ from the sums of their practices (or have none)", bad, n)
		}
		// level totals against England (PCNs: plus the practices in no PCN)
		err = db.QueryRow(`WITH lv AS (
				SELECT indicator_id, period, area_level, sum(numerator) AS num, sum(denominator) AS den
				FROM marts.indicator_values WHERE area_level IN ('sub_icb', 'icb', 'region') GROUP BY ALL),
			e AS (SELECT indicator_id, period, numerator AS num, denominator AS den FROM marts.indicator_values WHERE area_level = 'england')
			SELECT count(*) FILTER (WHERE abs(lv.num - e.num) >= 0.005 OR abs(lv.den - e.den) >= 0.005), count(*)
			FROM lv JOIN e USING (indicator_id, period)`).Scan(&bad, &n)
		if err != nil {
			t.Fatal(err)
		}
		if n == 0 || bad > 0 {
			t.Errorf("%d of %d level totals differ from England", bad, n)
		}
		if missing := queryInt(t, db, `SELECT count(*) FROM core.practices WHERE sub_icb_code IS NULL OR icb_code IS NULL OR region_code IS NULL`); missing > 0 {
			t.Errorf("%d practice-periods without a sub-ICB, ICB or region", missing)
		}
	})

	t.Run("publisher totals", func(t *testing.T) {
		for fy, want := range pub.payments {
			if got, _ := englandFigure(t, db, "pay_total_per_registered", fy); !unit(got, want) {
				t.Errorf("payments %s: England £%.2f, file £%.2f", fy, got, want)
			}
		}
		for fy, want := range pub.points {
			if got, _ := englandFigure(t, db, "qof_points_pct", fy); !unit(got, want) {
				t.Errorf("QOF points %s: England %.2f, file %.2f", fy, got, want)
			}
		}
		for g, want := range pub.registers {
			if got, den := englandFigure(t, db, "qof_prev_"+g, "2022-23"); !unit(got, want) || !unit(den, pub.lists[g]) {
				t.Errorf("QOF register %s 2022-23: England %.0f of %.0f, file %.0f of %.0f", g, got, den, want, pub.lists[g])
			}
		}
		if got := queryFloat(t, db, `SELECT list_size FROM marts.area_summary WHERE area_level = 'england' AND period = '2021-01'`); !unit(got, pub.registered) {
			t.Errorf("registered patients January 2021: England %.0f, file %.0f", got, pub.registered)
		}
		byArea := func(level, indicator, period string, denominator bool) map[string]float64 {
			c := "numerator"
			if denominator {
				c = "denominator"
			}
			rows, err := db.Query(`SELECT area_code, `+c+` FROM marts.indicator_values WHERE area_level = ? AND indicator_id = ? AND period = ?`, level, indicator, period)
			if err != nil {
				t.Fatal(err)
			}
			defer rows.Close()
			m := map[string]float64{}
			for rows.Next() {
				var c string
				var v float64
				if err := rows.Scan(&c, &v); err != nil {
					t.Fatal(err)
				}
				m[c] = v
			}
			return m
		}
		for _, tc := range []struct {
			what, level, indicator string
			want                   map[string]float64
		}{
			{"payments by region", "region", "pay_total_per_registered", pub.paymentsByReg},
			{"payments by ICB", "icb", "pay_total_per_registered", pub.paymentsByICB},
			{"QOF points by ICB", "icb", "qof_points_pct", pub.pointsByICB},
			{"QOF list size by ICB", "icb", "qof_prev_HYP", pub.listByICB},
			{"QOF points by region", "region", "qof_points_pct", pub.pointsByReg},
			{"QOF list size by region", "region", "qof_prev_HYP", pub.listByReg},
		} {
			got := byArea(tc.level, tc.indicator, "2022-23", tc.indicator == "qof_prev_HYP")
			if len(got) != len(tc.want) {
				t.Errorf("%s 2022-23: %d areas, the files %d", tc.what, len(got), len(tc.want))
			}
			for code, want := range tc.want {
				if !unit(got[code], want) {
					t.Errorf("%s 2022-23 %s: ours %.2f, the files' %.2f", tc.what, code, got[code], want)
				}
			}
		}
		printReconciliation(t, db, pub)
	})

	t.Run("one current name per code, as published", func(t *testing.T) {
		if n := queryInt(t, db, `SELECT count(*) FROM (SELECT area_level, area_code FROM core.areas GROUP BY ALL HAVING count(DISTINCT area_name) > 1)`); n > 0 {
			t.Errorf("%d area codes with more than one name", n)
		}
		for level, names := range pub.names {
			rows, err := db.Query(`SELECT area_code, area_name FROM core.current_names WHERE area_level = ?`, level)
			if err != nil {
				t.Fatal(err)
			}
			got := map[string]string{}
			for rows.Next() {
				var c, n string
				if err := rows.Scan(&c, &n); err != nil {
					t.Fatal(err)
				}
				got[c] = n
			}
			rows.Close()
			bad := 0
			for code, want := range names {
				if got[code] != want {
					if bad < 3 {
						t.Errorf("%s %s: current name %q, the latest QOF mapping spells it %q", level, code, got[code], want)
					}
					bad++
				}
			}
			if bad > 0 {
				t.Errorf("%s: %d of %d names differ from the latest mapping", level, bad, len(names))
			}
		}
	})

	t.Run("closed practices out of comparisons", func(t *testing.T) {
		closed := queryInt(t, db, `SELECT count(*) FROM core.practices WHERE is_closed`)
		if closed == 0 {
			t.Fatal("no closed practice in the real files; the check would prove nothing")
		}
		compared := queryInt(t, db, `SELECT count(*) FROM marts.indicator_values v
			JOIN core.practices c ON c.period = v.period AND c.practice_code = v.area_code
			WHERE v.area_level = 'practice' AND c.is_closed
			  AND (v.comparison <> 'not compared' OR v.funnel_significance IS NOT NULL OR v.funnel_significance_od IS NOT NULL
			       OR v.peer_mean IS NOT NULL OR v.in_comparisons)`)
		if compared > 0 {
			t.Errorf("%d practice rows of closed practices are compared", compared)
		}
		decile := queryInt(t, db, `SELECT count(*) FROM core.practices WHERE is_closed AND imd_decile IS NOT NULL`)
		if decile > 0 {
			t.Errorf("%d closed practice-periods ranked into deprivation deciles", decile)
		}
		// and the deciles count only practices in comparisons
		var inDeciles, want int64
		if err := db.QueryRow(`SELECT sum(practices) FROM marts.inequality_deciles
			WHERE area_level = 'england' AND indicator_id = 'pay_total_per_weighted' AND period = '2022-23'`).Scan(&inDeciles); err != nil {
			t.Fatal(err)
		}
		want = queryInt(t, db, `SELECT count(*) FROM marts.indicator_values WHERE area_level = 'practice' AND in_comparisons
			AND imd_decile IS NOT NULL AND denominator > 0 AND indicator_id = 'pay_total_per_weighted' AND period = '2022-23'`)
		if inDeciles != want {
			t.Errorf("England deciles of payments per weighted patient 2022-23 count %d practices, want %d in comparisons", inDeciles, want)
		}
	})

	t.Run("plausible value statistics", func(t *testing.T) {
		// the practice with about one weighted patient must not reach the comparisons
		small := queryInt(t, db, `SELECT count(*) FROM marts.indicator_values WHERE area_level = 'practice'
			AND indicator_id LIKE 'pay\_%' ESCAPE '\' AND in_comparisons AND denominator < 1000 AND indicator_id LIKE '%registered'`)
		if small > 0 {
			t.Errorf("%d practice payments rows with under 1,000 registered patients are compared", small)
		}
		var sii, lo, hi float64
		if err := db.QueryRow(`SELECT sii, sii_lower, sii_upper FROM marts.inequality WHERE area_level = 'england'
			AND indicator_id = 'pay_total_per_weighted' AND period = '2022-23'`).Scan(&sii, &lo, &hi); err != nil {
			t.Fatal(err)
		}
		// on real data the decile values run £150-£180: an SII interval wider than
		// £100 means implausible practices or raw means got in
		if !(lo <= sii && sii <= hi) || hi-lo > 100 || math.Abs(sii) > 100 {
			t.Errorf("payments per weighted patient 2022-23 SII %.2f (%.2f to %.2f): implausible on real data", sii, lo, hi)
		}
	})

	t.Run("latest figures in the analyst views", func(t *testing.T) {
		var qfy, pfy sql.NullString
		if err := db.QueryRow(`SELECT max(qof_fy), max(payments_fy) FROM analyst.practices`).Scan(&qfy, &pfy); err != nil {
			t.Fatal(err)
		}
		if qfy.String != "2022-23" || pfy.String != "2022-23" {
			t.Errorf("analyst.practices shows QOF %q and payments %q, want 2022-23", qfy.String, pfy.String)
		}
		if n := queryInt(t, db, `SELECT count(*) FROM analyst.areas WHERE area_level IN ('icb', 'region', 'england')
			AND (total_payments IS NULL OR qof_achievement_pct IS NULL OR payments_fy <> '2022-23' OR qof_fy <> '2022-23')`); n > 0 {
			t.Errorf("%d ICB, region or England rows of analyst.areas without 2022-23 headline figures", n)
		}
	})

	t.Run("publish the latest month with annual data", func(t *testing.T) {
		var month, icb string
		if err := db.QueryRow(`SELECT max(period) FROM marts.area_summary WHERE area_level = 'england'
			AND qof_fy IS NOT NULL AND payments_fy IS NOT NULL`).Scan(&month); err != nil {
			t.Fatal(err)
		}
		if err := db.QueryRow(`SELECT min(area_code) FROM core.areas WHERE area_level = 'icb'`).Scan(&icb); err != nil {
			t.Fatal(err)
		}
		res, err := publish.Publish(ctx, db, publish.Options{Period: month, Areas: []string{icb}, Levels: []string{"icb"},
			OutDir: filepath.Join(dir, "packs"), Version: "test"})
		if err != nil {
			t.Fatalf("publish %s %s: %v", month, icb, err)
		}
		if len(res.Packs) != 1 || res.Files == 0 {
			t.Errorf("publish %s %s: %d packs, %d files", month, icb, len(res.Packs), res.Files)
		}
	})
}

// printReconciliation logs the England, region and ICB table of ours against
// the publisher's totals (shown with go test -run TestRealEndToEnd -v).
func printReconciliation(t *testing.T, db *sql.DB, pub *publisher) {
	rows, err := db.Query(`SELECT s.area_level, s.area_code, s.area_name, s.total_payments, h.denominator, q.numerator
		FROM marts.area_summary s
		LEFT JOIN marts.indicator_values q ON q.indicator_id = 'qof_points_pct' AND q.period = '2022-23'
			AND q.area_level = s.area_level AND q.area_code = s.area_code
		LEFT JOIN marts.indicator_values h ON h.indicator_id = 'qof_prev_HYP' AND h.period = '2022-23'
			AND h.area_level = s.area_level AND h.area_code = s.area_code
		WHERE s.period = '2023-03' AND s.area_level IN ('england', 'region', 'icb')
		ORDER BY CASE s.area_level WHEN 'england' THEN 0 WHEN 'region' THEN 1 ELSE 2 END, s.area_code`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var b strings.Builder
	fmt.Fprintf(&b, "\n%-8s %-6s %18s %18s %12s %12s %12s %12s\n", "level", "code", "payments ours", "payments file", "QOF list ours", "QOF list file", "points ours", "points file")
	for rows.Next() {
		var level, code, name string
		var pay, list, pts sql.NullFloat64
		if err := rows.Scan(&level, &code, &name, &pay, &list, &pts); err != nil {
			t.Fatal(err)
		}
		var fpay, flist, fpts float64
		switch level {
		case "england":
			fpay, flist, fpts = pub.payments["2022-23"], pub.list, pub.points["2022-23"]
		case "region":
			fpay, flist, fpts = pub.paymentsByReg[code], pub.listByReg[code], pub.pointsByReg[code]
		case "icb":
			fpay, flist, fpts = pub.paymentsByICB[code], pub.listByICB[code], pub.pointsByICB[code]
		}
		fmt.Fprintf(&b, "%-8s %-6s %18.2f %18.2f %12.0f %12.0f %12.2f %12.2f\n", level, code, pay.Float64, fpay, list.Float64, flist, pts.Float64, fpts)
	}
	t.Log(b.String())
}
