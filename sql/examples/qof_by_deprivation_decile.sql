-- How does QOF achievement vary with deprivation?
-- For each QOF achievement indicator in the latest financial year, the pooled achievement
-- (sum of numerators / sum of denominators) of practices in each national IMD decile
-- (1 = most deprived) with its 95% Wilson interval (wilson_lower/wilson_upper are gplens's
-- SQL functions), and the gap to the least deprived decile.
WITH latest AS (
    SELECT max(period) AS period FROM analyst.variation WHERE domain = 'qof'
),
by_decile AS (
    SELECT
        v.indicator_id,
        v.indicator_name,
        v.period,
        v.imd_decile,
        count(*) AS practices,
        sum(v.numerator) AS numerator,
        sum(v.denominator) AS denominator,
        100 * sum(v.numerator) / nullif(sum(v.denominator), 0) AS achievement_pct,
        100 * wilson_lower(sum(v.numerator), sum(v.denominator)) AS lower95,
        100 * wilson_upper(sum(v.numerator), sum(v.denominator)) AS upper95
    FROM analyst.variation AS v
    JOIN latest USING (period)
    WHERE v.area_level = 'practice'
      AND v.domain = 'qof'
      AND v.imd_decile IS NOT NULL
      AND NOT coalesce(v.suppressed, false)
    GROUP BY ALL
)
SELECT
    indicator_id,
    indicator_name,
    period,
    imd_decile,
    practices,
    round(achievement_pct, 1) AS achievement_pct,
    round(lower95, 1) AS lower95,
    round(upper95, 1) AS upper95,
    round(achievement_pct - max(achievement_pct) FILTER (WHERE imd_decile = 10)
        OVER (PARTITION BY indicator_id), 1) AS gap_to_least_deprived
FROM by_decile
ORDER BY indicator_id, imd_decile;
