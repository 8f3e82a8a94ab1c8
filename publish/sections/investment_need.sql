-- Section investment_need: investment against need, in the latest financial year available at the
-- pack's month (a year from its last month, March, on), per measure (payments, gp_fte, clinical_fte).
-- Two parts, one long table: part 'quintile', the value per need-weighted patient by national IMD
-- quintile of the practice (1 = most deprived) for England and the pack's area (marts.inverse_care
-- has England, regions and ICBs only); part 'practice', the fair-share gap of each of the area's
-- practices within the area, most under-funded first.
WITH fy AS (
    SELECT measure, max(period) AS period
    FROM {{schema}}.investment_need
    WHERE printf('%04d-03', TRY_CAST(substr(period, 1, 4) AS INTEGER) + 1) <= {{period}}
    GROUP BY measure
),
packs AS (
    SELECT DISTINCT pack_area FROM ({{members}}) WHERE area_level = {{level}} AND role = 'comparator'
),
quintiles AS (
    SELECT m.pack_area, 1 AS part_rank, 'quintile' AS part, q.period, q.measure, q.unit, q.area_level, q.area_code,
        coalesce(q.area_name, q.area_code) AS area_name, CAST(q.imd_group AS INTEGER) AS imd_quintile,
        CAST(NULL AS VARCHAR) AS within_level, CAST(NULL AS VARCHAR) AS within_code, CAST(q.practices AS INTEGER) AS practices,
        CAST(q.need_patients AS DOUBLE) AS need_patients, CAST(q.per_need_patient AS DOUBLE) AS per_need_patient,
        CAST(q.lower95 AS DOUBLE) AS lower95, CAST(q.upper95 AS DOUBLE) AS upper95, CAST(NULL AS DOUBLE) AS need_index,
        CAST(NULL AS DOUBLE) AS fair_share_gap, CAST(NULL AS DOUBLE) AS fair_share_gap_lower,
        CAST(NULL AS DOUBLE) AS fair_share_gap_upper, CAST(NULL AS DOUBLE) AS fair_share_gap_pct,
        m.level_rank AS rank1, CAST(q.imd_group AS DOUBLE) AS rank2
    FROM ({{members}}) AS m
    JOIN {{schema}}.inverse_care AS q ON q.area_level = m.area_level AND q.area_code = m.area_code
    JOIN fy ON fy.measure = q.measure AND fy.period = q.period
    WHERE m.role = 'comparator' AND m.area_level IN ('england', {{level}}) AND q.group_type = 'quintile'
),
gaps AS (
    SELECT p.pack_area, 2 AS part_rank, 'practice' AS part, v.period, v.measure, v.unit, v.area_level, v.area_code,
        coalesce(v.area_name, v.area_code) AS area_name, CAST(v.imd_quintile AS INTEGER) AS imd_quintile,
        v.within_level, v.within_code, CAST(v.practices AS INTEGER) AS practices,
        CAST(v.need_patients AS DOUBLE) AS need_patients, CAST(v.per_need_patient AS DOUBLE) AS per_need_patient,
        CAST(NULL AS DOUBLE) AS lower95, CAST(NULL AS DOUBLE) AS upper95, CAST(v.need_index AS DOUBLE) AS need_index,
        CAST(v.fair_share_gap AS DOUBLE) AS fair_share_gap, CAST(v.fair_share_gap_lower AS DOUBLE) AS fair_share_gap_lower,
        CAST(v.fair_share_gap_upper AS DOUBLE) AS fair_share_gap_upper, CAST(v.fair_share_gap_pct AS DOUBLE) AS fair_share_gap_pct,
        0 AS rank1, CAST(v.fair_share_gap AS DOUBLE) AS rank2
    FROM packs AS p
    JOIN {{schema}}.investment_need AS v ON v.within_level = {{level}} AND v.within_code = p.pack_area AND v.area_level = 'practice'
    JOIN fy ON fy.measure = v.measure AND fy.period = v.period
)
SELECT pack_area, part, period, measure, unit, area_level, area_code, area_name, imd_quintile, within_level, within_code,
    practices, need_patients, per_need_patient, lower95, upper95, need_index,
    fair_share_gap, fair_share_gap_lower, fair_share_gap_upper, fair_share_gap_pct
FROM (SELECT * FROM quintiles UNION ALL SELECT * FROM gaps)
ORDER BY pack_area, list_position(['payments', 'gp_fte', 'clinical_fte'], measure), part_rank, rank1, rank2 NULLS LAST, area_code
