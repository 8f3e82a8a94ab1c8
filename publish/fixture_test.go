package publish

import (
	"context"
	"database/sql"
	"fmt"
	"io/fs"
	"path/filepath"
	"testing"

	"github.com/gplens/gplens/duck"
	sqlmodels "github.com/gplens/gplens/sql"
)

// fixture sizes a synthetic warehouse that follows the marts contract
// (.brief/marts.md): regions > ICBs > sub-ICBs > PCNs > practices, seven
// indicators over five domains (two non-public referral ones, one with small
// counts), two financial years, 24 months of trends, inequality rows.
type fixture struct {
	regions, icbsPerRegion, subsPerICB, practicesPerSub int
	period                                              string // pack month
	// minCount and noSecondary set the disclosure rule (ref.disclosure's
	// * row) the release schema is built with; 0 and false: 8, secondary.
	minCount    int
	noSecondary bool
}

func (f fixture) practices() int {
	return f.regions * f.icbsPerRegion * f.subsPerICB * f.practicesPerSub
}

var smallFixture = fixture{regions: 2, icbsPerRegion: 2, subsPerICB: 2, practicesPerSub: 5, period: "2024-06"}

// openFixture builds the fixture in a fresh DuckDB file under dir.
func openFixture(t testing.TB, dir string, f fixture) *sql.DB {
	return openFixtureThreads(t, dir, f, 1)
}

// openFixtureThreads builds the fixture with DuckDB using threads threads
// (parallel float sums add in an order that varies with them).
func openFixtureThreads(t testing.TB, dir string, f fixture, threads int) *sql.DB {
	t.Helper()
	ctx := context.Background()
	db, err := duck.Open(ctx, filepath.Join(dir, "warehouse.duckdb"), duck.Options{Threads: threads})
	if err != nil {
		t.Fatalf("open fixture: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	stmts := fixtureSQL(f)
	rel, err := releaseSQL(f)
	if err != nil {
		t.Fatalf("fixture release: %v", err)
	}
	stmts = append(stmts, rel...)
	for i, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			t.Fatalf("fixture statement %d: %v\n%s", i, err, s)
		}
	}
	return db
}

func fixtureSQL(f fixture) []string {
	perICB := f.subsPerICB * f.practicesPerSub
	perRegion := f.icbsPerRegion * perICB
	n := f.practices()
	return []string{
		`CREATE SCHEMA core`, `CREATE SCHEMA marts`,
		`CREATE TABLE core.indicators AS SELECT * FROM (VALUES
			('qof_ach_DM012', 'Diabetes: foot examination', 'qof', 'qof', 'proportion', '%', 100.0, 'higher_is_better', 'annual', true, 'Patients with diabetes with a foot check in the last 12 months'),
			('qof_ach_BP002', 'Blood pressure checked', 'qof', 'qof', 'proportion', '%', 100.0, 'higher_is_better', 'annual', true, 'Patients aged 45+ with a blood pressure reading in 5 years'),
			('qof_prev_DM', 'Diabetes prevalence', 'prevalence', 'qof', 'proportion', '%', 100.0, 'no_judgement', 'annual', true, 'Patients on the diabetes register'),
			('pay_total_per_weighted', 'Payments per weighted patient', 'investment', 'payments', 'value', '£ per patient', 1.0, 'no_judgement', 'annual', true, 'Total NHS payments per weighted patient'),
			('wf_gp_fte_per_10k', 'GP FTE per 10,000 patients', 'workforce', 'workforce', 'rate', 'FTE per 10,000', 10000.0, 'higher_is_better', 'monthly', true, 'Full-time equivalent GPs per 10,000 registered patients'),
			('ref_rate_per_1000', 'Referral rate', 'referrals', 'referrals', 'rate', 'per 1,000', 1000.0, 'no_judgement', 'monthly', false, 'Outpatient referrals per 1,000 patients'),
			('ref_2ww_rate_per_1000', 'Two-week-wait referral rate', 'referrals', 'referrals', 'rate', 'per 1,000', 1000.0, 'no_judgement', 'monthly', false, 'Urgent suspected cancer referrals per 1,000 patients')
		) t(indicator_id, name, domain, source, statistic, unit, multiplier, polarity, cadence, public, description)`,
		fmt.Sprintf(`CREATE TABLE core.practices AS
		WITH p AS (SELECT i, i // %d AS reg, i // %d AS icb, i // %d AS sub, i // 5 AS pcn FROM range(%d) r(i))
		SELECT '%s' AS period, printf('P%%05d', i) AS practice_code, 'Practice ' || i || ' O''Brien & Co' AS practice_name,
			'AB' || (i %% 90 + 1) || ' 1XY' AS postcode, printf('U%%05d', pcn) AS pcn_code, 'PCN ' || pcn AS pcn_name,
			printf('%%02dS', sub) AS sub_icb_code, 'Sub-ICB ' || sub AS sub_icb_name, printf('Q%%02d', icb) AS icb_code, 'ICB ' || icb AS icb_name,
			printf('Y%%02d', 56 + reg) AS region_code, 'Region ' || reg AS region_name, DATE '1990-01-01' AS open_date, NULL::DATE AS close_date,
			'active' AS status, (3000 + (i * 7919) %% 12000)::BIGINT AS list_size, (3000 + (i * 7919) %% 12000) * (0.9 + ((i * 31) %% 20) / 100.0) AS weighted_list_size,
			5 + ((i * 104729) %% 500) / 10.0 AS imd_score, (1 + (i * 37) %% 10)::INTEGER AS imd_decile, (1 + ((i * 37) %% 10) // 2)::INTEGER AS imd_quintile
		FROM p`, perRegion, perICB, f.practicesPerSub, n, f.period),
		`CREATE TABLE core.areas AS SELECT DISTINCT 'sub_icb' AS area_level, sub_icb_code AS area_code, sub_icb_name AS area_name, 'icb' AS parent_level, icb_code AS parent_code, period FROM core.practices`,
		// one row per practice x indicator x period: counts with a little structure
		fmt.Sprintf(`CREATE TABLE fx_base AS
		WITH per AS (
			SELECT indicator_id, period FROM core.indicators, (VALUES ('2022-23'), ('2023-24')) v(period) WHERE cadence = 'annual'
			UNION ALL
			SELECT indicator_id, strftime(DATE '%s-01' - INTERVAL (m) MONTH, '%%Y-%%m') FROM core.indicators, range(24) r(m) WHERE cadence = 'monthly'),
		p AS (SELECT *, CAST(substr(practice_code, 2) AS INTEGER) AS i FROM core.practices)
		SELECT per.indicator_id, per.period, p.practice_code, p.list_size, p.weighted_list_size, p.i,
			CASE per.indicator_id
				WHEN 'qof_ach_DM012' THEN round(p.list_size * 0.07 * (0.70 + ((p.i * 13) %% 25) / 100.0))
				WHEN 'qof_ach_BP002' THEN round(p.list_size * 0.40 * (0.80 + ((p.i * 17) %% 15) / 100.0))
				WHEN 'qof_prev_DM' THEN round(p.list_size * (0.05 + ((p.i * 7) %% 40) / 1000.0))
				WHEN 'pay_total_per_weighted' THEN round(p.weighted_list_size * (140 + (p.i * 11) %% 60), 2)
				WHEN 'wf_gp_fte_per_10k' THEN round(p.list_size / 1800.0 * (0.7 + ((p.i * 3 + CAST(right(per.period, 2) AS INTEGER) * (1 + p.i %% 3)) %% 50) / 100.0), 2)
				WHEN 'ref_rate_per_1000' THEN round(p.list_size * 0.02 * (0.6 + ((p.i * 19 + CAST(right(per.period, 2) AS INTEGER)) %% 60) / 100.0))
				WHEN 'ref_2ww_rate_per_1000' THEN ((p.i * 5 + CAST(right(per.period, 2) AS INTEGER)) %% 14)::DOUBLE
			END AS num,
			CASE per.indicator_id
				WHEN 'qof_ach_DM012' THEN round(p.list_size * 0.07)
				WHEN 'qof_ach_BP002' THEN round(p.list_size * 0.40)
				WHEN 'pay_total_per_weighted' THEN p.weighted_list_size
				ELSE p.list_size::DOUBLE
			END AS den
		FROM per, p`, f.period),
		`CREATE TABLE fx_levels AS
		SELECT b.indicator_id, b.period, 'practice' AS area_level, b.practice_code AS area_code, pr.practice_name AS area_name, b.practice_code,
			pr.pcn_code, pr.sub_icb_code, pr.icb_code, pr.region_code, pr.imd_decile, sum(b.num) AS num, sum(b.den) AS den, count(*) AS npr
		FROM fx_base b JOIN core.practices pr USING (practice_code) GROUP BY ALL
		UNION ALL SELECT b.indicator_id, b.period, 'pcn', pr.pcn_code, any_value(pr.pcn_name), NULL, pr.pcn_code, any_value(pr.sub_icb_code), any_value(pr.icb_code), any_value(pr.region_code), NULL, sum(num), sum(den), count(*) FROM fx_base b JOIN core.practices pr USING (practice_code) GROUP BY b.indicator_id, b.period, pr.pcn_code
		UNION ALL SELECT b.indicator_id, b.period, 'sub_icb', pr.sub_icb_code, any_value(pr.sub_icb_name), NULL, NULL, pr.sub_icb_code, any_value(pr.icb_code), any_value(pr.region_code), NULL, sum(num), sum(den), count(*) FROM fx_base b JOIN core.practices pr USING (practice_code) GROUP BY b.indicator_id, b.period, pr.sub_icb_code
		UNION ALL SELECT b.indicator_id, b.period, 'icb', pr.icb_code, any_value(pr.icb_name), NULL, NULL, NULL, pr.icb_code, any_value(pr.region_code), NULL, sum(num), sum(den), count(*) FROM fx_base b JOIN core.practices pr USING (practice_code) GROUP BY b.indicator_id, b.period, pr.icb_code
		UNION ALL SELECT b.indicator_id, b.period, 'region', pr.region_code, any_value(pr.region_name), NULL, NULL, NULL, NULL, pr.region_code, NULL, sum(num), sum(den), count(*) FROM fx_base b JOIN core.practices pr USING (practice_code) GROUP BY b.indicator_id, b.period, pr.region_code
		UNION ALL SELECT b.indicator_id, b.period, 'england', 'E92000001', 'England', NULL, NULL, NULL, NULL, NULL, NULL, sum(num), sum(den), count(*) FROM fx_base b GROUP BY b.indicator_id, b.period`,
		`CREATE TABLE marts.indicator_values AS
		WITH v AS (
			SELECT l.*, i.multiplier AS m, i.polarity, i.statistic,
				CASE WHEN i.statistic = 'value' THEN l.num / l.den ELSE l.num / l.den * i.multiplier END AS value,
				CASE WHEN i.statistic = 'proportion' THEN sqrt(greatest(l.num / l.den * (1 - l.num / l.den), 1e-9) / l.den) * i.multiplier
				     WHEN i.statistic = 'rate' THEN sqrt(greatest(l.num, 1)) / l.den * i.multiplier ELSE NULL END AS se
			FROM fx_levels l JOIN core.indicators i USING (indicator_id)),
		e AS (SELECT indicator_id, period, value AS ev, se FROM v WHERE area_level = 'england')
		SELECT v.indicator_id, v.period, v.area_level, v.area_code, v.area_name, v.practice_code, v.pcn_code, v.sub_icb_code, v.icb_code, v.region_code,
			CASE WHEN v.statistic = 'value' THEN NULL ELSE v.num END AS numerator, v.den AS denominator, v.value,
			v.value - 1.96 * v.se AS lower95, v.value + 1.96 * v.se AS upper95, v.value - 3.09 * v.se AS lower998, v.value + 3.09 * v.se AS upper998,
			e.ev AS england_value, NULL::DOUBLE AS icb_value, NULL::DOUBLE AS sub_icb_value,
			CASE WHEN v.se IS NULL OR v.area_level = 'england' THEN 'not compared'
				WHEN abs(v.value - e.ev) <= 1.96 * v.se THEN 'similar'
				WHEN v.polarity = 'no_judgement' THEN (CASE WHEN abs(v.value - e.ev) > 3.09 * v.se THEN 'significantly ' ELSE '' END) || (CASE WHEN v.value > e.ev THEN 'higher' ELSE 'lower' END)
				ELSE (CASE WHEN abs(v.value - e.ev) > 3.09 * v.se THEN 'significantly ' ELSE '' END) || (CASE WHEN (v.value > e.ev) = (v.polarity = 'higher_is_better') THEN 'better' ELSE 'worse' END) END AS comparison,
			CASE WHEN v.se IS NULL THEN NULL
				WHEN v.value > e.ev + 3.09 * v.se THEN 'High (0.001)' WHEN v.value > e.ev + 1.96 * v.se THEN 'High (0.025)'
				WHEN v.value < e.ev - 3.09 * v.se THEN 'Low (0.001)' WHEN v.value < e.ev - 1.96 * v.se THEN 'Low (0.025)' ELSE 'Not significant' END AS funnel_significance,
			'Not significant' AS funnel_significance_od,
			e.ev - 1.96 * v.se AS funnel_lower95, e.ev + 1.96 * v.se AS funnel_upper95, e.ev - 3.09 * v.se AS funnel_lower998, e.ev + 3.09 * v.se AS funnel_upper998,
			v.imd_decile, v.npr AS practices, e.ev AS peer_mean, NULL::DOUBLE AS opportunity, false AS suppressed,
			CASE WHEN v.num > v.den THEN 'numerator exceeds denominator' END AS dq_flag
		FROM v JOIN e USING (indicator_id, period)`,
		`CREATE TABLE marts.inequality_deciles AS
		SELECT l.indicator_id, l.period, a.area_level, a.area_code, l.imd_decile, sum(l.num) AS numerator, sum(l.den) AS denominator,
			sum(l.num) / sum(l.den) * any_value(i.multiplier) AS value,
			sum(l.num) / sum(l.den) * any_value(i.multiplier) * 0.95 AS lower95, sum(l.num) / sum(l.den) * any_value(i.multiplier) * 1.05 AS upper95,
			count(*)::INTEGER AS practices
		FROM fx_levels l JOIN core.indicators i USING (indicator_id)
		CROSS JOIN LATERAL (VALUES ('england', 'E92000001'), ('region', l.region_code), ('icb', l.icb_code), ('sub_icb', l.sub_icb_code)) a(area_level, area_code)
		WHERE l.area_level = 'practice' AND i.statistic <> 'value'
		GROUP BY l.indicator_id, l.period, a.area_level, a.area_code, l.imd_decile`,
		`CREATE TABLE marts.inequality AS
		SELECT d.indicator_id, d.period, d.area_level, d.area_code, coalesce(any_value(v.area_name), d.area_code) AS area_name,
			max(CASE WHEN d.imd_decile = 10 THEN d.value END) - max(CASE WHEN d.imd_decile = 1 THEN d.value END) AS sii,
			NULL::DOUBLE AS sii_lower, NULL::DOUBLE AS sii_upper, 1.1 AS rii, 1.0 AS rii_lower, 1.2 AS rii_upper,
			avg(CASE WHEN d.imd_decile <= 2 THEN d.value END) AS q1_value, avg(CASE WHEN d.imd_decile >= 9 THEN d.value END) AS q5_value,
			avg(CASE WHEN d.imd_decile <= 2 THEN d.value END) - avg(CASE WHEN d.imd_decile >= 9 THEN d.value END) AS quintile_gap,
			avg(CASE WHEN d.imd_decile <= 2 THEN d.value END) / avg(CASE WHEN d.imd_decile >= 9 THEN d.value END) AS quintile_ratio
		FROM marts.inequality_deciles d LEFT JOIN marts.indicator_values v USING (indicator_id, period, area_level, area_code)
		GROUP BY d.indicator_id, d.period, d.area_level, d.area_code`,
		`CREATE TABLE marts.trends AS
		WITH d AS (
			SELECT v.indicator_id, v.area_level, v.area_code, v.area_name, v.practice_code, v.period, v.value, i.polarity,
				abs(v.value - lag(v.value) OVER (PARTITION BY v.indicator_id, v.area_level, v.area_code ORDER BY v.period)) AS mr
			FROM marts.indicator_values v JOIN core.indicators i USING (indicator_id)
			WHERE i.cadence = 'monthly'),
		s AS (
			SELECT *, CAST(period || '-01' AS DATE) AS month, avg(value) OVER w AS mean, avg(mr) OVER w AS amr,
				row_number() OVER (PARTITION BY indicator_id, area_level, area_code ORDER BY period DESC) AS rn
			FROM d WINDOW w AS (PARTITION BY indicator_id, area_level, area_code))
		SELECT indicator_id, area_level, area_code, area_name, practice_code, period, month, value, mean,
			mean - 2.66 * amr AS lpl, mean + 2.66 * amr AS upl, mean - 1.77 * amr AS near_lpl, mean + 1.77 * amr AS near_upl,
			CASE WHEN value > mean + 2.66 * amr THEN (CASE polarity WHEN 'higher_is_better' THEN 'special_cause_improvement' WHEN 'lower_is_better' THEN 'special_cause_concern' ELSE 'special_cause_neutral_high' END)
				WHEN value < mean - 2.66 * amr THEN (CASE polarity WHEN 'higher_is_better' THEN 'special_cause_concern' WHEN 'lower_is_better' THEN 'special_cause_improvement' ELSE 'special_cause_neutral_low' END)
				ELSE 'common_cause' END AS point_type,
			NULL::VARCHAR AS variation_icon, rn
		FROM s`,
		`UPDATE marts.trends SET variation_icon = CASE WHEN point_type = 'common_cause' THEN 'common_cause' ELSE point_type END WHERE rn = 1`,
		`ALTER TABLE marts.trends DROP COLUMN rn`,
		fmt.Sprintf(`CREATE TABLE marts.area_summary AS
		WITH a AS (
			SELECT 'england' AS area_level, 'E92000001' AS area_code, 'England' AS area_name, * EXCLUDE (area_level, area_code, area_name) FROM (SELECT NULL AS area_level, NULL AS area_code, NULL AS area_name, practice_code, list_size, weighted_list_size, imd_score FROM core.practices)
			UNION ALL SELECT 'region', region_code, region_name, practice_code, list_size, weighted_list_size, imd_score FROM core.practices
			UNION ALL SELECT 'icb', icb_code, icb_name, practice_code, list_size, weighted_list_size, imd_score FROM core.practices
			UNION ALL SELECT 'sub_icb', sub_icb_code, sub_icb_name, practice_code, list_size, weighted_list_size, imd_score FROM core.practices
			UNION ALL SELECT 'pcn', pcn_code, pcn_name, practice_code, list_size, weighted_list_size, imd_score FROM core.practices),
		iv AS (SELECT area_level, area_code,
			max(CASE WHEN indicator_id = 'qof_ach_DM012' AND period = '2023-24' THEN value END) AS qof,
			max(CASE WHEN indicator_id = 'pay_total_per_weighted' AND period = '2023-24' THEN value END) AS pay,
			max(CASE WHEN indicator_id = 'wf_gp_fte_per_10k' AND period = '%[1]s' THEN value END) AS gp,
			max(CASE WHEN indicator_id = 'ref_rate_per_1000' AND period = '%[1]s' THEN numerator END) AS refs,
			max(CASE WHEN indicator_id = 'ref_rate_per_1000' AND period = '%[1]s' THEN value END) AS ref_rate,
			max(CASE WHEN indicator_id = 'ref_2ww_rate_per_1000' AND period = '%[1]s' THEN value END) AS twoww
			FROM marts.indicator_values GROUP BY ALL)
		SELECT a.area_level, a.area_code, any_value(a.area_name) AS area_name, '%[1]s' AS period, count(*)::INTEGER AS practices,
			sum(list_size)::BIGINT AS list_size, sum(weighted_list_size) AS weighted_list_size,
			'2023-24' AS qof_fy, any_value(iv.qof) AS qof_achievement_pct, 500.0 + count(*) AS qof_points_per_practice,
			'2023-24' AS payments_fy, any_value(iv.pay) * sum(weighted_list_size) AS total_payments, any_value(iv.pay) AS payments_per_weighted_patient,
			any_value(iv.pay) * sum(weighted_list_size) / sum(list_size) AS payments_per_registered_patient,
			any_value(iv.gp) AS gp_fte_per_10k, 3.1 AS nurse_fte_per_10k, 2.2 AS dpc_fte_per_10k, 8.4 AS admin_fte_per_10k,
			any_value(iv.refs)::BIGINT AS referrals, any_value(iv.ref_rate) AS referral_rate_per_1000, any_value(iv.twoww) AS twoww_rate_per_1000,
			sum(imd_score * list_size) / sum(list_size) AS imd_score
		FROM a LEFT JOIN iv USING (area_level, area_code) GROUP BY a.area_level, a.area_code`, f.period),
		// investment against need: payments only, fair shares of practices within each containing area
		`CREATE TABLE marts.investment_need AS
		WITH n AS (SELECT *, weighted_list_size * (1 + 0.33 * (5 - imd_quintile) / 4) AS need_patients,
			-- one practice in ten is not compared (as if its lists broke data/plausibility.csv)
			CAST(substr(practice_code, 2) AS INTEGER) % 10 <> 3 AS in_comparisons,
			weighted_list_size * (140 + (CAST(substr(practice_code, 2) AS INTEGER) * 11) % 60) AS actual FROM core.practices),
		w AS (SELECT 'sub_icb' AS within_level, sub_icb_code AS within_code, * FROM n
			UNION ALL SELECT 'icb', icb_code, * FROM n UNION ALL SELECT 'region', region_code, * FROM n
			UNION ALL SELECT 'england', 'E92000001', * FROM n),
		e AS (SELECT *, CASE WHEN in_comparisons THEN sum(CASE WHEN in_comparisons THEN actual END) OVER a * need_patients
			/ sum(CASE WHEN in_comparisons THEN need_patients END) OVER a END AS expected FROM w WINDOW a AS (PARTITION BY within_level, within_code))
		SELECT '2023-24' AS period, 'payments' AS measure, '£' AS unit, 1.0 AS multiplier, 'practice' AS area_level, practice_code AS area_code,
			practice_name AS area_name, within_level, within_code, within_code || ' name' AS within_name, 1 AS practices,
			CASE WHEN in_comparisons THEN 1 ELSE 0 END AS practices_compared, imd_quintile, actual, list_size::DOUBLE AS registered_patients,
			weighted_list_size AS weighted_patients, need_patients, actual / list_size AS per_registered_patient,
			actual / weighted_list_size AS per_weighted_patient, actual / need_patients AS per_need_patient,
			(need_patients / list_size) / (sum(need_patients) OVER () / sum(list_size) OVER ()) * 4 AS need_index,
			expected, actual - expected AS fair_share_gap, actual - expected * 1.05 AS fair_share_gap_lower,
			actual - expected * 0.95 AS fair_share_gap_upper, 100 * (actual - expected) / expected AS fair_share_gap_pct,
			CAST(NULL AS VARCHAR) AS need_flag,
			in_comparisons, CASE WHEN NOT in_comparisons THEN 'fewer than 1000 registered patients: per-patient payments unstable' END AS dq_flag
		FROM e`,
		// similar practices: the three nearest practice numbers in the same ICB, in both years
		`CREATE TABLE marts.peers AS
		WITH p AS (SELECT practice_code, icb_code, CAST(substr(practice_code, 2) AS INTEGER) AS i FROM core.practices),
		r AS (SELECT a.practice_code, b.practice_code AS peer_code, abs(a.i - b.i)::DOUBLE AS distance,
			row_number() OVER (PARTITION BY a.practice_code ORDER BY abs(a.i - b.i), b.practice_code) AS rank
			FROM p AS a JOIN p AS b ON a.icb_code = b.icb_code AND a.practice_code <> b.practice_code)
		SELECT y.period, r.practice_code, r.peer_code, CAST(r.rank AS INTEGER) AS rank, r.distance
		FROM r, (VALUES ('2022-23'), ('2023-24')) y(period) WHERE r.rank <= 3`,
		`CREATE TABLE marts.inverse_care AS
		WITH p AS (SELECT * FROM marts.investment_need WHERE within_level = 'england' AND in_comparisons),
		g AS (SELECT 'england' AS area_level, 'E92000001' AS area_code, 'England' AS area_name, p.* EXCLUDE (area_level, area_code, area_name) FROM p
			UNION ALL SELECT 'region', c.region_code, c.region_name, p.* EXCLUDE (area_level, area_code, area_name) FROM p JOIN core.practices AS c ON c.practice_code = p.area_code
			UNION ALL SELECT 'icb', c.icb_code, c.icb_name, p.* EXCLUDE (area_level, area_code, area_name) FROM p JOIN core.practices AS c ON c.practice_code = p.area_code)
		SELECT period, measure, unit, 1.0 AS multiplier, g.area_level, g.area_code, g.area_name, 'quintile' AS group_type,
			imd_quintile::INTEGER AS imd_group, count(*)::INTEGER AS practices, sum(actual) AS actual, sum(need_patients) AS need_patients,
			sum(actual) / sum(need_patients) AS per_need_patient, sum(actual) / sum(need_patients) * 0.97 AS lower95,
			sum(actual) / sum(need_patients) * 1.03 AS upper95
		FROM g GROUP BY period, measure, unit, g.area_level, g.area_code, g.area_name, imd_quintile`,
		`DROP TABLE fx_base`, `DROP TABLE fx_levels`,
	}
}

// releaseSQL builds the fixture's release schema the way the warehouse
// does in outline: disclosure.cells is the real model (sql/disclosure/
// cells.sql, the Go sdc_suppress over every count of a period) and the
// release views are the marts with its withheld cells NULL and flagged,
// and the SPC charts of non-public series recomputed from published months.
func releaseSQL(f fixture) ([]string, error) {
	cells, err := fs.ReadFile(sqlmodels.FS(), "disclosure/cells.sql")
	if err != nil {
		return nil, err
	}
	// the model filters its inputs with in_build(period) (incremental builds)
	inBuild, err := fs.ReadFile(sqlmodels.FS(), "functions/incremental.sql")
	if err != nil {
		return nil, err
	}
	// the warehouse's macros the section queries call (exact_sum)
	sums, err := fs.ReadFile(sqlmodels.FS(), "functions/sums.sql")
	if err != nil {
		return nil, err
	}
	minCount := f.minCount
	if minCount == 0 {
		minCount = 8
	}
	return []string{
		`CREATE SCHEMA ref`, `CREATE SCHEMA disclosure`, `CREATE SCHEMA release`, string(inBuild), string(sums),
		`ALTER TABLE core.indicators ADD COLUMN specialty_code VARCHAR`,
		`ALTER TABLE core.indicators ADD COLUMN priority VARCHAR`,
		fmt.Sprintf(`CREATE TABLE ref.disclosure AS SELECT '*' AS scope, %d.0 AS min_count, false AS suppress_zero, %t AS secondary, 1.0 AS round_to`,
			minCount, !f.noSecondary),
		// the warehouse's name-less table the disclosure models read
		`CREATE VIEW core.indicator_values AS SELECT * EXCLUDE (area_name) FROM marts.indicator_values`,
		"CREATE TABLE disclosure.cells AS\n" + string(cells),
		`CREATE VIEW release.indicator_values AS
		SELECT v.* REPLACE (
				CASE WHEN c.reason IS NULL THEN v.numerator END AS numerator,
				CASE WHEN c.reason IS NULL THEN v.value END AS value,
				CASE WHEN c.reason IS NULL THEN v.lower95 END AS lower95,
				CASE WHEN c.reason IS NULL THEN v.upper95 END AS upper95,
				CASE WHEN c.reason IS NULL THEN v.lower998 END AS lower998,
				CASE WHEN c.reason IS NULL THEN v.upper998 END AS upper998,
				CASE WHEN c.reason IS NULL THEN v.comparison ELSE 'not compared' END AS comparison,
				CASE WHEN c.reason IS NULL THEN v.funnel_significance END AS funnel_significance,
				CASE WHEN c.reason IS NULL THEN v.funnel_significance_od END AS funnel_significance_od,
				CASE WHEN c.reason IS NULL THEN v.funnel_lower95 END AS funnel_lower95,
				CASE WHEN c.reason IS NULL THEN v.funnel_upper95 END AS funnel_upper95,
				CASE WHEN c.reason IS NULL THEN v.funnel_lower998 END AS funnel_lower998,
				CASE WHEN c.reason IS NULL THEN v.funnel_upper998 END AS funnel_upper998,
				CASE WHEN c.reason IS NULL THEN v.opportunity END AS opportunity,
				v.suppressed OR c.reason IS NOT NULL AS suppressed),
			c.reason IS NOT NULL AS numerator_suppressed, c.reason IS NOT NULL AS value_suppressed, c.reason AS suppression_reason
		FROM marts.indicator_values AS v
		LEFT JOIN disclosure.cells AS c ON c.indicator_id = v.indicator_id AND c.period = v.period
			AND c.area_level = v.area_level AND c.area_code = v.area_code AND c.decile = 0`,
		`CREATE VIEW release.inequality_deciles AS
		SELECT d.* REPLACE (
				CASE WHEN c.reason IS NULL THEN d.numerator END AS numerator,
				CASE WHEN c.reason IS NULL THEN d.value END AS value,
				CASE WHEN c.reason IS NULL THEN d.lower95 END AS lower95,
				CASE WHEN c.reason IS NULL THEN d.upper95 END AS upper95),
			c.reason IS NOT NULL AS numerator_suppressed, c.reason IS NOT NULL AS value_suppressed, c.reason AS suppression_reason
		FROM marts.inequality_deciles AS d
		LEFT JOIN disclosure.cells AS c ON c.indicator_id = d.indicator_id AND c.period = d.period
			AND c.area_level = d.area_level AND c.area_code = d.area_code AND c.decile = d.imd_decile`,
		// SII and quintiles need every decile: withheld when any is
		`CREATE VIEW release.inequality AS
		WITH w AS (SELECT indicator_id, period, area_level, area_code, bool_or(numerator_suppressed) AS any_withheld
			FROM release.inequality_deciles GROUP BY ALL)
		SELECT q.* REPLACE (
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.sii END AS sii,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.sii_lower END AS sii_lower,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.sii_upper END AS sii_upper,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.rii END AS rii,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.rii_lower END AS rii_lower,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.rii_upper END AS rii_upper,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.q1_value END AS q1_value,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.q5_value END AS q5_value,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.quintile_gap END AS quintile_gap,
				CASE WHEN NOT coalesce(w.any_withheld, false) THEN q.quintile_ratio END AS quintile_ratio),
			coalesce(w.any_withheld, false) AS sii_suppressed, coalesce(w.any_withheld, false) AS quintiles_suppressed,
			CASE WHEN w.any_withheld THEN 'decile withheld' END AS suppression_reason
		FROM marts.inequality AS q LEFT JOIN w USING (indicator_id, period, area_level, area_code)`,
		// public series pass through; a non-public series' chart is over its
		// published months only, a withheld month NULL with its flag
		`CREATE VIEW release.trends AS
		WITH src AS (
			SELECT t.indicator_id, t.area_level, t.area_code, t.area_name, t.practice_code, t.period, t.month,
				CASE WHEN coalesce(v.value_suppressed, false) THEN NULL ELSE t.value END AS value,
				coalesce(v.value_suppressed, false) AS value_suppressed, v.suppression_reason, i.polarity, i.public
			FROM marts.trends AS t JOIN core.indicators AS i USING (indicator_id)
			LEFT JOIN release.indicator_values AS v USING (indicator_id, period, area_level, area_code)),
		d AS (
			SELECT *, abs(value - lag(value) OVER (PARTITION BY indicator_id, area_level, area_code, value IS NULL ORDER BY period)) AS mr
			FROM src),
		s AS (
			SELECT *, avg(value) OVER w AS pmean, avg(mr) OVER w AS amr,
				row_number() OVER (PARTITION BY indicator_id, area_level, area_code ORDER BY value IS NULL, period DESC) AS rn
			FROM d WINDOW w AS (PARTITION BY indicator_id, area_level, area_code)),
		r AS (
			SELECT indicator_id, area_level, area_code, area_name, practice_code, period, month, value, pmean AS mean,
				CASE WHEN value IS NOT NULL THEN pmean - 2.66 * amr END AS lpl, CASE WHEN value IS NOT NULL THEN pmean + 2.66 * amr END AS upl,
				CASE WHEN value IS NOT NULL THEN pmean - 1.77 * amr END AS near_lpl, CASE WHEN value IS NOT NULL THEN pmean + 1.77 * amr END AS near_upl,
				CASE WHEN value IS NULL THEN NULL
					WHEN value > pmean + 2.66 * amr THEN (CASE polarity WHEN 'higher_is_better' THEN 'special_cause_improvement' WHEN 'lower_is_better' THEN 'special_cause_concern' ELSE 'special_cause_neutral_high' END)
					WHEN value < pmean - 2.66 * amr THEN (CASE polarity WHEN 'higher_is_better' THEN 'special_cause_concern' WHEN 'lower_is_better' THEN 'special_cause_improvement' ELSE 'special_cause_neutral_low' END)
					ELSE 'common_cause' END AS point_type,
				rn, value_suppressed, suppression_reason
			FROM s WHERE NOT public)
		SELECT t.*, false AS value_suppressed, CAST(NULL AS VARCHAR) AS suppression_reason
		FROM marts.trends AS t SEMI JOIN core.indicators AS i ON i.indicator_id = t.indicator_id AND i.public
		UNION ALL
		SELECT indicator_id, area_level, area_code, area_name, practice_code, period, month, value, mean, lpl, upl, near_lpl, near_upl, point_type,
			CASE WHEN rn = 1 AND value IS NOT NULL THEN point_type END AS variation_icon, value_suppressed, suppression_reason
		FROM r`,
		`CREATE VIEW release.investment_need AS SELECT * FROM marts.investment_need`,
		`CREATE VIEW release.inverse_care AS SELECT * FROM marts.inverse_care`,
		`CREATE VIEW release.peers AS SELECT * FROM marts.peers`,
		`CREATE VIEW release.area_summary AS
		WITH ref AS (SELECT period, area_level, area_code, numerator, value, value_suppressed, suppression_reason
			FROM release.indicator_values WHERE indicator_id = 'ref_rate_per_1000'),
		ww AS (SELECT period, area_level, area_code, value, value_suppressed, suppression_reason
			FROM release.indicator_values WHERE indicator_id = 'ref_2ww_rate_per_1000')
		SELECT s.* REPLACE (CAST(ref.numerator AS BIGINT) AS referrals, ref.value AS referral_rate_per_1000, ww.value AS twoww_rate_per_1000),
			coalesce(ref.value_suppressed, false) AS referrals_suppressed,
			coalesce(ref.value_suppressed, false) AS referral_rate_per_1000_suppressed,
			coalesce(ww.value_suppressed, false) AS twoww_rate_per_1000_suppressed,
			coalesce(ref.suppression_reason, ww.suppression_reason) AS suppression_reason
		FROM marts.area_summary AS s
		LEFT JOIN ref ON ref.period = s.period AND ref.area_level = s.area_level AND ref.area_code = s.area_code
		LEFT JOIN ww ON ww.period = s.period AND ww.area_level = s.area_level AND ww.area_code = s.area_code`,
	}, nil
}
