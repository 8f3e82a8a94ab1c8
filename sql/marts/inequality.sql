-- materialized: view
-- description: Inequality by deprivation per indicator, area (England, region, ICB) and period: slope and relative indices of inequality (SII, RII) with 95% limits over the ten national deprivation deciles (most to least deprived), and the most- vs least-deprived quintile values, gap and ratio. core.inequality (methods described there) with each area's current name.
SELECT q.indicator_id, q.period, q.area_level, q.area_code,
    coalesce(n.area_name, q.area_code) AS area_name,
    q.* EXCLUDE (indicator_id, period, area_level, area_code)
FROM core.inequality AS q
LEFT JOIN core.current_names AS n ON n.area_level = q.area_level AND n.area_code = q.area_code
