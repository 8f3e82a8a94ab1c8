-- description: The inverse care law, by financial year: payments, GP FTE and clinical FTE per need-weighted patient by national deprivation quintile and decile of the practice (1 = most deprived), for England, each region and each ICB, with a 95% interval from the spread of the group's practices; every year in the lake (the payments files go back to 2014-15) gives the trend.
-- incremental: period
-- unique: period, measure, area_level, area_code, group_type, imd_group
-- not_null: period, measure, area_level, area_code, group_type, imd_group, practices
-- accepted_values: measure in ('payments', 'gp_fte', 'clinical_fte')
-- accepted_values: area_level in ('icb', 'region', 'england')
-- accepted_values: group_type in ('quintile', 'decile')
-- range: imd_group between 1 and 10
--
-- From the practice rows of marts.investment_need within England (need model there): value =
-- the group's summed actual / summed need-weighted patients x multiplier (£ per need-weighted
-- patient; FTE per 10,000), likewise per registered and per weighted patient. lower95/upper95:
-- value +/- 1.959964 x the ratio estimator's standard error over the group's practices,
-- sqrt(sum (y_i - R x_i)^2 / (n (n - 1))) / mean(x) with y the measure, x need-weighted patients,
-- R = sum y / sum x (a census has no sampling error; the interval says how firmly the practices'
-- spread places the group, each practice counting by its size, so a tiny list cannot swamp it).
-- ratio_to_area is the group's value over the area's.
-- Like marts.inequality_deciles, the groups hold the compared practices only (in_comparisons of
-- marts.investment_need: open all year, lists within data/plausibility.csv).
WITH p AS (
    SELECT v.period, v.measure, v.multiplier, v.area_code AS practice_code, c.icb_code, c.region_code,
        c.imd_decile, c.imd_quintile, v.actual, v.registered_patients, v.weighted_patients, v.need_patients,
        v.per_need_patient
    FROM marts.investment_need AS v
    JOIN core.practices AS c ON c.period = v.period AND c.practice_code = v.area_code
    WHERE v.area_level = 'practice' AND v.within_level = 'england' AND c.imd_decile IS NOT NULL AND v.in_comparisons
      AND in_build(v.period)
),
grp AS (
    SELECT p.*, gt.group_type, gt.imd_group
    FROM p, LATERAL (VALUES ('quintile', p.imd_quintile), ('decile', p.imd_decile)) AS gt(group_type, imd_group)
),
agg AS (
    SELECT period, measure, group_type, imd_group,
        CASE WHEN grouping(icb_code) = 0 THEN 'icb' WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END AS area_level,
        CASE WHEN grouping(icb_code) = 0 THEN icb_code WHEN grouping(region_code) = 0 THEN region_code ELSE 'E92000001' END AS area_code,
        any_value(multiplier) AS multiplier,
        count(*) AS practices,
        exact_sum(actual) AS actual, exact_sum(registered_patients) AS registered, exact_sum(weighted_patients) AS weighted,
        exact_sum(need_patients) AS need,
        -- for the ratio estimator's standard error
        exact_sum(actual * actual) AS syy, exact_sum(actual * need_patients) AS sxy, exact_sum(need_patients * need_patients) AS sxx
    FROM grp
    GROUP BY GROUPING SETS ((period, measure, group_type, imd_group, icb_code), (period, measure, group_type, imd_group, region_code),
        (period, measure, group_type, imd_group))
),
area AS (
    SELECT period, measure, area_level, area_code, group_type,
        exact_sum(actual) / nullif(exact_sum(need), 0) AS area_rate
    FROM agg WHERE area_code IS NOT NULL
    GROUP BY ALL
)
SELECT
    a.period, a.measure,
    CASE a.measure WHEN 'payments' THEN '£' ELSE 'FTE' END AS unit,
    a.multiplier,
    a.area_level, a.area_code, n.area_name,
    a.group_type, CAST(a.imd_group AS INTEGER) AS imd_group,
    CAST(a.practices AS INTEGER) AS practices,
    a.actual, a.registered AS registered_patients, a.weighted AS weighted_patients, a.need AS need_patients,
    a.actual / nullif(a.registered, 0) * a.multiplier AS per_registered_patient,
    a.actual / nullif(a.weighted, 0) * a.multiplier AS per_weighted_patient,
    a.actual / nullif(a.need, 0) * a.multiplier AS per_need_patient,
    (a.actual / nullif(a.need, 0) - 1.959964 * a.se) * a.multiplier AS lower95,
    (a.actual / nullif(a.need, 0) + 1.959964 * a.se) * a.multiplier AS upper95,
    (a.actual / nullif(a.need, 0)) / nullif(r.area_rate, 0) AS ratio_to_area
FROM (
    SELECT agg.*,
        CASE WHEN practices > 1 AND need > 0 THEN
            sqrt(greatest(0, syy - 2 * (actual / need) * sxy + (actual / need) * (actual / need) * sxx) / (practices * (practices - 1)))
            / (need / practices) END AS se
    FROM agg
) AS a
JOIN area AS r USING (period, measure, area_level, area_code, group_type)
LEFT JOIN (SELECT area_level, area_code, period, min(area_name) AS area_name FROM core.areas GROUP BY ALL) AS n
    ON n.area_level = a.area_level AND n.area_code = a.area_code AND n.period = a.period
WHERE a.area_code IS NOT NULL
