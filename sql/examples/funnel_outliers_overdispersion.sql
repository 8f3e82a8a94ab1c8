-- How many practice "outliers" survive an overdispersion adjustment?
-- For each indicator in its latest period: practices outside the plain 99.8% funnel limits,
-- those still outside after the overdispersion adjustment (the ones worth a conversation),
-- and the share that were artefacts of between-practice variation the plain funnel ignores.
WITH latest AS (
    SELECT indicator_id, max(period) AS period FROM analyst.variation GROUP BY indicator_id
)
SELECT
    v.indicator_id,
    v.indicator_name,
    v.period,
    count(*) AS practices,
    count(*) FILTER (WHERE v.outlier_99_8) AS outliers_plain,
    count(*) FILTER (WHERE v.outlier_99_8_od) AS outliers_overdispersed,
    count(*) FILTER (WHERE v.judgement_od = 'worse') AS worse,
    count(*) FILTER (WHERE v.judgement_od = 'better') AS better,
    round(100 * (1 - count(*) FILTER (WHERE v.outlier_99_8_od)
        / nullif(count(*) FILTER (WHERE v.outlier_99_8), 0)), 1) AS pct_plain_outliers_dropped
FROM analyst.variation AS v
JOIN latest USING (indicator_id, period)
WHERE v.area_level = 'practice'
  AND NOT coalesce(v.suppressed, false)
GROUP BY ALL
ORDER BY outliers_overdispersed DESC, v.indicator_id;
