-- Which practices in my sub-ICB are outliers, and on what?
-- Practices outside the 99.8% funnel limits after adjusting for overdispersion, in the
-- latest period of each indicator, worst first, with how far they are from England.
-- Edit my_area: put your sub-ICB code in place of the subquery, e.g. SELECT '15N' AS sub_icb_code.
WITH my_area AS (
    SELECT min(sub_icb_code) AS sub_icb_code   -- the first sub-ICB, so the query runs as it is
    FROM analyst.practices
),
latest AS (
    SELECT indicator_id, max(period) AS period
    FROM analyst.variation
    GROUP BY indicator_id
)
SELECT
    v.sub_icb_code,
    v.practice_code,
    v.area_name AS practice_name,
    v.indicator_name,
    v.period,
    round(v.value, 1) AS value,
    round(v.england_value, 1) AS england_value,
    v.unit,
    v.funnel_significance_od,
    v.judgement_od
FROM analyst.variation AS v
JOIN latest USING (indicator_id, period)
JOIN my_area USING (sub_icb_code)
WHERE v.area_level = 'practice'
  AND v.outlier_99_8_od
  AND NOT coalesce(v.suppressed, false)
ORDER BY v.judgement_od = 'worse' DESC, v.indicator_name, v.practice_code;
