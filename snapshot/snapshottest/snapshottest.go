// Package snapshottest builds small warehouse files shaped like the
// warehouse contract, for tests of snapshot readers.
package snapshottest

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/gplens/gplens/duck"
)

// Warehouse writes a fixture warehouse at path. version is stored in
// _gplens.meta and offsets every value, so tests can tell which snapshot
// answered. trendRows sizes marts.trends (a table for large results).
//
// Two ICBs (QAA, QBB), three sub-ICBs (AAA1, AAA2 in QAA; BBB1 in QBB), six
// practices; one indicator of each domain, ref_rate_per_1000 not public.
func Warehouse(ctx context.Context, path string, version, trendRows int) error {
	db, err := duck.Open(ctx, path, duck.Options{})
	if err != nil {
		return fmt.Errorf("fixture warehouse: %w", err)
	}
	defer db.Close()
	return Build(ctx, db, version, trendRows)
}

// Build creates the fixture tables in db.
func Build(ctx context.Context, db *sql.DB, version, trendRows int) error {
	v := fmt.Sprint(version)
	stmts := []string{
		`CREATE SCHEMA core`, `CREATE SCHEMA marts`, `CREATE SCHEMA _gplens`,
		`CREATE TABLE _gplens.meta AS SELECT ` + v + ` AS version`,
		`CREATE TABLE core.indicators AS SELECT * FROM (VALUES
			('qof_ach_DM012','Diabetes foot check','qof','QOF','proportion','%',100.0,'higher_is_better','annual',true,'d'),
			('pay_total_per_weighted','Payments per weighted patient','investment','NHSPS','value','£ per patient',1.0,'no_judgement','annual',true,'d'),
			('ref_rate_per_1000','Referral rate','referrals','eRS','rate','per 1,000',1000.0,'no_judgement','monthly',false,'d')
		) t(indicator_id,name,domain,source,statistic,unit,multiplier,polarity,cadence,public,description)`,
		`CREATE TABLE core.practices AS SELECT * FROM (VALUES
			('2024-03','P001','Alpha Surgery','AA1 1AA','PCN1','Pcn One','AAA1','Sub A1','QAA','ICB A','R1','Region 1',DATE '2000-01-01',NULL::DATE,'active',5000::BIGINT,5100.0,20.0,3,2),
			('2024-03','P002','Beta Surgery','AA1 1AB','PCN1','Pcn One','AAA1','Sub A1','QAA','ICB A','R1','Region 1',DATE '2000-01-01',NULL::DATE,'active',7000::BIGINT,6900.0,30.0,2,1),
			('2024-03','P003','Gamma Surgery','AA2 1AA','PCN2','Pcn Two','AAA2','Sub A2','QAA','ICB A','R1','Region 1',DATE '2001-01-01',NULL::DATE,'active',9000::BIGINT,9500.0,10.0,6,3),
			('2024-03','P004','Delta Surgery','BB1 1AA','PCN3','Pcn Three','BBB1','Sub B1','QBB','ICB B','R1','Region 1',DATE '2002-01-01',NULL::DATE,'active',4000::BIGINT,4200.0,40.0,1,1),
			('2024-03','P005','Eps Surgery','BB1 1AB','PCN3','Pcn Three','BBB1','Sub B1','QBB','ICB B','R1','Region 1',DATE '2003-01-01',NULL::DATE,'active',6000::BIGINT,6100.0,15.0,5,3),
			('2024-03','P006','Zeta Surgery','BB1 1AC','PCN3','Pcn Three','BBB1','Sub B1','QBB','ICB B','R1','Region 1',DATE '2004-01-01',DATE '2024-02-01','closed',0::BIGINT,0.0,15.0,5,3)
		) t(period,practice_code,practice_name,postcode,pcn_code,pcn_name,sub_icb_code,sub_icb_name,icb_code,icb_name,region_code,region_name,open_date,close_date,status,list_size,weighted_list_size,imd_score,imd_decile,imd_quintile)`,
		`CREATE TABLE core.areas AS
			SELECT DISTINCT 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name, 'pcn' AS parent_level, pcn_code AS parent_code, period FROM core.practices
			UNION ALL SELECT DISTINCT 'pcn', pcn_code, pcn_name, 'sub_icb', sub_icb_code, period FROM core.practices
			UNION ALL SELECT DISTINCT 'sub_icb', sub_icb_code, sub_icb_name, 'icb', icb_code, period FROM core.practices
			UNION ALL SELECT DISTINCT 'icb', icb_code, icb_name, 'region', region_code, period FROM core.practices
			UNION ALL SELECT DISTINCT 'region', region_code, region_name, 'england', 'E92000001', period FROM core.practices
			UNION ALL SELECT 'england', 'E92000001', 'England', NULL, NULL, '2024-03'`,
		// Practice rows, then sub-ICB, ICB and England aggregates.
		`CREATE TABLE marts.indicator_values AS
		WITH p AS (SELECT * FROM core.practices WHERE status = 'active'),
		base AS (
			SELECT i.indicator_id, CASE WHEN i.cadence = 'annual' THEN '2023-24' ELSE '2024-03' END AS period,
				p.*, (hash(p.practice_code || i.indicator_id) % 100)::DOUBLE + ` + v + ` AS numerator, 100.0 + ` + v + ` AS denominator
			FROM p, core.indicators i)
		SELECT indicator_id, period, 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name,
			practice_code, pcn_code, sub_icb_code, icb_code, region_code, numerator, denominator,
			100 * numerator / denominator AS value, imd_decile, false AS suppressed, NULL::VARCHAR AS dq_flag FROM base
		UNION ALL SELECT indicator_id, period, 'sub_icb', sub_icb_code, any_value(sub_icb_name), NULL, NULL, sub_icb_code, any_value(icb_code), any_value(region_code),
			sum(numerator), sum(denominator), 100 * sum(numerator) / sum(denominator), NULL, false, NULL FROM base GROUP BY ALL
		UNION ALL SELECT indicator_id, period, 'icb', icb_code, any_value(icb_name), NULL, NULL, NULL, icb_code, any_value(region_code),
			sum(numerator), sum(denominator), 100 * sum(numerator) / sum(denominator), NULL, false, NULL FROM base GROUP BY ALL
		UNION ALL SELECT indicator_id, period, 'england', 'E92000001', 'England', NULL, NULL, NULL, NULL, NULL,
			sum(numerator), sum(denominator), 100 * sum(numerator) / sum(denominator), NULL, false, NULL FROM base GROUP BY ALL`,
		`CREATE TABLE marts.area_summary AS
		SELECT area_level, area_code, any_value(area_name) AS area_name, '2024-03' AS period, count(*)::INTEGER AS practices,
			(1000 * ` + v + ` + count(*))::BIGINT AS list_size, 1.5 * ` + v + ` AS total_payments,
			(10 * ` + v + `)::BIGINT AS referrals, 2.5 * ` + v + ` AS referral_rate_per_1000, 0.5 AS twoww_rate_per_1000
		FROM marts.indicator_values GROUP BY area_level, area_code`,
		fmt.Sprintf(`CREATE TABLE marts.trends AS
		SELECT 'qof_ach_DM012' AS indicator_id, 'practice' AS area_level,
			['P001','P002','P003','P004','P005'][(r %% 5) + 1] AS area_code, 'x' AS area_name,
			['P001','P002','P003','P004','P005'][(r %% 5) + 1] AS practice_code,
			strftime(DATE '2000-01-01' + INTERVAL ((r // 5) %% 300) MONTH, '%%Y-%%m') AS period,
			(DATE '2000-01-01' + INTERVAL ((r // 5) %% 300) MONTH)::DATE AS month,
			(r %% 97)::DOUBLE + %d AS value, 50.0 AS mean, 'common_cause' AS point_type
		FROM range(%d) t(r)`, version, trendRows),
		`CREATE VIEW marts.icb_values AS SELECT * FROM marts.indicator_values WHERE area_level = 'icb'`,
		`COMMENT ON COLUMN marts.indicator_values.value IS 'The indicator value, in the indicator''s unit'`,
		// The analyst views readers query (core and _gplens are not served).
		`CREATE SCHEMA analyst`,
		`CREATE VIEW analyst.practices AS SELECT * FROM core.practices`,
		`CREATE VIEW analyst.indicators AS SELECT * FROM core.indicators`,
		`CREATE VIEW analyst.variation AS SELECT v.*, i.name AS indicator_name FROM marts.indicator_values v JOIN core.indicators i USING (indicator_id)`,
		`CREATE VIEW analyst.snapshot_meta AS SELECT version FROM _gplens.meta`,
	}
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("fixture warehouse: %w\n%s", err, s)
		}
	}
	return nil
}
