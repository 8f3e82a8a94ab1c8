-- Share of cells withheld per released table, by primary suppression alone and after secondary
-- suppression, for the non-public indicators (run: gplens sql --live -f scripts/disclosure-shares.sql).
WITH private AS (SELECT indicator_id FROM release.indicators WHERE NOT public)
SELECT 'indicator_values' AS release_table, count(*) AS cells,
    round(100.0 * count(*) FILTER (WHERE suppression_reason = 'primary') / count(*), 2) AS pct_primary_only,
    round(100.0 * count(*) FILTER (WHERE numerator_suppressed) / count(*), 2) AS pct_after_secondary
FROM release.indicator_values WHERE indicator_id IN (SELECT indicator_id FROM private) AND numerator IS NOT NULL OR numerator_suppressed
UNION ALL
SELECT 'indicator_values (practices)', count(*),
    round(100.0 * count(*) FILTER (WHERE suppression_reason = 'primary') / count(*), 2),
    round(100.0 * count(*) FILTER (WHERE numerator_suppressed) / count(*), 2)
FROM release.indicator_values WHERE indicator_id IN (SELECT indicator_id FROM private) AND area_level = 'practice'
UNION ALL
SELECT 'indicator_values (areas)', count(*),
    round(100.0 * count(*) FILTER (WHERE suppression_reason = 'primary') / count(*), 2),
    round(100.0 * count(*) FILTER (WHERE numerator_suppressed) / count(*), 2)
FROM release.indicator_values WHERE indicator_id IN (SELECT indicator_id FROM private) AND area_level <> 'practice'
UNION ALL
SELECT 'inequality_deciles', count(*),
    round(100.0 * count(*) FILTER (WHERE suppression_reason = 'primary') / count(*), 2),
    round(100.0 * count(*) FILTER (WHERE numerator_suppressed) / count(*), 2)
FROM release.inequality_deciles WHERE indicator_id IN (SELECT indicator_id FROM private)
UNION ALL
SELECT 'inequality (SII)', count(*),
    round(100.0 * count(*) FILTER (WHERE EXISTS (SELECT 1 FROM release.inequality_deciles d WHERE d.indicator_id = q.indicator_id
        AND d.period = q.period AND d.area_level = q.area_level AND d.area_code = q.area_code AND d.suppression_reason = 'primary')) / count(*), 2),
    round(100.0 * count(*) FILTER (WHERE sii_suppressed) / count(*), 2)
FROM release.inequality AS q WHERE indicator_id IN (SELECT indicator_id FROM private)
UNION ALL
SELECT 'trends', count(*),
    round(100.0 * count(*) FILTER (WHERE suppression_reason = 'primary') / count(*), 2),
    round(100.0 * count(*) FILTER (WHERE value_suppressed) / count(*), 2)
FROM release.trends WHERE indicator_id IN (SELECT indicator_id FROM private)
UNION ALL
SELECT 'area_summary (referrals)', count(*),
    round(100.0 * count(*) FILTER (WHERE referrals_suppressed AND suppression_reason = 'primary') / count(*), 2),
    round(100.0 * count(*) FILTER (WHERE referrals_suppressed) / count(*), 2)
FROM release.area_summary WHERE referrals IS NOT NULL OR referrals_suppressed
ORDER BY 1;
