-- A small warehouse with the tables of .brief/marts.md: 40 practices in
-- 8 PCNs, 4 sub-ICBs, 2 ICBs, 2 regions; annual (2023-24) and monthly
-- (2024-06) indicator values; 18 months of trends. Values are made up but
-- deterministic, and spread so that every analyst view and example has rows.
CREATE SCHEMA core;
CREATE SCHEMA marts;

CREATE TABLE core.indicators AS
SELECT * FROM (VALUES
  ('qof_ach_DM012', 'Diabetes: foot risk recorded', 'qof', 'QOF', 'proportion', '%', 100.0, 'higher_is_better', 'annual', true, 'Patients with diabetes with a foot risk classification'),
  ('qof_ach_BP002', 'Blood pressure recorded', 'qof', 'QOF', 'proportion', '%', 100.0, 'higher_is_better', 'annual', true, 'Patients aged 45+ with BP in the last 5 years'),
  ('qof_prev_DM', 'Diabetes prevalence', 'prevalence', 'QOF', 'proportion', '%', 100.0, 'no_judgement', 'annual', true, 'Diabetes register / list size (17+)'),
  ('pay_total_per_weighted', 'Total payments per weighted patient', 'investment', 'NHS Payments to General Practice', 'value', '£ per patient', 1.0, 'no_judgement', 'annual', true, 'Total NHS payments / weighted list'),
  ('pay_total_per_registered', 'Total payments per registered patient', 'investment', 'NHS Payments to General Practice', 'value', '£ per patient', 1.0, 'no_judgement', 'annual', true, 'Total NHS payments / registered list'),
  ('pay_global_sum_per_weighted', 'Global sum per weighted patient', 'investment', 'NHS Payments to General Practice', 'value', '£ per patient', 1.0, 'no_judgement', 'annual', true, 'Global sum / weighted list'),
  ('pay_global_sum_per_registered', 'Global sum per registered patient', 'investment', 'NHS Payments to General Practice', 'value', '£ per patient', 1.0, 'no_judgement', 'annual', true, 'Global sum / registered list'),
  ('wf_gp_fte_per_10k', 'GP FTE per 10,000 patients', 'workforce', 'GP Workforce', 'rate', 'FTE per 10,000', 10000.0, 'higher_is_better', 'monthly', true, 'GP full-time equivalents per 10,000 registered patients'),
  ('ref_rate_per_1000', 'Referrals per 1,000 patients', 'referrals', 'Referrals', 'rate', 'per 1,000', 1000.0, 'no_judgement', 'monthly', false, 'Outpatient referrals per 1,000 registered patients'),
  ('ref_2ww_rate_per_1000', 'Two-week-wait referrals per 1,000', 'referrals', 'Referrals', 'rate', 'per 1,000', 1000.0, 'no_judgement', 'monthly', false, 'Urgent suspected cancer referrals per 1,000 patients'),
  ('ref_isr_330', 'Dermatology referrals, standardised ratio', 'referrals', 'Referrals', 'ratio', 'ratio', 1.0, 'no_judgement', 'monthly', false, 'Observed / expected dermatology referrals (age-sex standardised)')
) t(indicator_id, name, domain, source, statistic, unit, multiplier, polarity, cadence, public, description);

CREATE TABLE core.practices AS
WITH p AS (
  SELECT i,
    'P' || lpad(i::VARCHAR, 5, '0') AS practice_code,
    'U' || lpad((10000 + i // 5)::VARCHAR, 5, '0') AS pcn_code,
    ['93C', '07K', '11X', '92G'][i // 10 + 1] AS sub_icb_code,
    CASE WHEN i < 20 THEN 'QMJ' ELSE 'QOX' END AS icb_code,
    CASE WHEN i < 20 THEN 'Y56' ELSE 'Y58' END AS region_code
  FROM range(40) r(i)
)
SELECT per.period, practice_code, 'Practice ' || i AS practice_name, 'AB' || i || ' 1CD' AS postcode,
  pcn_code, 'PCN ' || pcn_code AS pcn_name,
  sub_icb_code, 'Sub-ICB ' || sub_icb_code AS sub_icb_name,
  icb_code, 'ICB ' || icb_code AS icb_name,
  region_code, CASE region_code WHEN 'Y56' THEN 'London' ELSE 'South West' END AS region_name,
  DATE '2000-01-01' AS open_date,
  CASE WHEN i = 39 AND per.period = '2024-06' THEN DATE '2024-06-15' END AS close_date,
  CASE WHEN i = 39 AND per.period = '2024-06' THEN 'closed' ELSE 'active' END AS status,
  (4000 + (i * 977) % 9000)::BIGINT AS list_size,
  ((4000 + (i * 977) % 9000) * (0.9 + (i % 5) * 0.05))::DOUBLE AS weighted_list_size,
  50.0 - 4.5 * (i % 10) AS imd_score,
  (1 + i % 10)::INTEGER AS imd_decile,
  (1 + (i % 10) // 2)::INTEGER AS imd_quintile
FROM p, (VALUES ('2024-05'), ('2024-06')) per(period);

CREATE TABLE core.areas AS
SELECT DISTINCT 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name, 'pcn' AS parent_level, pcn_code AS parent_code, period FROM core.practices
UNION ALL SELECT DISTINCT 'pcn', pcn_code, pcn_name, 'sub_icb', sub_icb_code, period FROM core.practices
UNION ALL SELECT DISTINCT 'sub_icb', sub_icb_code, sub_icb_name, 'icb', icb_code, period FROM core.practices
UNION ALL SELECT DISTINCT 'icb', icb_code, icb_name, 'region', region_code, period FROM core.practices
UNION ALL SELECT DISTINCT 'region', region_code, region_name, 'england', 'E92000001', period FROM core.practices
UNION ALL SELECT DISTINCT 'england', 'E92000001', 'England', NULL, NULL, period FROM core.practices;

-- Practice-level values: u is a per practice x indicator draw in [0, 1).
CREATE TABLE practice_values AS
WITH p AS (SELECT * FROM core.practices WHERE period = '2024-06'),
draws AS (
  SELECT p.*, ind.indicator_id, ind.domain, ind.cadence, ind.multiplier,
    CASE WHEN ind.cadence = 'annual' THEN '2023-24' ELSE '2024-06' END AS vperiod,
    ((hash(p.practice_code || ind.indicator_id) % 1000) / 1000.0)::DOUBLE AS u
  FROM p, core.indicators ind
)
SELECT *,
  CASE
    WHEN indicator_id LIKE 'qof_ach%' THEN round(list_size * 0.07)
    WHEN indicator_id = 'qof_prev_DM' THEN list_size * 0.8
    WHEN indicator_id LIKE 'pay_%_per_weighted' THEN weighted_list_size
    WHEN indicator_id = 'ref_isr_330' THEN list_size * 0.002
    ELSE list_size END AS denominator,
  CASE
    WHEN indicator_id LIKE 'qof_ach%' THEN round(list_size * 0.07 * (0.6 + 0.35 * u))
    WHEN indicator_id = 'qof_prev_DM' THEN round(list_size * 0.8 * (0.05 + 0.06 * (1 - imd_decile / 10.0) + 0.01 * u))
    WHEN indicator_id LIKE 'pay_total%' THEN round(list_size * (140 + 40 * u + 3 * imd_decile), 2)::DOUBLE
    WHEN indicator_id LIKE 'pay_global%' THEN round(list_size * (100 + 10 * u), 2)
    WHEN indicator_id = 'wf_gp_fte_per_10k' THEN round(list_size * (0.0004 + 0.0003 * u + 0.00003 * imd_decile), 2)
    WHEN indicator_id = 'ref_rate_per_1000' THEN round(list_size * (0.02 + 0.02 * u))
    WHEN indicator_id = 'ref_2ww_rate_per_1000' THEN round(list_size * (0.003 + 0.002 * u))
    ELSE round(list_size * 0.002 * (0.5 + u)) END AS numerator
FROM draws;

CREATE TABLE marts.indicator_values AS
WITH lvl AS (
  SELECT indicator_id, vperiod AS period, 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name,
    practice_code, pcn_code, sub_icb_code, icb_code, region_code, numerator, denominator, multiplier, imd_decile, u
  FROM practice_values
  UNION ALL
  SELECT indicator_id, vperiod, 'sub_icb', sub_icb_code, any_value(sub_icb_name), NULL, NULL, sub_icb_code, any_value(icb_code), any_value(region_code),
    sum(numerator), sum(denominator), any_value(multiplier), NULL, 0.5
  FROM practice_values GROUP BY ALL
  UNION ALL
  SELECT indicator_id, vperiod, 'icb', icb_code, any_value(icb_name), NULL, NULL, NULL, icb_code, any_value(region_code),
    sum(numerator), sum(denominator), any_value(multiplier), NULL, 0.5
  FROM practice_values GROUP BY ALL
  UNION ALL
  SELECT indicator_id, vperiod, 'england', 'E92000001', 'England', NULL, NULL, NULL, NULL, NULL,
    sum(numerator), sum(denominator), any_value(multiplier), NULL, 0.5
  FROM practice_values GROUP BY ALL
),
v AS (SELECT *, numerator / denominator * multiplier AS value FROM lvl),
eng AS (SELECT indicator_id, period, value AS england_value FROM v WHERE area_level = 'england'),
icb AS (SELECT indicator_id, period, area_code AS icb_code, value AS icb_value FROM v WHERE area_level = 'icb'),
sub AS (SELECT indicator_id, period, area_code AS sub_icb_code, value AS sub_icb_value FROM v WHERE area_level = 'sub_icb')
SELECT v.indicator_id, v.period, v.area_level, v.area_code, v.area_name, v.practice_code, v.pcn_code, v.sub_icb_code, v.icb_code, v.region_code,
  v.numerator, v.denominator, v.value,
  v.value * 0.95 AS lower95, v.value * 1.05 AS upper95, v.value * 0.9 AS lower998, v.value * 1.1 AS upper998,
  eng.england_value, icb.icb_value, sub.sub_icb_value,
  CASE WHEN v.area_level = 'england' THEN 'not compared'
       WHEN u < 0.12 THEN 'significantly lower' WHEN u > 0.88 THEN 'significantly higher' ELSE 'similar' END AS comparison,
  CASE WHEN v.area_level <> 'practice' THEN 'Not significant'
       WHEN u < 0.05 THEN 'Low (0.001)' WHEN u < 0.12 THEN 'Low (0.025)'
       WHEN u > 0.95 THEN 'High (0.001)' WHEN u > 0.88 THEN 'High (0.025)' ELSE 'Not significant' END AS funnel_significance,
  CASE WHEN v.area_level <> 'practice' THEN 'Not significant'
       WHEN u < 0.03 THEN 'Low (0.001)' WHEN u > 0.97 THEN 'High (0.001)' ELSE 'Not significant' END AS funnel_significance_od,
  eng.england_value * 0.97 AS funnel_lower95, eng.england_value * 1.03 AS funnel_upper95,
  eng.england_value * 0.94 AS funnel_lower998, eng.england_value * 1.06 AS funnel_upper998,
  v.imd_decile, eng.england_value AS peer_mean,
  greatest(0, (eng.england_value - v.value) / v.multiplier * v.denominator) AS opportunity,
  false AS suppressed,
  CAST(NULL AS VARCHAR) AS dq_flag
FROM v
JOIN eng USING (indicator_id, period)
LEFT JOIN icb ON icb.indicator_id = v.indicator_id AND icb.period = v.period AND icb.icb_code = v.icb_code
LEFT JOIN sub ON sub.indicator_id = v.indicator_id AND sub.period = v.period AND sub.sub_icb_code = v.sub_icb_code;

CREATE TABLE marts.inequality_deciles AS
SELECT indicator_id, vperiod AS period, 'england' AS area_level, 'E92000001' AS area_code, imd_decile,
  sum(numerator) AS numerator, sum(denominator) AS denominator,
  sum(numerator) / sum(denominator) * any_value(multiplier) AS value,
  sum(numerator) / sum(denominator) * any_value(multiplier) * 0.97 AS lower95,
  sum(numerator) / sum(denominator) * any_value(multiplier) * 1.03 AS upper95,
  count(*)::INTEGER AS practices
FROM practice_values GROUP BY ALL;

CREATE TABLE marts.inequality AS
SELECT d.indicator_id, d.period, d.area_level, d.area_code, 'England' AS area_name,
  (q5.v - q1.v) AS sii, (q5.v - q1.v) - 2 AS sii_lower, (q5.v - q1.v) + 2 AS sii_upper,
  q5.v / q1.v AS rii, q5.v / q1.v - 0.1 AS rii_lower, q5.v / q1.v + 0.1 AS rii_upper,
  q1.v AS q1_value, q5.v AS q5_value, q5.v - q1.v AS quintile_gap, q5.v / q1.v AS quintile_ratio
FROM (SELECT DISTINCT indicator_id, period, area_level, area_code FROM marts.inequality_deciles) d
JOIN (SELECT indicator_id, period, avg(value) AS v FROM marts.inequality_deciles WHERE imd_decile <= 2 GROUP BY ALL) q1 USING (indicator_id, period)
JOIN (SELECT indicator_id, period, avg(value) AS v FROM marts.inequality_deciles WHERE imd_decile >= 9 GROUP BY ALL) q5 USING (indicator_id, period);

CREATE TABLE marts.trends AS
WITH months AS (
  SELECT m::DATE AS month, strftime(m, '%Y-%m') AS period, row_number() OVER (ORDER BY m) AS k
  FROM range(DATE '2023-01-01', DATE '2024-07-01', INTERVAL 1 MONTH) r(m)
),
series AS (
  SELECT 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name, practice_code, list_size FROM core.practices WHERE period = '2024-06'
  UNION ALL SELECT 'england', 'E92000001', 'England', NULL, 300000
),
pts AS (
  SELECT 'ref_rate_per_1000' AS indicator_id, s.*, m.*,
    30 + (hash(s.area_code || m.period) % 100) / 20.0
       + CASE WHEN s.area_code IN ('P00003', 'P00011') AND m.k >= 17 THEN 20 ELSE 0 END AS value
  FROM series s, months m
)
SELECT indicator_id, area_level, area_code, area_name, practice_code, period, month, value,
  32.5::DOUBLE AS mean, 25.0::DOUBLE AS lpl, 40.0::DOUBLE AS upl, 27.5::DOUBLE AS near_lpl, 37.5::DOUBLE AS near_upl,
  CASE WHEN value > 40 THEN 'special_cause_neutral_high' ELSE 'common_cause' END AS point_type,
  CASE WHEN k = 18 THEN CASE WHEN value > 40 THEN 'special_cause_neutral_high' ELSE 'common_cause' END END AS variation_icon
FROM pts;

CREATE TABLE marts.area_summary AS
WITH pv AS (
  SELECT practice_code, pcn_code, sub_icb_code, icb_code, region_code, indicator_id, numerator, denominator,
    list_size, weighted_list_size, imd_score
  FROM practice_values
),
keyed AS (
  SELECT 'practice' AS area_level, practice_code AS area_code, * FROM pv
  UNION ALL SELECT 'pcn', pcn_code, * FROM pv
  UNION ALL SELECT 'sub_icb', sub_icb_code, * FROM pv
  UNION ALL SELECT 'icb', icb_code, * FROM pv
  UNION ALL SELECT 'region', region_code, * FROM pv
  UNION ALL SELECT 'england', 'E92000001', * FROM pv
)
SELECT k.area_level, k.area_code, a.area_name, '2024-06' AS period,
  count(DISTINCT practice_code)::INTEGER AS practices,
  (sum(list_size) FILTER (WHERE indicator_id = 'qof_ach_DM012'))::BIGINT AS list_size,
  sum(weighted_list_size) FILTER (WHERE indicator_id = 'qof_ach_DM012') AS weighted_list_size,
  '2023-24' AS qof_fy,
  100 * sum(numerator) FILTER (WHERE indicator_id LIKE 'qof_ach%') / sum(denominator) FILTER (WHERE indicator_id LIKE 'qof_ach%') AS qof_achievement_pct,
  500.0::DOUBLE AS qof_points_per_practice,
  '2023-24' AS payments_fy,
  sum(numerator) FILTER (WHERE indicator_id = 'pay_total_per_weighted') AS total_payments,
  sum(numerator) FILTER (WHERE indicator_id = 'pay_total_per_weighted') / sum(denominator) FILTER (WHERE indicator_id = 'pay_total_per_weighted') AS payments_per_weighted_patient,
  sum(numerator) FILTER (WHERE indicator_id = 'pay_total_per_registered') / sum(denominator) FILTER (WHERE indicator_id = 'pay_total_per_registered') AS payments_per_registered_patient,
  10000 * sum(numerator) FILTER (WHERE indicator_id = 'wf_gp_fte_per_10k') / sum(denominator) FILTER (WHERE indicator_id = 'wf_gp_fte_per_10k') AS gp_fte_per_10k,
  6.0::DOUBLE AS nurse_fte_per_10k, 4.0::DOUBLE AS dpc_fte_per_10k, 12.0::DOUBLE AS admin_fte_per_10k,
  (sum(numerator) FILTER (WHERE indicator_id = 'ref_rate_per_1000'))::BIGINT AS referrals,
  1000 * sum(numerator) FILTER (WHERE indicator_id = 'ref_rate_per_1000') / sum(denominator) FILTER (WHERE indicator_id = 'ref_rate_per_1000') AS referral_rate_per_1000,
  1000 * sum(numerator) FILTER (WHERE indicator_id = 'ref_2ww_rate_per_1000') / sum(denominator) FILTER (WHERE indicator_id = 'ref_2ww_rate_per_1000') AS twoww_rate_per_1000,
  avg(imd_score) FILTER (WHERE indicator_id = 'qof_ach_DM012') AS imd_score
FROM keyed k
JOIN core.areas a ON a.area_level = k.area_level AND a.area_code = k.area_code AND a.period = '2024-06'
GROUP BY ALL;

DROP TABLE practice_values;

-- Columns of the real marts the analyst views read.
ALTER TABLE marts.indicator_values ADD COLUMN peer_best_quartile DOUBLE;
ALTER TABLE marts.indicator_values ADD COLUMN opportunity_best_quartile DOUBLE;
UPDATE marts.indicator_values SET peer_best_quartile = england_value * 1.1,
  opportunity_best_quartile = greatest(0, (england_value * 1.1 - value) / 1000 * denominator);

-- Similar practices: each practice's 3 nearest by list-size rank within the period.
CREATE TABLE marts.peers AS
WITH r AS (SELECT period, practice_code, list_size, row_number() OVER (PARTITION BY period ORDER BY list_size, practice_code) AS k FROM core.practices)
SELECT a.period, a.practice_code, row_number() OVER (PARTITION BY a.period, a.practice_code ORDER BY abs(a.k - b.k), b.practice_code)::INTEGER AS rank,
  b.practice_code AS peer_code, abs(a.list_size - b.list_size) / 1000.0 AS distance
FROM r a JOIN r b ON a.period = b.period AND a.practice_code <> b.practice_code AND abs(a.k - b.k) <= 2
QUALIFY rank <= 3;

-- Investment against need (2023-24): payments per practice and area, the need model's outline.
CREATE TABLE marts.investment_need AS
WITH p AS (
  SELECT practice_code, practice_name, pcn_code, sub_icb_code, icb_code, region_code, imd_quintile, list_size, weighted_list_size,
    weighted_list_size * (1 + 0.33 * (5 - imd_quintile) / 4) AS need_raw,
    weighted_list_size * (140 + (CAST(substr(practice_code, 2) AS INTEGER) * 11) % 60) AS actual
  FROM core.practices WHERE period = '2024-06'
),
n AS (SELECT *, need_raw * sum(weighted_list_size) OVER () / sum(need_raw) OVER () AS need_patients FROM p),
lv AS (
  SELECT 'practice' AS area_level, practice_code AS area_code, practice_name AS area_name, 'icb' AS within_level, icb_code AS within_code, 1 AS practices, imd_quintile,
    actual, list_size, weighted_list_size, need_patients,
    sum(actual) OVER (PARTITION BY icb_code) * need_patients / sum(need_patients) OVER (PARTITION BY icb_code) AS expected
  FROM n
  UNION ALL
  SELECT 'icb', icb_code, 'ICB ' || icb_code, 'england', 'E92000001', count(*), NULL, sum(actual), sum(list_size), sum(weighted_list_size), sum(need_patients),
    sum(sum(actual)) OVER () * sum(need_patients) / sum(sum(need_patients)) OVER ()
  FROM n GROUP BY icb_code
  UNION ALL
  SELECT 'england', 'E92000001', 'England', 'england', 'E92000001', count(*), NULL, sum(actual), sum(list_size), sum(weighted_list_size), sum(need_patients), sum(actual)
  FROM n
)
SELECT '2023-24' AS period, 'payments' AS measure, '£ per patient' AS unit, 1.0 AS multiplier,
  area_level, area_code, area_name, within_level, within_code, CASE within_code WHEN 'E92000001' THEN 'England' ELSE 'ICB ' || within_code END AS within_name,
  practices::INTEGER AS practices, imd_quintile::INTEGER AS imd_quintile,
  actual, list_size::DOUBLE AS registered_patients, weighted_list_size AS weighted_patients, need_patients,
  actual / list_size AS per_registered_patient, actual / weighted_list_size AS per_weighted_patient, actual / need_patients AS per_need_patient,
  (need_patients / list_size) / (sum(need_patients) FILTER (WHERE area_level = 'england') OVER () / sum(list_size) FILTER (WHERE area_level = 'england') OVER ()) AS need_index,
  expected, actual - expected AS fair_share_gap, actual - expected * 1.05 AS fair_share_gap_lower, actual - expected * 0.95 AS fair_share_gap_upper,
  100 * (actual - expected) / expected AS fair_share_gap_pct, CAST(NULL AS VARCHAR) AS need_flag,
  -- every fixture practice is compared (sql/marts/investment_need.sql applies data/plausibility.csv)
  TRUE AS in_comparisons, CAST(NULL AS VARCHAR) AS dq_flag, practices::INTEGER AS practices_compared
FROM lv;

-- The inverse care law: payments per need-weighted patient by deprivation quintile and decile.
CREATE TABLE marts.inverse_care AS
WITH p AS (
  SELECT practice_code, imd_quintile, imd_decile, list_size, weighted_list_size,
    weighted_list_size * (1 + 0.33 * (5 - imd_quintile) / 4) AS need_patients,
    weighted_list_size * (140 + (CAST(substr(practice_code, 2) AS INTEGER) * 11) % 60) AS actual
  FROM core.practices WHERE period = '2024-06'
),
g AS (
  SELECT 'quintile' AS group_type, imd_quintile AS imd_group, * EXCLUDE (imd_quintile, imd_decile) FROM p
  UNION ALL SELECT 'decile', imd_decile, * EXCLUDE (imd_quintile, imd_decile) FROM p
),
a AS (SELECT group_type, imd_group, count(*) AS practices, sum(actual) AS actual, sum(list_size) AS registered_patients,
  sum(weighted_list_size) AS weighted_patients, sum(need_patients) AS need_patients FROM g GROUP BY ALL)
SELECT '2023-24' AS period, 'payments' AS measure, '£ per patient' AS unit, 1.0 AS multiplier,
  'england' AS area_level, 'E92000001' AS area_code, 'England' AS area_name, group_type, imd_group::INTEGER AS imd_group, practices::INTEGER AS practices,
  actual, registered_patients::DOUBLE AS registered_patients, weighted_patients, need_patients,
  actual / registered_patients AS per_registered_patient, actual / weighted_patients AS per_weighted_patient,
  actual / need_patients AS per_need_patient, actual / need_patients * 0.97 AS lower95, actual / need_patients * 1.03 AS upper95,
  (actual / need_patients) / (sum(actual) OVER (PARTITION BY group_type) / sum(need_patients) OVER (PARTITION BY group_type)) AS ratio_to_area
FROM a;

CREATE TABLE marts.inverse_care_index AS
SELECT period, measure, area_level, area_code,
  max(per_need_patient) FILTER (WHERE imd_group = 10) - max(per_need_patient) FILTER (WHERE imd_group = 1) AS sii,
  max(per_need_patient) FILTER (WHERE imd_group = 10) - max(per_need_patient) FILTER (WHERE imd_group = 1) - 5 AS sii_lower,
  max(per_need_patient) FILTER (WHERE imd_group = 10) - max(per_need_patient) FILTER (WHERE imd_group = 1) + 5 AS sii_upper,
  0.01::DOUBLE AS concentration_index, -0.01::DOUBLE AS concentration_index_lower, 0.03::DOUBLE AS concentration_index_upper,
  max(per_need_patient) FILTER (WHERE imd_group = 1) - max(per_need_patient) FILTER (WHERE imd_group = 5) AS quintile_gap,
  max(per_need_patient) FILTER (WHERE imd_group = 1) / max(per_need_patient) FILTER (WHERE imd_group = 5) AS quintile_ratio
FROM marts.inverse_care
WHERE group_type = 'decile' OR imd_group IN (1, 5)
GROUP BY ALL;

-- The release schema (sql/release): the marts under disclosure control, same tables and columns
-- plus flags. Here in outline: primary suppression of non-public counts 1..7 only, and
-- everything computed from a withheld count NULL with it.
CREATE SCHEMA release;
CREATE VIEW release.indicators AS SELECT * FROM core.indicators;
CREATE VIEW release.practices AS SELECT * FROM core.practices;
CREATE VIEW release.areas AS SELECT * FROM core.areas;
CREATE VIEW release.indicator_values AS
WITH w AS (
  SELECT v.*, NOT i.public AND v.numerator >= 1 AND v.numerator < 8 AS withheld
  FROM marts.indicator_values AS v JOIN core.indicators AS i USING (indicator_id)
)
SELECT w.* EXCLUDE (withheld) REPLACE (
    CASE WHEN withheld THEN NULL ELSE numerator END AS numerator,
    CASE WHEN withheld THEN NULL ELSE value END AS value,
    CASE WHEN withheld THEN NULL ELSE lower95 END AS lower95,
    CASE WHEN withheld THEN NULL ELSE upper95 END AS upper95,
    CASE WHEN withheld THEN NULL ELSE lower998 END AS lower998,
    CASE WHEN withheld THEN NULL ELSE upper998 END AS upper998,
    CASE WHEN withheld THEN 'not compared' ELSE comparison END AS comparison,
    CASE WHEN withheld THEN NULL ELSE funnel_significance END AS funnel_significance,
    CASE WHEN withheld THEN NULL ELSE funnel_significance_od END AS funnel_significance_od,
    CASE WHEN withheld THEN NULL ELSE opportunity END AS opportunity,
    CASE WHEN withheld THEN NULL ELSE opportunity_best_quartile END AS opportunity_best_quartile,
    suppressed OR withheld AS suppressed),
  withheld AS numerator_suppressed, withheld AS value_suppressed,
  CASE WHEN withheld THEN 'primary' END AS suppression_reason
FROM w;
CREATE VIEW release.inequality_deciles AS
WITH w AS (
  SELECT d.*, NOT i.public AND d.numerator >= 1 AND d.numerator < 8 AS withheld
  FROM marts.inequality_deciles AS d JOIN core.indicators AS i USING (indicator_id)
)
SELECT w.* EXCLUDE (withheld) REPLACE (
    CASE WHEN withheld THEN NULL ELSE numerator END AS numerator,
    CASE WHEN withheld THEN NULL ELSE value END AS value,
    CASE WHEN withheld THEN NULL ELSE lower95 END AS lower95,
    CASE WHEN withheld THEN NULL ELSE upper95 END AS upper95),
  withheld AS numerator_suppressed, withheld AS value_suppressed,
  CASE WHEN withheld THEN 'primary' END AS suppression_reason
FROM w;
CREATE VIEW release.inequality AS
WITH w AS (SELECT indicator_id, period, area_level, area_code, bool_or(numerator_suppressed) AS any_withheld
  FROM release.inequality_deciles GROUP BY ALL)
SELECT q.* REPLACE (
    CASE WHEN w.any_withheld THEN NULL ELSE q.sii END AS sii,
    CASE WHEN w.any_withheld THEN NULL ELSE q.sii_lower END AS sii_lower,
    CASE WHEN w.any_withheld THEN NULL ELSE q.sii_upper END AS sii_upper,
    CASE WHEN w.any_withheld THEN NULL ELSE q.rii END AS rii,
    CASE WHEN w.any_withheld THEN NULL ELSE q.rii_lower END AS rii_lower,
    CASE WHEN w.any_withheld THEN NULL ELSE q.rii_upper END AS rii_upper,
    CASE WHEN w.any_withheld THEN NULL ELSE q.q1_value END AS q1_value,
    CASE WHEN w.any_withheld THEN NULL ELSE q.q5_value END AS q5_value,
    CASE WHEN w.any_withheld THEN NULL ELSE q.quintile_gap END AS quintile_gap,
    CASE WHEN w.any_withheld THEN NULL ELSE q.quintile_ratio END AS quintile_ratio),
  coalesce(w.any_withheld, false) AS sii_suppressed, coalesce(w.any_withheld, false) AS quintiles_suppressed,
  CASE WHEN w.any_withheld THEN 'decile withheld' END AS suppression_reason
FROM marts.inequality AS q LEFT JOIN w USING (indicator_id, period, area_level, area_code);
-- the fixture's trend values are rates with no counts behind them: nothing withheld
CREATE VIEW release.trends AS
SELECT *, false AS value_suppressed, CAST(NULL AS VARCHAR) AS suppression_reason FROM marts.trends;
CREATE VIEW release.area_summary AS
WITH ref AS (SELECT period, area_level, area_code, numerator, value, value_suppressed, suppression_reason
  FROM release.indicator_values WHERE indicator_id = 'ref_rate_per_1000'),
ww AS (SELECT period, area_level, area_code, value, value_suppressed, suppression_reason
  FROM release.indicator_values WHERE indicator_id = 'ref_2ww_rate_per_1000')
SELECT s.* REPLACE (
    CASE WHEN ref.value_suppressed THEN NULL ELSE s.referrals END AS referrals,
    CASE WHEN ref.value_suppressed THEN NULL ELSE s.referral_rate_per_1000 END AS referral_rate_per_1000,
    CASE WHEN ww.value_suppressed THEN NULL ELSE s.twoww_rate_per_1000 END AS twoww_rate_per_1000),
  coalesce(ref.value_suppressed, false) AS referrals_suppressed,
  coalesce(ref.value_suppressed, false) AS referral_rate_per_1000_suppressed,
  coalesce(ww.value_suppressed, false) AS twoww_rate_per_1000_suppressed,
  coalesce(ref.suppression_reason, ww.suppression_reason) AS suppression_reason
FROM marts.area_summary AS s
LEFT JOIN ref ON ref.period = s.period AND ref.area_level = s.area_level AND ref.area_code = s.area_code
LEFT JOIN ww ON ww.period = s.period AND ww.area_level = s.area_level AND ww.area_code = s.area_code;

-- public marts passed through (sql/release/peers.sql, inverse_care*.sql, investment_need.sql)
CREATE VIEW release.peers AS SELECT * FROM marts.peers;
CREATE VIEW release.inverse_care AS SELECT * FROM marts.inverse_care;
CREATE VIEW release.inverse_care_index AS SELECT * FROM marts.inverse_care_index;
CREATE VIEW release.investment_need AS SELECT * FROM marts.investment_need;
