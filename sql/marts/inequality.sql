-- description: Inequality by deprivation per indicator, area (England, region, ICB) and period: slope and relative indices of inequality (SII, RII) with 95% limits over the ten national deprivation deciles (most to least deprived), and the most- vs least-deprived quintile values, gap and ratio.
-- unique: indicator_id, period, area_level, area_code
-- not_null: indicator_id, period, area_level, area_code
-- accepted_values: area_level in ('icb', 'region', 'england')
-- relationships: indicator_id -> core.indicators.indicator_id
--
-- sii() (PHE's method): the deciles ordered from most to least deprived, weighted by their
-- denominators; limits from 1,000 simulations (seed 1, so reproducible). A positive SII means the
-- value rises as deprivation falls. Proportions and rates are simulated on the logit/log scale
-- where every decile's value and limits allow it, else on the natural scale. Computed only where
-- all ten deciles have a value and limits.
-- q1 is the most deprived quintile (deciles 1-2), q5 the least (9-10): value from summed
-- numerators and denominators; quintile_gap = q1 - q5, quintile_ratio = q1 / q5.
WITH d AS (
    SELECT q.*, i.statistic, i.multiplier
    FROM marts.inequality_deciles AS q
    JOIN core.indicators AS i USING (indicator_id)
),
g AS (
    SELECT indicator_id, period, area_level, area_code,
        any_value(statistic) AS statistic, any_value(multiplier) AS multiplier,
        count(*) AS deciles,
        bool_and(value IS NOT NULL AND lower95 IS NOT NULL AND upper95 IS NOT NULL AND lower95 <= upper95 AND denominator > 0) AS complete,
        list(value ORDER BY imd_decile) AS vals,
        list(denominator ORDER BY imd_decile) AS pops,
        list(lower95 ORDER BY imd_decile) AS lows,
        list(upper95 ORDER BY imd_decile) AS ups,
        bool_and(value > 0 AND lower95 > 0 AND (value < multiplier AND upper95 < multiplier)) AS inside_unit,
        bool_and(value > 0 AND lower95 > 0) AS positive,
        sum(numerator) FILTER (WHERE imd_decile <= 2) / nullif(sum(denominator) FILTER (WHERE imd_decile <= 2), 0) * any_value(multiplier) AS q1_value,
        sum(numerator) FILTER (WHERE imd_decile >= 9) / nullif(sum(denominator) FILTER (WHERE imd_decile >= 9), 0) * any_value(multiplier) AS q5_value
    FROM d
    GROUP BY indicator_id, period, area_level, area_code
),
s AS (
    SELECT g.*,
        CASE
            WHEN deciles <> 10 OR NOT complete THEN NULL
            WHEN statistic = 'proportion' AND inside_unit THEN
                sii(list_transform(vals, x -> x / multiplier), pops, list_transform(lows, x -> x / multiplier),
                    list_transform(ups, x -> x / multiplier), 2, multiplier, false, 0.95, 1000, 1)
            WHEN statistic IN ('rate', 'ratio') AND positive THEN
                sii(vals, pops, lows, ups, 1, 1.0, false, 0.95, 1000, 1)
            ELSE sii(vals, pops, lows, ups, 0, 1.0, false, 0.95, 1000, 1)
        END AS r
    FROM g
)
SELECT
    s.indicator_id, s.period, s.area_level, s.area_code,
    a.area_name,
    r.sii, r.sii_lower, r.sii_upper, r.rii, r.rii_lower, r.rii_upper,
    q1_value, q5_value,
    q1_value - q5_value AS quintile_gap,
    q1_value / nullif(q5_value, 0) AS quintile_ratio,
    CAST(deciles AS INTEGER) AS deciles
FROM s
LEFT JOIN (SELECT area_level, area_code, period, min(area_name) AS area_name FROM core.areas
           WHERE area_level IN ('icb', 'region', 'england') GROUP BY ALL) AS a
    USING (area_level, area_code, period)
