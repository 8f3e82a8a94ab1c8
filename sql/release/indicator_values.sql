-- materialized: view
-- incremental: period
-- description: marts.indicator_values under disclosure control, the table readers and packs use: for non-public indicators (referrals) a withheld count (disclosure.cells) is NULL with numerator_suppressed and value_suppressed set and suppression_reason 'primary' or 'secondary', and so is everything computed from it; every statistic published beside it is computed from published counts only. The public indicators from core.indicator_values (flags false) and the others from disclosure.indicator_values (the rules are described there), with each area's current name.
--
-- Names are joined here rather than stored (see marts/indicator_values.sql); snapshots hold
-- this view's rows as a table.
-- The public indicators come unchanged from core.indicator_values (nothing of theirs is withheld),
-- the others from disclosure.indicator_values; the columns in core.indicator_values' order, the
-- disclosure flags after them.
WITH v AS (
    SELECT v.*, false AS numerator_suppressed, false AS value_suppressed, CAST(NULL AS VARCHAR) AS suppression_reason
    FROM core.indicator_values AS v
    SEMI JOIN core.indicators AS i ON i.indicator_id = v.indicator_id AND coalesce(i.public, false)
    UNION ALL BY NAME
    SELECT * FROM disclosure.indicator_values
)
SELECT v.indicator_id, v.period, v.area_level, v.area_code,
    coalesce(n.area_name, v.area_code) AS area_name,
    v.* EXCLUDE (indicator_id, period, area_level, area_code)
FROM v
LEFT JOIN core.current_names AS n ON n.area_level = v.area_level AND n.area_code = v.area_code
