-- materialized: view
-- description: Inequality by deprivation for each indicator, area and period: the slope and relative indices of inequality (SII, RII) with 95% intervals, the most and least deprived quintiles, and whether the most deprived fare worse.

-- SII and RII run from the most deprived to the least deprived end (a positive SII means
-- the value rises as deprivation falls). q1 is the most deprived quintile, q5 the least.
--   significant            the SII's 95% interval excludes 0
--   most_deprived_fare     'worse' / 'better' (indicators with a polarity), 'higher' / 'lower'
--                          (no polarity), 'no clear difference' when not significant
SELECT
    q.indicator_id,
    i.name AS indicator_name,
    i.domain,
    i.unit,
    i.polarity,
    q.period,
    q.area_level,
    q.area_code,
    q.area_name,
    q.sii,
    q.sii_lower,
    q.sii_upper,
    q.rii,
    q.rii_lower,
    q.rii_upper,
    q.q1_value AS most_deprived_quintile_value,
    q.q5_value AS least_deprived_quintile_value,
    q.quintile_gap,
    q.quintile_ratio,
    (q.sii_lower > 0 OR q.sii_upper < 0) AS significant,
    CASE
        WHEN q.sii_lower IS NULL OR q.sii_upper IS NULL THEN NULL
        WHEN NOT (q.sii_lower > 0 OR q.sii_upper < 0) THEN 'no clear difference'
        WHEN i.polarity = 'higher_is_better' THEN CASE WHEN q.sii > 0 THEN 'worse' ELSE 'better' END
        WHEN i.polarity = 'lower_is_better' THEN CASE WHEN q.sii > 0 THEN 'better' ELSE 'worse' END
        ELSE CASE WHEN q.sii > 0 THEN 'lower' ELSE 'higher' END
    END AS most_deprived_fare
FROM release.inequality AS q
LEFT JOIN release.indicators AS i USING (indicator_id)
