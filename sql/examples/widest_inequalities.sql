-- Where are the widest inequalities by deprivation in England?
-- Indicators whose slope index of inequality is significant in the latest period, with the
-- gap between the most and least deprived quintiles and who fares worse, largest relative
-- gap first.
WITH latest AS (
    SELECT indicator_id, max(period) AS period FROM analyst.inequality GROUP BY indicator_id
)
SELECT
    q.indicator_name,
    q.period,
    q.unit,
    round(q.sii, 2) AS sii,
    round(q.sii_lower, 2) AS sii_lower,
    round(q.sii_upper, 2) AS sii_upper,
    round(q.rii, 3) AS rii,
    round(q.most_deprived_quintile_value, 2) AS most_deprived,
    round(q.least_deprived_quintile_value, 2) AS least_deprived,
    q.most_deprived_fare
FROM analyst.inequality AS q
JOIN latest USING (indicator_id, period)
WHERE q.area_level = 'england'
  AND q.significant
ORDER BY abs(ln(q.rii)) DESC NULLS LAST;
