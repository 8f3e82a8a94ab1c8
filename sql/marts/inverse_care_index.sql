-- description: Inverse care law indices by financial year, measure (payments, GP FTE, clinical FTE per need-weighted patient), and area (England, each region, each ICB): the slope index of inequality (SII) across the national deprivation deciles and the concentration index of the measure against deprivation, each with a 95% interval, and the most vs least deprived quintile values, gap and ratio.
-- incremental: period
-- unique: period, measure, area_level, area_code
-- not_null: period, measure, area_level, area_code, practices
-- accepted_values: area_level in ('icb', 'region', 'england')
-- range: concentration_index between -1 and 1
--
-- SII: sii() over the ten deciles of marts.inverse_care, most to least deprived, weighted by their
-- need-weighted patients, on the natural scale (value statistic), limits by 1,000 seeded
-- simulations from the decile intervals; only where all ten deciles have a value and interval.
-- A positive SII means funding (or staff) per need-weighted patient rises as deprivation falls:
-- the inverse care law. Concentration index: concentration_index() over the area's practices
-- ordered from most to least deprived (IMD score, then code), values per need-weighted patient,
-- weights need-weighted patients; positive = concentrated among the less deprived; 95% interval
-- from 1,000 seeded bootstrap resamples of practices. q1 = most deprived quintile, q5 = least.
-- Compared practices only (marts.investment_need.in_comparisons), as in marts.inverse_care.
WITH dec AS (
    SELECT period, measure, area_level, area_code,
        any_value(multiplier) AS multiplier,
        count(*) AS deciles,
        bool_and(per_need_patient IS NOT NULL AND lower95 IS NOT NULL AND upper95 IS NOT NULL AND need_patients > 0) AS complete,
        list(per_need_patient ORDER BY imd_group) AS vals,
        list(need_patients ORDER BY imd_group) AS pops,
        list(lower95 ORDER BY imd_group) AS lows,
        list(upper95 ORDER BY imd_group) AS ups
    FROM marts.inverse_care
    WHERE group_type = 'decile' AND in_build(period)
    GROUP BY ALL
),
quint AS (
    SELECT period, measure, area_level, area_code,
        max(per_need_patient) FILTER (WHERE imd_group = 1) AS q1_value,
        max(per_need_patient) FILTER (WHERE imd_group = 5) AS q5_value
    FROM marts.inverse_care
    WHERE group_type = 'quintile' AND in_build(period)
    GROUP BY ALL
),
prac AS (
    SELECT v.period, v.measure, c.icb_code, c.region_code, c.imd_score, v.area_code AS practice_code,
        v.per_need_patient, v.need_patients
    FROM marts.investment_need AS v
    JOIN core.practices AS c ON c.period = v.period AND c.practice_code = v.area_code
    WHERE v.area_level = 'practice' AND v.within_level = 'england' AND c.imd_score IS NOT NULL
      AND v.need_patients > 0 AND v.per_need_patient IS NOT NULL AND v.in_comparisons AND in_build(v.period)
),
conc AS (
    SELECT period, measure,
        CASE WHEN grouping(icb_code) = 0 THEN 'icb' WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END AS area_level,
        CASE WHEN grouping(icb_code) = 0 THEN icb_code WHEN grouping(region_code) = 0 THEN region_code ELSE 'E92000001' END AS area_code,
        count(*) AS practices,
        CASE WHEN count(*) >= 10 AND sum(per_need_patient * need_patients) > 0 THEN concentration_index(
            list(per_need_patient ORDER BY imd_score DESC, practice_code),
            list(need_patients ORDER BY imd_score DESC, practice_code), 0.95, 1000, 1) END AS c
    FROM prac
    GROUP BY GROUPING SETS ((period, measure, icb_code), (period, measure, region_code), (period, measure))
)
SELECT
    c.period, c.measure, c.area_level, c.area_code, n.area_name,
    CAST(c.practices AS INTEGER) AS practices,
    s.r.sii, s.r.sii_lower, s.r.sii_upper,
    c.c.ci AS concentration_index, c.c.ci_lower AS concentration_index_lower, c.c.ci_upper AS concentration_index_upper,
    q.q1_value, q.q5_value,
    q.q1_value - q.q5_value AS quintile_gap,
    q.q1_value / nullif(q.q5_value, 0) AS quintile_ratio
FROM conc AS c
LEFT JOIN (
    SELECT period, measure, area_level, area_code,
        CASE WHEN deciles = 10 AND complete THEN sii(vals, pops, lows, ups, 0, 1.0, false, 0.95, 1000, 1) END AS r
    FROM dec
) AS s USING (period, measure, area_level, area_code)
LEFT JOIN quint AS q USING (period, measure, area_level, area_code)
LEFT JOIN (SELECT area_level, area_code, period, min(area_name) AS area_name FROM core.areas GROUP BY ALL) AS n
    ON n.area_level = c.area_level AND n.area_code = c.area_code AND n.period = c.period
WHERE c.area_code IS NOT NULL
