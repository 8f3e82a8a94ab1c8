-- description: Indicator numerators and denominators for practices and every area (PCN, sub-ICB, ICB, region, England), with the indicator's statistic, the value, England's value and target, and the ICB and sub-ICB values; core.indicator_values adds the limits and funnels. No names (see core.indicator_facts). A table of its own so the England-scale build stays within memory.
-- incremental: period
-- unique: indicator_id, period, area_level, area_code
-- not_null: indicator_id, period, area_level, area_code, in_comparisons
-- accepted_values: area_level in ('practice', 'pcn', 'sub_icb', 'icb', 'region', 'england')
--
-- Area rows are sums of practice numerators and denominators (one GROUPING SETS pass), never
-- averages of practice rates. target: what funnels compare with (England's proportion or rate;
-- 1 for standardised ratios). Area rows count every practice (closed and implausible ones too), so
-- they equal the publisher's totals; in_comparisons (practices only) says whether a practice is
-- compared with others (see core.indicator_facts).
WITH area_rows AS (
    SELECT indicator_id, period,
        CASE WHEN grouping(pcn_code) = 0 THEN 'pcn' WHEN grouping(sub_icb_code) = 0 THEN 'sub_icb'
             WHEN grouping(icb_code) = 0 THEN 'icb' WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END AS area_level,
        CASE WHEN grouping(pcn_code) = 0 THEN pcn_code WHEN grouping(sub_icb_code) = 0 THEN sub_icb_code
             WHEN grouping(icb_code) = 0 THEN icb_code WHEN grouping(region_code) = 0 THEN region_code ELSE 'E92000001' END AS area_code,
        NULL AS practice_code,
        CASE WHEN grouping(pcn_code) = 0 THEN pcn_code END AS pcn_code,
        CASE WHEN grouping(pcn_code) = 0 THEN min(sub_icb_code) WHEN grouping(sub_icb_code) = 0 THEN sub_icb_code END AS sub_icb_code,
        CASE WHEN grouping(pcn_code) = 0 OR grouping(sub_icb_code) = 0 THEN min(icb_code) WHEN grouping(icb_code) = 0 THEN icb_code END AS icb_code,
        CASE WHEN grouping(region_code) = 0 THEN region_code WHEN grouping(pcn_code) = 0 OR grouping(sub_icb_code) = 0 OR grouping(icb_code) = 0 THEN min(region_code) END AS region_code,
        exact_sum(numerator) AS numerator, exact_sum(denominator) AS denominator,
        NULL AS imd_decile, NULL AS size_band, NULL AS dq_flag, count(*) AS practices
    FROM core.indicator_facts
    WHERE in_build(period)
    GROUP BY GROUPING SETS (
        (indicator_id, period, pcn_code), (indicator_id, period, sub_icb_code), (indicator_id, period, icb_code),
        (indicator_id, period, region_code), (indicator_id, period))
),
areas AS (
    SELECT a.*, i.statistic, i.multiplier,
        CASE WHEN a.denominator > 0 THEN a.numerator / a.denominator * i.multiplier END AS value
    FROM area_rows AS a
    JOIN core.indicators AS i USING (indicator_id)
    WHERE a.area_code IS NOT NULL
),
bench AS (
    SELECT indicator_id, period, value AS england_value,
        CASE statistic
            WHEN 'ratio' THEN 1.0
            WHEN 'proportion' THEN CASE WHEN numerator / denominator > 0 AND numerator / denominator < 1 THEN numerator / denominator END
            WHEN 'rate' THEN CASE WHEN numerator / denominator > 0 THEN numerator / denominator END
        END AS target
    FROM areas
    WHERE area_level = 'england'
),
all_rows AS (
    SELECT indicator_id, period, 'practice' AS area_level, practice_code AS area_code,
        practice_code, pcn_code, sub_icb_code, icb_code, region_code,
        numerator, denominator, imd_decile, size_band, dq_flag, 1 AS practices, in_comparisons
    FROM core.indicator_facts
    WHERE in_build(period)
    UNION ALL
    SELECT indicator_id, period, area_level, area_code, practice_code, pcn_code, sub_icb_code, icb_code, region_code,
        numerator, denominator, imd_decile, size_band, dq_flag, practices, true AS in_comparisons
    FROM areas
)
SELECT r.*, i.statistic, i.multiplier, i.polarity,
    CASE WHEN r.denominator > 0 THEN r.numerator / r.denominator * i.multiplier END AS value,
    usable_den(r.numerator, r.denominator, i.statistic) AS uden,
    b.england_value, b.target,
    icb.value AS icb_value,
    sub.value AS sub_icb_value
FROM all_rows AS r
JOIN core.indicators AS i USING (indicator_id)
LEFT JOIN bench AS b USING (indicator_id, period)
LEFT JOIN (SELECT indicator_id, period, area_code, value FROM areas WHERE area_level = 'icb') AS icb
    ON icb.indicator_id = r.indicator_id AND icb.period = r.period AND icb.area_code = r.icb_code
LEFT JOIN (SELECT indicator_id, period, area_code, value FROM areas WHERE area_level = 'sub_icb') AS sub
    ON sub.indicator_id = r.indicator_id AND sub.period = r.period AND sub.area_code = r.sub_icb_code
