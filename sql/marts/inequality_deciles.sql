-- description: Indicator values by national deprivation decile of the practice (1 = most deprived) for England, each region and each ICB: summed numerators and denominators, value and 95% limits, and the number of practices.
-- incremental: period
-- unique: indicator_id, period, area_level, area_code, imd_decile
-- not_null: indicator_id, period, area_level, area_code, imd_decile, practices
-- accepted_values: area_level in ('icb', 'region', 'england')
-- range: imd_decile between 1 and 10
-- relationships: indicator_id -> core.indicators.indicator_id
--
-- Limits as in marts.indicator_values (Wilson, Byar's/exact). Value statistics (payments, FTE) have
-- no sampling model, so their decile limits are a normal interval from the spread of the decile's
-- practice values: value +/- 1.96 x SD / sqrt(practices). se_between (SD of the decile's practice
-- values / sqrt(practices)) is the between-practice standard error marts.inequality adds to the
-- sampling error for the SII/RII intervals. Practices not in comparisons (closed during the period,
-- implausible denominators: see marts.indicator_values) are left out.
WITH p AS (
    SELECT v.indicator_id, v.period, v.icb_code, v.region_code, v.imd_decile, v.numerator, v.denominator, v.value
    FROM core.indicator_values AS v
    WHERE v.area_level = 'practice' AND v.imd_decile IS NOT NULL AND v.denominator > 0 AND v.in_comparisons AND in_build(v.period)
),
d AS (
    SELECT indicator_id, period,
        CASE WHEN grouping(icb_code) = 0 THEN 'icb' WHEN grouping(region_code) = 0 THEN 'region' ELSE 'england' END AS area_level,
        CASE WHEN grouping(icb_code) = 0 THEN icb_code WHEN grouping(region_code) = 0 THEN region_code ELSE 'E92000001' END AS area_code,
        imd_decile,
        exact_sum(numerator) AS numerator, exact_sum(denominator) AS denominator,
        -- stddev_samp(value) from exact sums: the same bits every build (an ordered
        -- aggregate buffers every value and ran out of memory at England scale)
        CASE WHEN count(value) > 1 THEN sqrt(greatest(0, (exact_sum(value * value) - exact_sum(value) ^ 2 / count(value))
            / (count(value) - 1))) END AS sd,
        count(*) AS practices
    FROM p
    GROUP BY GROUPING SETS ((indicator_id, period, imd_decile, icb_code), (indicator_id, period, imd_decile, region_code),
        (indicator_id, period, imd_decile))
),
v AS (
    SELECT d.*, i.statistic, i.multiplier,
        usable_den(d.numerator, d.denominator, i.statistic) AS uden,
        d.numerator / d.denominator * i.multiplier AS value
    FROM d
    JOIN core.indicators AS i USING (indicator_id)
    WHERE d.area_code IS NOT NULL
)
SELECT
    indicator_id, period, area_level, area_code, CAST(imd_decile AS INTEGER) AS imd_decile,
    CAST(numerator AS DOUBLE) AS numerator, CAST(denominator AS DOUBLE) AS denominator, value,
    CASE statistic
        WHEN 'proportion' THEN wilson_lower(numerator, uden, 0.95) * multiplier
        WHEN 'rate' THEN rate_lower(numerator, uden, multiplier, 0.95)
        WHEN 'ratio' THEN isr_lower(numerator, uden, 0.95) * multiplier
        WHEN 'value' THEN value - 1.959964 * sd / sqrt(practices)
    END AS lower95,
    CASE statistic
        WHEN 'proportion' THEN wilson_upper(numerator, uden, 0.95) * multiplier
        WHEN 'rate' THEN rate_upper(numerator, uden, multiplier, 0.95)
        WHEN 'ratio' THEN isr_upper(numerator, uden, 0.95) * multiplier
        WHEN 'value' THEN value + 1.959964 * sd / sqrt(practices)
    END AS upper95,
    CAST(practices AS INTEGER) AS practices,
    sd / sqrt(practices) AS se_between
FROM v
