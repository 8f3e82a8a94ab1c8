-- materialized: view
-- incremental: period
-- description: marts.inequality under disclosure control: for non-public indicators SII, RII and their limits are computed only from published deciles (release.inequality_deciles) and withheld (NULL, sii_suppressed) when any decile is; a quintile value is withheld when either of its deciles is (quintiles_suppressed). disclosure.inequality with each area's current name.
SELECT q.indicator_id, q.period, q.area_level, q.area_code,
    coalesce(n.area_name, q.area_code) AS area_name,
    q.* EXCLUDE (indicator_id, period, area_level, area_code)
FROM disclosure.inequality AS q
LEFT JOIN core.current_names AS n ON n.area_level = q.area_level AND n.area_code = q.area_code
