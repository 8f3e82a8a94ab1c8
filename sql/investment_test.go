package sqlmodels

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gplens/gplens/data"
	"github.com/gplens/gplens/duck"
)

// TestFairShareSumsToZero: within every area, the practices' fair-share gaps
// add up to 0 (the need-predicted shares exhaust the area's total), each gap's
// interval holds it, and the need index follows the documented formula.
func TestFairShareSumsToZero(t *testing.T) {
	s := syntheticWarehouse(t)
	// the compared practices' (the others have no fair share: TestInvestmentNeedPlausibility)
	rows, err := s.db.Query(`SELECT period, measure, within_level, within_code, sum(fair_share_gap), sum(actual), sum(expected), count(*)
		FROM marts.investment_need WHERE area_level = 'practice' AND in_comparisons
		GROUP BY ALL ORDER BY ALL`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	areas := map[string]int{}
	for rows.Next() {
		var period, measure, level, code string
		var gap, actual, expected float64
		var n int
		if err := rows.Scan(&period, &measure, &level, &code, &gap, &actual, &expected, &n); err != nil {
			t.Fatal(err)
		}
		areas[measure+" "+level]++
		if math.Abs(gap) > 1e-9*math.Max(1, math.Abs(actual)) || !near(expected, actual) {
			t.Errorf("%s %s %s %s: gaps sum to %v (total %v, expected %v, %d practices)", period, measure, level, code, gap, actual, expected, n)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, m := range []string{"payments", "gp_fte", "clinical_fte"} {
		for _, l := range []string{"pcn", "sub_icb", "icb", "region", "england"} {
			if areas[m+" "+l] == 0 {
				t.Errorf("no %s areas for %s", l, m)
			}
		}
	}
	// An area's gap within a larger area is the sum of its practices' gaps there.
	if n := queryInt(t, s.db, `SELECT count(*) FROM (
			SELECT a.period, a.measure, a.area_code, a.within_code, a.fair_share_gap, sum(p.fair_share_gap) AS summed
			FROM marts.investment_need AS a
			JOIN core.practices AS c ON c.period = a.period AND c.sub_icb_code = a.area_code
			JOIN marts.investment_need AS p ON p.period = a.period AND p.measure = a.measure AND p.area_level = 'practice'
			 AND p.area_code = c.practice_code AND p.within_level = a.within_level AND p.within_code = a.within_code
			WHERE a.area_level = 'sub_icb' AND a.within_level = 'region'
			GROUP BY ALL HAVING abs(a.fair_share_gap - summed) > 1e-6 * greatest(1, abs(summed)))`); n != 0 {
		t.Errorf("%d sub-ICB gaps differ from the sum of their practices' gaps", n)
	}
	if n := queryInt(t, s.db, `SELECT count(*) FROM marts.investment_need
			WHERE NOT (fair_share_gap_lower <= fair_share_gap + 1e-6 AND fair_share_gap <= fair_share_gap_upper + 1e-6)`); n != 0 {
		t.Errorf("%d gaps outside their own interval", n)
	}
	// Within England every share moves with the gradient (within a small area whose practices
	// share one quintile it need not, so those may have an empty interval).
	if n := queryInt(t, s.db, `SELECT count(*) FROM marts.investment_need
			WHERE within_level = 'england' AND area_level <> 'england' AND fair_share_gap_upper - fair_share_gap_lower <= 0`); n != 0 {
		t.Errorf("%d rows within England with an empty gap interval: the gradient range should move every share", n)
	}
	// need_patients / weighted_patients is (1 + g (5 - q)/4) times one national factor: the
	// most deprived quintile's ratio over the least deprived's is 1 + g.
	g := queryFloat(t, s.db, `SELECT value FROM ref.investment_settings WHERE setting = 'need_gradient'`)
	r := queryFloat(t, s.db, `SELECT max(need_patients / weighted_patients) FILTER (WHERE imd_quintile = 1)
			/ max(need_patients / weighted_patients) FILTER (WHERE imd_quintile = 5)
		FROM marts.investment_need WHERE area_level = 'practice' AND within_level = 'england' AND measure = 'payments' AND weighted_patients > 0
		GROUP BY period ORDER BY period LIMIT 1`)
	if math.Abs(r-(1+g)) > 1e-9 {
		t.Errorf("need ratio most/least deprived quintile %v, want 1 + %v", r, g)
	}
	if n := queryInt(t, s.db, `SELECT count(DISTINCT round(need_patients / weighted_patients, 9)) FROM marts.investment_need
		WHERE area_level = 'practice' AND within_level = 'england' AND measure = 'payments' AND weighted_patients > 0 AND period = (SELECT max(period) FROM marts.investment_need)`); n != 5 {
		t.Errorf("%d distinct need/weighted ratios in a year, want 5 (one per quintile)", n)
	}
	// The synthetic world builds in an inverse care law for money: England's concentration
	// index and SII of payments per need-weighted patient are positive.
	ci := queryFloat(t, s.db, `SELECT concentration_index_lower FROM marts.inverse_care_index
		WHERE area_level = 'england' AND measure = 'payments' ORDER BY period DESC LIMIT 1`)
	sii := queryFloat(t, s.db, `SELECT sii_lower FROM marts.inverse_care_index
		WHERE area_level = 'england' AND measure = 'payments' ORDER BY period DESC LIMIT 1`)
	if !(ci > 0 && sii > 0) {
		t.Errorf("England payments per need-weighted patient: concentration index lower %v, SII lower %v; want both above 0", ci, sii)
	}
}

// TestSimilarPractices checks marts.peers' shape and that the similar
// practices are similar, and that indicator_values' peer mean and
// opportunity are the peers' pooled rate.
func TestSimilarPractices(t *testing.T) {
	s := syntheticWarehouse(t)
	k := queryInt(t, s.db, `SELECT CAST(value AS BIGINT) FROM ref.investment_settings WHERE setting = 'peer_k'`)
	if n := queryInt(t, s.db, `SELECT count(*) FROM (SELECT period, practice_code, count(*) AS n, max(rank) AS r,
			bool_or(peer_code = practice_code) AS self FROM marts.peers GROUP BY ALL) WHERE n <> ? OR r <> ? OR self`, k, k); n != 0 {
		t.Errorf("%d practice-periods without exactly %d ranked peers or with themselves as a peer", n, k)
	}
	if n := queryInt(t, s.db, `SELECT count(*) FROM (SELECT distance < lag(distance) OVER (PARTITION BY period, practice_code ORDER BY rank) AS worse
			FROM marts.peers) WHERE worse`); n != 0 {
		t.Errorf("%d peers nearer than the rank before them", n)
	}
	if n := queryInt(t, s.db, `SELECT count(*) FROM marts.peers AS pe JOIN core.practices AS c
			ON c.period = pe.period AND c.practice_code IN (pe.practice_code, pe.peer_code) WHERE c.status IN ('closed', 'proposed')`); n != 0 {
		t.Errorf("%d peer rows with a closed or not-yet-open practice", n)
	}
	if n := queryInt(t, s.db, `SELECT count(DISTINCT period) FROM marts.peers`); n < 2 {
		t.Errorf("peers for %d periods, want every period", n)
	}
	// Peers are much closer in deprivation and size than practices at random.
	near := queryFloat(t, s.db, `SELECT avg(abs(a.imd_score - b.imd_score)) FROM marts.peers AS pe
		JOIN core.practices AS a ON a.period = pe.period AND a.practice_code = pe.practice_code
		JOIN core.practices AS b ON b.period = pe.period AND b.practice_code = pe.peer_code`)
	random := queryFloat(t, s.db, `SELECT avg(abs(a.imd_score - b.imd_score)) FROM core.practices AS a
		JOIN core.practices AS b ON a.period = b.period AND a.practice_code < b.practice_code
		WHERE a.period = (SELECT max(period) FROM marts.peers) AND a.imd_score IS NOT NULL AND b.imd_score IS NOT NULL`)
	if !(near < random/2) {
		t.Errorf("mean IMD score difference to peers %v, to any practice %v: want peers under half", near, random)
	}
	// peer_mean and opportunity in indicator_values, recomputed from the peers' practice rows.
	bad := queryInt(t, s.db, `WITH pr AS (
			SELECT v.indicator_id, v.period, pe.practice_code, sum(q.numerator) / sum(q.denominator) AS rate
			FROM marts.peers AS pe
			JOIN marts.indicator_values AS v ON v.period = pe.period AND v.area_level = 'practice' AND v.area_code = pe.practice_code
			JOIN marts.indicator_values AS q ON q.indicator_id = v.indicator_id AND q.period = pe.period AND q.area_level = 'practice'
			 AND q.area_code = pe.peer_code AND q.denominator > 0
			WHERE v.indicator_id IN (SELECT min(indicator_id) FROM core.indicators WHERE polarity = 'higher_is_better' AND statistic = 'proportion')
			GROUP BY ALL)
		SELECT count(*) FROM pr
		JOIN marts.indicator_values AS v ON v.indicator_id = pr.indicator_id AND v.period = pr.period AND v.area_level = 'practice' AND v.area_code = pr.practice_code
		JOIN core.indicators AS i ON i.indicator_id = v.indicator_id
		WHERE abs(v.peer_mean - pr.rate * i.multiplier) > 1e-9 * greatest(1, abs(v.peer_mean))
		   OR abs(v.opportunity - greatest(0, pr.rate * v.denominator - v.numerator)) > 1e-6 * greatest(1, v.opportunity)
		   OR v.opportunity_best_quartile < v.opportunity - 1e-9`)
	if bad != 0 {
		t.Errorf("%d practices whose peer mean or opportunity is not their peers' pooled rate (or whose best-quartile opportunity is below it)", bad)
	}
	if n := queryInt(t, s.db, `SELECT count(*) FROM marts.indicator_values WHERE area_level = 'practice' AND peer_mean IS NOT NULL`); n == 0 {
		t.Error("no practice has a peer mean")
	}
}

// TestRealFundingByDeprivation builds the warehouse from every real
// payments file (2014-15 to 2022-23), the Fingertips practice deprivation
// scores, the QOF 2022-23 geography and prevalence files and the ODS sub-ICB
// file (which dates the hierarchy for earlier years), and reproduces
// England's payments per registered, weighted and need-weighted patient by
// deprivation quintile for every year with a second, plain DuckDB SQL
// computation straight over the CSV files.
func TestRealFundingByDeprivation(t *testing.T) {
	if _, err := os.Stat(realDir); err != nil {
		t.Skipf("real NHS files not available: %v", err)
	}
	pay := map[string]string{
		"2014-15": "nhs_payments_gp/heec_harmonised/14-15.csv",
		"2015-16": "nhs_payments_gp/nhspaymentsgp-15-16-csv.csv",
		"2017-18": "nhs_payments_gp/nhspaymentsgp-17-18-csv.csv",
		"2018-19": "nhs_payments_gp/nhspaymentsgp-18-19-csv.csv",
		"2019-20": "nhs_payments_gp/nhspaymentsgp-19-20-prac-csv.csv",
		"2021-22": "nhs_payments_gp/nhspaymentsgp-21-22-prac-csv-v2.csv",
		"2022-23": "nhs_payments_gp/nhspaymentsgp-22-23-prac-csv.csv",
	}
	deprivation := filepath.Join(realDir, "deprivation/indicator-data.csv")
	geography := filepath.Join(realDir, "qof/2022-23/MAPPING_NHS_GEOGRAPHIES_2223.csv")
	prevalence := filepath.Join(realDir, "qof/2022-23/PREVALENCE_2223.csv")
	// the ODS sub-ICB file places each year's CCGs / sub-ICBs in an ICB and region
	subICBs := filepath.Join(realDir, "ods/2025-12/eccg.csv")
	files := []string{deprivation, geography, prevalence, subICBs}
	for _, p := range pay {
		files = append(files, filepath.Join(realDir, p))
	}
	for _, f := range files {
		if _, err := os.Stat(f); err != nil {
			t.Skipf("real file missing: %v", err)
		}
	}
	db, _ := buildFromFiles(context.Background(), t, t.TempDir(), files)
	t.Cleanup(func() { db.Close() })
	gradient := queryFloat(t, db, `SELECT value FROM ref.investment_settings WHERE setting = 'need_gradient'`)

	// The independent computation: DuckDB over the CSVs, nothing of gplens but the file paths.
	raw, err := duck.Open(context.Background(), "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { raw.Close() })
	num := `CREATE MACRO num(x) AS TRY_CAST(nullif(replace(replace(trim(x), ',', ''), '£', ''), '') AS DOUBLE)`
	if _, err := raw.Exec(num); err != nil {
		t.Fatal(err)
	}
	norm := func(h string) string {
		return strings.TrimRight(regexp.MustCompile(`[^a-z0-9]`).ReplaceAllString(strings.ToLower(h), ""), "1")
	}
	var parts []string
	for fy, p := range pay {
		path := filepath.Join(realDir, p)
		header, _ := readCSV(t, path)
		find := func(want ...string) int {
			for i, h := range header {
				for _, w := range want {
					if norm(h) == w {
						return i
					}
				}
			}
			t.Fatalf("%s: no column %v in %v", path, want, header)
			return -1
		}
		code := find("practicecode")
		total := find("totalnhspaymentstogeneralpractice", "totalnhspaymentstogeneralpractice")
		weighted := find("numberofweightedpatientslastknownfigure", "averagenumberofweightedpatients")
		registered := find("numberofregisteredpatientslastknownfigure", "averagenumberofregisteredpatients")
		names := make([]string, len(header))
		for i := range names {
			names[i] = fmt.Sprintf("'c%d'", i)
		}
		enc := "utf-8"
		if strings.Contains(p, "15-16") {
			enc = "latin-1" // the 2015-16 file is Windows-1252
		}
		parts = append(parts, fmt.Sprintf(`SELECT '%s' AS fy, upper(trim(c%d)) AS code, num(c%d) AS pay, num(c%d) AS weighted, num(c%d) AS registered
			FROM read_csv('%s', header = true, all_varchar = true, names = [%s], encoding = '%s') WHERE trim(coalesce(c%d, '')) <> ''`,
			fy, code, total, weighted, registered, path, strings.Join(names, ", "), enc, code))
	}
	setup := []string{
		`CREATE TABLE raw_pay AS SELECT fy, code, sum(pay) AS pay, max(weighted) AS weighted, max(registered) AS registered FROM (` +
			strings.Join(parts, "\nUNION ALL\n") + `) GROUP BY fy, code`,
		fmt.Sprintf(`CREATE TABLE dep AS SELECT upper(trim("Area Code")) AS code, max(num("Value")) AS score
			FROM read_csv('%s', header = true, all_varchar = true)
			WHERE "Indicator ID" = '93553' AND "Area Type" = 'GP' AND num("Value") IS NOT NULL GROUP BY 1`, deprivation),
		// the practices of each year: the payments file's, and in 2022-23 also the QOF files'
		fmt.Sprintf(`CREATE TABLE year_practices AS
			SELECT DISTINCT fy, code FROM raw_pay
			UNION SELECT '2022-23', upper(trim(PRACTICE_CODE)) FROM read_csv('%s', header = true, all_varchar = true)
			UNION SELECT '2022-23', upper(trim(PRACTICE_CODE)) FROM read_csv('%s', header = true, all_varchar = true)`, geography, prevalence),
		// practices closed in the year are not ranked (issue 10's rule; which ones
		// closed is the warehouse's ODS/payments reading, passed in as a list)
		`CREATE TABLE ranked AS SELECT fy, code, (ntile(10) OVER (PARTITION BY fy ORDER BY score DESC, code) + 1) // 2 AS quintile
			FROM year_practices JOIN dep USING (code) ANTI JOIN closed USING (fy, code)`,
		fmt.Sprintf(`CREATE TABLE need AS
			WITH p AS (SELECT r.fy, r.code, r.pay, coalesce(r.weighted, 0) AS weighted, coalesce(r.registered, 0) AS registered, k.quintile,
			               (5 - coalesce(k.quintile, 3)) / 4.0 AS d
			           FROM raw_pay AS r LEFT JOIN ranked AS k USING (fy, code)),
			s AS (SELECT fy, sum(weighted) / sum(weighted * (1 + %[1]v * d)) AS s FROM p WHERE weighted > 0 GROUP BY fy)
			SELECT p.*, p.weighted * (1 + %[1]v * p.d) * s.s AS need FROM p JOIN s USING (fy)`, gradient),
	}
	// which practices closed in (or opened during) a year is the warehouse's ODS/payments
	// reading, passed in as lists; everything else is computed here
	yearList := func(name, where string) string {
		var vals []string
		crows, err := db.Query(`SELECT period, practice_code FROM core.practices WHERE ` + where + ` AND period LIKE '____-__' AND length(period) = 7 AND substr(period, 5, 1) = '-' AND TRY_CAST(substr(period, 6, 2) AS INTEGER) IS NOT NULL ORDER BY ALL`)
		if err != nil {
			t.Fatal(err)
		}
		defer crows.Close()
		for crows.Next() {
			var fy, code string
			if err := crows.Scan(&fy, &code); err != nil {
				t.Fatal(err)
			}
			vals = append(vals, fmt.Sprintf("('%s', '%s')", fy, code))
		}
		if len(vals) == 0 {
			return `CREATE TABLE ` + name + ` (fy VARCHAR, code VARCHAR)`
		}
		return `CREATE TABLE ` + name + ` AS SELECT * FROM (VALUES ` + strings.Join(vals, ", ") + `) t(fy, code)`
	}
	setup = append([]string{yearList("closed", "is_closed"), yearList("part_year", "NOT in_comparisons")}, setup...)
	for _, q := range setup {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("independent computation: %v\n%s", err, q)
		}
	}
	type row struct {
		practices                    int64
		perReg, perWeighted, perNeed float64
	}
	read := func(db *sql.DB, q string) map[string]row {
		t.Helper()
		rows, err := db.Query(q)
		if err != nil {
			t.Fatalf("%v\n%s", err, q)
		}
		defer rows.Close()
		out := map[string]row{}
		for rows.Next() {
			var fy string
			var quintile int
			var r row
			if err := rows.Scan(&fy, &quintile, &r.practices, &r.perReg, &r.perWeighted, &r.perNeed); err != nil {
				t.Fatal(err)
			}
			out[fmt.Sprintf("%s q%d", fy, quintile)] = r
		}
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
		return out
	}
	got := read(db, `SELECT period, imd_group, practices, per_registered_patient, per_weighted_patient, per_need_patient
		FROM marts.inverse_care WHERE area_level = 'england' AND measure = 'payments' AND group_type = 'quintile' ORDER BY ALL`)
	// the groups hold compared practices only: open all year, and lists within
	// data/plausibility.csv's rules (1,000 registered patients, weighted/registered 0.5-2.0)
	want := read(raw, `SELECT fy, quintile, count(*), sum(pay) / sum(registered), sum(pay) / sum(weighted), sum(pay) / sum(need)
		FROM need ANTI JOIN part_year USING (fy, code)
		WHERE quintile IS NOT NULL AND pay IS NOT NULL AND registered >= 1000 AND weighted / registered BETWEEN 0.5 AND 2.0
		GROUP BY ALL ORDER BY ALL`)
	if len(want) != 5*len(pay) {
		t.Fatalf("independent computation has %d year-quintiles, want %d", len(want), 5*len(pay))
	}
	if len(got) != len(want) {
		t.Errorf("warehouse has %d year-quintiles, files %d", len(got), len(want))
	}
	t.Log("England payments per patient by deprivation quintile (1 = most deprived), from the real files:")
	t.Log("year    quintile practices  £/registered  £/weighted  £/need-weighted")
	for fy := 2014; fy <= 2022; fy++ {
		for q := 1; q <= 5; q++ {
			k := fmt.Sprintf("%d-%02d q%d", fy, (fy+1)%100, q)
			w, ok := want[k]
			if !ok {
				continue
			}
			g := got[k]
			if g.practices != w.practices || !near(g.perReg, w.perReg) || !near(g.perWeighted, w.perWeighted) || !near(g.perNeed, w.perNeed) {
				t.Errorf("%s: warehouse %+v, files %+v", k, g, w)
			}
			t.Logf("%s  %d  %8d  %12.2f  %10.2f  %15.2f", k[:7], q, g.practices, g.perReg, g.perWeighted, g.perNeed)
		}
	}
}

// TestInvestmentNeedPlausibility runs marts.investment_need and
// marts.inverse_care on a hand-worked sub-ICB: two ordinary practices, one
// with fewer than 1,000 registered patients, one whose weighted/registered
// ratio is 2.5 and one closed during the year. The last three count in the
// area's totals but are not compared (data/plausibility.csv, core.practices'
// in_comparisons): no fair share, the others' shares taken without them, and
// not in the deprivation groups.
func TestInvestmentNeedPlausibility(t *testing.T) {
	ctx := context.Background()
	db, err := duck.Open(ctx, "", duck.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	// practice, registered, weighted, IMD quintile, payments £, open all year
	type prac struct {
		code                  string
		registered, weighted  float64
		quintile              int
		payments              float64
		inComparisons         bool
		wantCompared, wantWhy string
	}
	ps := []prac{
		{"A1", 5000, 5000, 1, 800000, true, "true", ""},
		{"B2", 5000, 5000, 5, 800000, true, "true", ""},
		{"C3", 500, 500, 3, 300000, true, "false", "fewer than 1000 registered patients: per-patient payments unstable"},
		{"D4", 4000, 10000, 2, 900000, true, "false", "weighted/registered patients outside 0.5-2.0: list mismatch"},
		{"E5", 3000, 3000, 4, 400000, false, "false", "not open for the whole year"},
	}
	var payRows, pracRows []string
	for _, p := range ps {
		payRows = append(payRows, fmt.Sprintf("('2022-23', '%s', 'total_nhs_payments_to_general_practice', %v, %v, %v)", p.code, p.payments, p.registered, p.weighted))
		pracRows = append(pracRows, fmt.Sprintf("('2022-23', '%s', 'Practice %s', 'U1', 'S1', 'I1', 'R1', %d, %d, %t)", p.code, p.code, p.quintile, 2*p.quintile, p.inComparisons))
	}
	sums, err := fs.ReadFile(FS(), "functions/sums.sql")
	if err != nil {
		t.Fatal(err)
	}
	incremental, err := fs.ReadFile(FS(), "functions/incremental.sql") // in_build
	if err != nil {
		t.Fatal(err)
	}
	stmts := []string{string(sums), string(incremental),
		`CREATE SCHEMA staging`, `CREATE SCHEMA core`, `CREATE SCHEMA ref`, `CREATE SCHEMA marts`,
		`CREATE TABLE staging.payments (period VARCHAR, practice_code VARCHAR, component VARCHAR, amount DOUBLE, registered_patients DOUBLE, weighted_patients DOUBLE)`,
		`INSERT INTO staging.payments VALUES ` + strings.Join(payRows, ", "),
		`CREATE TABLE staging.workforce (practice_code VARCHAR, period VARCHAR, fy VARCHAR, role VARCHAR, value DOUBLE, is_group_total BOOLEAN, measure VARCHAR)`,
		`CREATE TABLE core.practices (period VARCHAR, practice_code VARCHAR, practice_name VARCHAR, pcn_code VARCHAR, sub_icb_code VARCHAR,
			icb_code VARCHAR, region_code VARCHAR, imd_quintile INTEGER, imd_decile INTEGER, in_comparisons BOOLEAN)`,
		`INSERT INTO core.practices VALUES ` + strings.Join(pracRows, ", "),
		`CREATE TABLE core.areas AS SELECT * FROM (VALUES ('sub_icb', 'S1', 'Sub-ICB one', '2022-23'), ('icb', 'I1', 'ICB one', '2022-23'))
			t(area_level, area_code, area_name, period)`,
	}
	for _, ref := range []string{"plausibility", "investment_settings"} {
		tb, err := data.ReadCSV("", ref+".csv")
		if err != nil {
			t.Fatal(err)
		}
		var cols, rows []string
		for _, h := range tb.Header {
			cols = append(cols, h+" VARCHAR")
		}
		for _, r := range tb.Rows {
			var vals []string
			for _, h := range tb.Header {
				vals = append(vals, "'"+strings.ReplaceAll(r[h], "'", "''")+"'")
			}
			rows = append(rows, "("+strings.Join(vals, ", ")+")")
		}
		stmts = append(stmts, fmt.Sprintf(`CREATE TABLE ref.%s (%s)`, ref, strings.Join(cols, ", ")),
			fmt.Sprintf(`INSERT INTO ref.%s VALUES %s`, ref, strings.Join(rows, ", ")))
	}
	for _, m := range []string{"investment_need", "inverse_care"} {
		b, err := fs.ReadFile(FS(), "marts/"+m+".sql")
		if err != nil {
			t.Fatal(err)
		}
		stmts = append(stmts, "CREATE TABLE marts."+m+" AS\n"+string(b))
	}
	for _, s := range stmts {
		if _, err := db.Exec(s); err != nil {
			t.Fatalf("%v\n%s", err, s)
		}
	}
	g := queryFloat(t, db, `SELECT CAST(value AS DOUBLE) FROM ref.investment_settings WHERE setting = 'need_gradient'`)
	// A1 (quintile 1) and B2 (quintile 5) share their £1.6m by need, 1 + g to 1 (the need
	// rescaling cancels within an area).
	wantA := 800000 - 1600000*(1+g)/(2+g)
	for _, p := range ps {
		var compared, why string
		var gap, perNeed sql.NullFloat64
		err := db.QueryRow(`SELECT CAST(in_comparisons AS VARCHAR), coalesce(dq_flag, ''), fair_share_gap, per_need_patient
			FROM marts.investment_need WHERE measure = 'payments' AND area_level = 'practice' AND area_code = ? AND within_level = 'sub_icb'`,
			p.code).Scan(&compared, &why, &gap, &perNeed)
		if err != nil {
			t.Fatalf("%s: %v", p.code, err)
		}
		if compared != p.wantCompared || why != p.wantWhy {
			t.Errorf("%s: in_comparisons %s (%q), want %s (%q)", p.code, compared, why, p.wantCompared, p.wantWhy)
		}
		if !perNeed.Valid {
			t.Errorf("%s: no per need-weighted patient figure: an uncompared practice keeps its own", p.code)
		}
		switch {
		case p.wantCompared == "false" && gap.Valid:
			t.Errorf("%s: fair-share gap %v, want none (not compared)", p.code, gap.Float64)
		case p.code == "A1" && !(gap.Valid && math.Abs(gap.Float64-wantA) < 1e-6):
			t.Errorf("A1: gap %v, want %v", gap, wantA)
		case p.code == "B2" && !(gap.Valid && math.Abs(gap.Float64+wantA) < 1e-6):
			t.Errorf("B2: gap %v, want %v", gap, -wantA)
		}
	}
	// The sub-ICB counts every practice in its totals; its gap within the ICB is its compared
	// practices' (0: it is the ICB's only sub-ICB).
	var practices, compared int
	var actual, gap float64
	if err := db.QueryRow(`SELECT practices, practices_compared, actual, fair_share_gap FROM marts.investment_need
		WHERE measure = 'payments' AND area_level = 'sub_icb' AND within_level = 'icb'`).Scan(&practices, &compared, &actual, &gap); err != nil {
		t.Fatal(err)
	}
	if practices != 5 || compared != 2 || actual != 3200000 || math.Abs(gap) > 1e-6 {
		t.Errorf("sub-ICB: %d practices (%d compared), £%v, gap %v; want 5 (2), £3,200,000, 0", practices, compared, actual, gap)
	}
	// England's deprivation groups hold the compared practices only: A1 in quintile 1, B2 in 5.
	got := queryInt(t, db, `SELECT count(*) FROM marts.inverse_care WHERE area_level = 'england' AND measure = 'payments' AND group_type = 'quintile'`)
	n1 := queryInt(t, db, `SELECT sum(practices) FROM marts.inverse_care WHERE area_level = 'england' AND measure = 'payments' AND group_type = 'quintile'`)
	if got != 2 || n1 != 2 {
		t.Errorf("England quintile groups: %d groups of %d practices, want 2 of 2 (A1, B2)", got, n1)
	}
}
