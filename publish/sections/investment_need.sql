-- Section investment_need: investment against need, in the latest financial year available at the
-- pack's month (a year from its last month, March, on), per measure (payments, gp_fte, clinical_fte).
-- Two parts, one long table: part 'quintile', the value per need-weighted patient by national IMD
-- quintile of the practice (1 = most deprived) for England and the pack's area; part 'practice',
-- the fair-share gap of each of the area's practices within the area, most under-funded first,
-- with its similar practices' value (peers).
-- Quintiles: England's and a region's or ICB's are marts.inverse_care's; a level it does not have
-- (sub-ICB) gets the same figures from its practices here: the summed measure over the summed
-- need-weighted patients of its compared practices in each quintile, the interval from the ratio
-- estimator's standard error over them (marts.inverse_care's formula, with its exact sums: the same
-- figures whatever order the rows are added in).
-- Peers: the practice's similar practices in the year (marts.peers) that are compared for the
-- measure; peer_per_need_patient is their summed measure over their summed need-weighted patients,
-- peer_gap what the practice has above (below, negative) that rate for its own need-weighted
-- patients. None for a practice that is not compared.
WITH fy AS (
    SELECT measure, max(period) AS period
    FROM {{schema}}.investment_need
    WHERE printf('%04d-03', TRY_CAST(substr(period, 1, 4) AS INTEGER) + 1) <= {{period}}
    GROUP BY measure
),
packs AS (
    SELECT DISTINCT pack_area FROM ({{members}}) WHERE area_level = {{level}} AND role = 'comparator'
),
nat AS (
    -- every practice's figures in the year (within England: the need model is national)
    SELECT v.period, v.measure, v.multiplier, v.area_code AS practice_code, v.imd_quintile, v.actual,
        v.need_patients, v.in_comparisons
    FROM {{schema}}.investment_need AS v
    JOIN fy ON fy.measure = v.measure AND fy.period = v.period
    WHERE v.area_level = 'practice' AND v.within_level = 'england'
),
ic AS (
    SELECT m.pack_area, m.level_rank, q.period, q.measure, q.unit, q.area_level, q.area_code,
        coalesce(q.area_name, q.area_code) AS area_name, CAST(q.imd_group AS INTEGER) AS imd_quintile,
        CAST(q.practices AS INTEGER) AS practices, CAST(q.need_patients AS DOUBLE) AS need_patients,
        CAST(q.per_need_patient AS DOUBLE) AS per_need_patient, CAST(q.lower95 AS DOUBLE) AS lower95,
        CAST(q.upper95 AS DOUBLE) AS upper95
    FROM ({{members}}) AS m
    JOIN {{schema}}.inverse_care AS q ON q.area_level = m.area_level AND q.area_code = m.area_code
    JOIN fy ON fy.measure = q.measure AND fy.period = q.period
    WHERE m.role = 'comparator' AND m.area_level IN ('england', {{level}}) AND q.group_type = 'quintile'
),
own AS (
    -- the pack area's quintiles where marts.inverse_care has none at its level
    SELECT p.pack_area, v.period, v.measure, v.unit, v.within_level AS area_level, v.within_code AS area_code,
        coalesce(any_value(v.within_name), v.within_code) AS area_name, v.imd_quintile,
        count(*) AS practices, exact_sum(v.actual) AS actual, exact_sum(v.need_patients) AS need,
        any_value(v.multiplier) AS multiplier,
        exact_sum(v.actual * v.actual) AS syy, exact_sum(v.actual * v.need_patients) AS sxy,
        exact_sum(v.need_patients * v.need_patients) AS sxx
    FROM packs AS p
    JOIN {{schema}}.investment_need AS v ON v.within_level = {{level}} AND v.within_code = p.pack_area AND v.area_level = 'practice'
    JOIN fy ON fy.measure = v.measure AND fy.period = v.period
    WHERE v.in_comparisons AND v.imd_quintile IS NOT NULL
      AND NOT EXISTS (SELECT 1 FROM {{schema}}.inverse_care AS q WHERE q.area_level = {{level}} AND q.period = v.period)
    GROUP BY p.pack_area, v.period, v.measure, v.unit, v.within_level, v.within_code, v.imd_quintile
),
own_rates AS (
    SELECT o.*, actual / nullif(need, 0) AS r,
        CASE WHEN practices > 1 AND need > 0 THEN
            sqrt(greatest(0, syy - 2 * (actual / need) * sxy + (actual / need) * (actual / need) * sxx) / (practices * (practices - 1)))
            / (need / practices) END AS se
    FROM own AS o
),
quintiles AS (
    SELECT pack_area, 1 AS part_rank, 'quintile' AS part, period, measure, unit, area_level, area_code, area_name,
        imd_quintile, practices, need_patients, per_need_patient, lower95, upper95, level_rank AS rank1,
        CAST(imd_quintile AS DOUBLE) AS rank2
    FROM ic
    UNION ALL
    SELECT pack_area, 1, 'quintile', period, measure, unit, area_level, area_code, area_name,
        CAST(imd_quintile AS INTEGER), CAST(practices AS INTEGER), CAST(need AS DOUBLE), r * multiplier,
        (r - 1.959964 * se) * multiplier, (r + 1.959964 * se) * multiplier,
        list_position(['england', 'region', 'icb', 'sub_icb', 'pcn', 'practice'], area_level), CAST(imd_quintile AS DOUBLE)
    FROM own_rates
),
peer_pairs AS MATERIALIZED (
    -- each compared practice's similar practices in the year, per measure, found before their
    -- figures are joined: left to choose, DuckDB paired every practice with every other of the
    -- year and measure first (England, 60 months: 106 M rows, 60 s for the region packs)
    SELECT n.period, n.measure, pe.practice_code, pe.peer_code
    FROM {{schema}}.peers AS pe
    JOIN nat AS n ON n.period = pe.period AND n.practice_code = pe.practice_code
    WHERE n.in_comparisons
),
peer_rates AS (
    SELECT pp.measure, pp.practice_code, count(*) AS peer_practices,
        exact_sum(q.actual) / nullif(exact_sum(q.need_patients), 0) AS rate
    FROM peer_pairs AS pp
    JOIN nat AS q ON q.period = pp.period AND q.measure = pp.measure AND q.practice_code = pp.peer_code
    WHERE q.in_comparisons AND q.need_patients > 0
    GROUP BY pp.measure, pp.practice_code
),
gaps AS (
    SELECT p.pack_area, 2 AS part_rank, 'practice' AS part, v.period, v.measure, v.unit, v.area_level, v.area_code,
        coalesce(v.area_name, v.area_code) AS area_name, CAST(v.imd_quintile AS INTEGER) AS imd_quintile,
        v.within_level, v.within_code, CAST(v.practices AS INTEGER) AS practices,
        CAST(v.need_patients AS DOUBLE) AS need_patients, CAST(v.per_need_patient AS DOUBLE) AS per_need_patient,
        CAST(v.need_index AS DOUBLE) AS need_index,
        CAST(v.fair_share_gap AS DOUBLE) AS fair_share_gap, CAST(v.fair_share_gap_lower AS DOUBLE) AS fair_share_gap_lower,
        CAST(v.fair_share_gap_upper AS DOUBLE) AS fair_share_gap_upper, CAST(v.fair_share_gap_pct AS DOUBLE) AS fair_share_gap_pct,
        -- a practice not compared has no peer figures (in the CASEs, not the join: a condition on
        -- v alone in ON made the join a nested loop)
        CAST(CASE WHEN v.in_comparisons THEN pr.peer_practices END AS INTEGER) AS peer_practices,
        CAST(CASE WHEN v.in_comparisons THEN pr.rate * v.multiplier END AS DOUBLE) AS peer_per_need_patient,
        CAST(CASE WHEN v.in_comparisons THEN v.actual - pr.rate * v.need_patients END AS DOUBLE) AS peer_gap,
        v.in_comparisons, v.dq_flag,
        0 AS rank1, CAST(v.fair_share_gap AS DOUBLE) AS rank2
    FROM packs AS p
    JOIN {{schema}}.investment_need AS v ON v.within_level = {{level}} AND v.within_code = p.pack_area AND v.area_level = 'practice'
    JOIN fy ON fy.measure = v.measure AND fy.period = v.period
    LEFT JOIN peer_rates AS pr ON pr.measure = v.measure AND pr.practice_code = v.area_code
)
SELECT pack_area, part, period, measure, unit, area_level, area_code, area_name, imd_quintile, within_level, within_code,
    practices, need_patients, per_need_patient, lower95, upper95, need_index,
    fair_share_gap, fair_share_gap_lower, fair_share_gap_upper, fair_share_gap_pct,
    peer_practices, peer_per_need_patient, peer_gap, in_comparisons, dq_flag
FROM (
    SELECT *, CAST(NULL AS VARCHAR) AS within_level, CAST(NULL AS VARCHAR) AS within_code, CAST(NULL AS DOUBLE) AS need_index,
        CAST(NULL AS DOUBLE) AS fair_share_gap, CAST(NULL AS DOUBLE) AS fair_share_gap_lower,
        CAST(NULL AS DOUBLE) AS fair_share_gap_upper, CAST(NULL AS DOUBLE) AS fair_share_gap_pct,
        CAST(NULL AS INTEGER) AS peer_practices, CAST(NULL AS DOUBLE) AS peer_per_need_patient, CAST(NULL AS DOUBLE) AS peer_gap,
        CAST(NULL AS BOOLEAN) AS in_comparisons, CAST(NULL AS VARCHAR) AS dq_flag
    FROM quintiles
    UNION ALL BY NAME
    SELECT *, CAST(NULL AS DOUBLE) AS lower95, CAST(NULL AS DOUBLE) AS upper95 FROM gaps
)
ORDER BY pack_area, list_position(['payments', 'gp_fte', 'clinical_fte'], measure), part_rank, rank1, rank2 NULLS LAST, area_code
