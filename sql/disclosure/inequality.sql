-- description: core.inequality under disclosure control, without area names (release.inequality adds them): for non-public indicators SII, RII and their limits are computed only from published deciles (release.inequality_deciles) and withheld (NULL, sii_suppressed) when any decile is; a quintile value is withheld when either of its deciles is (quintiles_suppressed).
-- incremental: period
-- unique: indicator_id, period, area_level, area_code
-- not_null: indicator_id, period, area_level, area_code, sii_suppressed, quintiles_suppressed
-- accepted_values: suppression_reason in ('decile withheld')
--
-- Public indicators pass through from core.inequality; the SQL below is core/inequality.sql
-- over the published deciles.
WITH public_rows AS (
    SELECT q.*, false AS sii_suppressed, false AS quintiles_suppressed, CAST(NULL AS VARCHAR) AS suppression_reason
    FROM core.inequality AS q
    SEMI JOIN core.indicators AS i ON i.indicator_id = q.indicator_id AND coalesce(i.public, false)
),
d AS (
    SELECT q.*, i.statistic, i.multiplier
    FROM release.inequality_deciles AS q
    JOIN core.indicators AS i USING (indicator_id)
    WHERE NOT coalesce(i.public, false)
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
        bool_or(numerator_suppressed) AS any_withheld,
        bool_or(numerator_suppressed) FILTER (WHERE imd_decile <= 2) AS q1_withheld,
        bool_or(numerator_suppressed) FILTER (WHERE imd_decile >= 9) AS q5_withheld,
        CASE WHEN NOT coalesce(bool_or(numerator_suppressed) FILTER (WHERE imd_decile <= 2), false) THEN
            sum(numerator) FILTER (WHERE imd_decile <= 2) / nullif(sum(denominator) FILTER (WHERE imd_decile <= 2), 0) * any_value(multiplier) END AS q1_value,
        CASE WHEN NOT coalesce(bool_or(numerator_suppressed) FILTER (WHERE imd_decile >= 9), false) THEN
            sum(numerator) FILTER (WHERE imd_decile >= 9) / nullif(sum(denominator) FILTER (WHERE imd_decile >= 9), 0) * any_value(multiplier) END AS q5_value
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
),
private_rows AS (
SELECT
    s.indicator_id, s.period, s.area_level, s.area_code,
    r.sii, r.sii_lower, r.sii_upper, r.rii, r.rii_lower, r.rii_upper,
    q1_value, q5_value,
    q1_value - q5_value AS quintile_gap,
    q1_value / nullif(q5_value, 0) AS quintile_ratio,
    CAST(deciles AS INTEGER) AS deciles,
    coalesce(any_withheld, false) AS sii_suppressed,
    coalesce(q1_withheld, false) OR coalesce(q5_withheld, false) AS quintiles_suppressed,
    CASE WHEN any_withheld THEN 'decile withheld' END AS suppression_reason
FROM s
)
SELECT * FROM public_rows
UNION ALL BY NAME
SELECT * FROM private_rows
